package mesh_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshserver"
)

// Tracking timestamps come in two forms (digest §10.1): the v2 schema's
// date-time (ISO 8601, what gpcm's server and the NHS sandbox send) and
// yyyyMMddHHmmss (v1, older servers, and the specification's own v2
// example). The client reads both.

func TestParseTimestampForms(t *testing.T) {
	want := time.Date(2026, 12, 9, 17, 53, 1, 0, time.UTC)
	for _, tt := range []struct{ name, in string }{
		{"MESH-10.1 yyyyMMddHHmmss", "20261209175301"},
		{"MESH-10.1 RFC 3339 UTC", "2026-12-09T17:53:01Z"},
		{"MESH-10.1 ISO 8601 without zone (sandbox)", "2026-12-09T17:53:01"},
		{"MESH-10.1 RFC 3339 with offset", "2026-12-09T18:53:01+01:00"},
		{"MESH-10.1 RFC 3339 with fraction", "2026-12-09T17:53:01.000Z"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mesh.ParseTimestamp(tt.in)
			if err != nil || !got.Equal(want) {
				t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", tt.in, got, err, want)
			}
		})
	}
}

// compactTimestamps rewrites a v2 tracking answer as a server from before
// the schema's date-time would send it: every timestamp yyyyMMddHHmmss.
func compactTimestamps(t *testing.T, h http.Handler) hookFunc {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/outbox/tracking") {
			return false
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Errorf("tracking body %q: %v", rec.Body, err)
			return false
		}
		for _, k := range []string{"expiry_time", "upload_timestamp", "status_timestamp"} {
			if s, ok := body[k].(string); ok {
				ts, err := time.Parse(time.RFC3339, s)
				if err != nil {
					t.Errorf("server sent %s %q, not a date-time: %v", k, s, err)
				}
				body[k] = ts.Format(mesh.StatusTimestampLayout)
			}
		}
		b, _ := json.Marshal(body)
		w.Header().Set("Content-Type", mesh.MediaTypeV2)
		w.WriteHeader(rec.Code)
		_, _ = w.Write(b)
		return true
	}
}

func TestTrackTimestampForms(t *testing.T) {
	e := mustEnv(t, nil)
	before := time.Now().UTC().Truncate(time.Second)
	res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", Body: bytes.NewReader([]byte("x"))})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().UTC().Add(time.Second)
	for _, tt := range []struct {
		name    string
		old     bool
		pattern string
	}{
		{"MESH-10.1 date-time (this server)", false, "2006-01-02T15:04:05Z"},
		{"MESH-10.1 yyyyMMddHHmmss (older servers)", true, mesh.StatusTimestampLayout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.old {
				e.front.setHook(compactTimestamps(t, e.mesh.Admin))
				defer e.front.setHook(nil)
			}
			tr, err := e.a.Track(t.Context(), res.MessageID)
			if err != nil {
				t.Fatal(err)
			}
			for name, s := range map[string]string{"status_timestamp": tr.StatusTimestamp, "upload_timestamp": tr.UploadTimestamp, "expiry_time": tr.ExpiryTime} {
				if len(s) != len(tt.pattern) {
					t.Errorf("%s %q is not in the form %s", name, s, tt.pattern)
				}
				ts, err := mesh.ParseTimestamp(s)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				lo, hi := before, after
				if name == "expiry_time" {
					lo, hi = lo.Add(meshserver.DefaultExpiry), hi.Add(meshserver.DefaultExpiry)
				}
				if ts.Before(lo) || ts.After(hi) {
					t.Errorf("%s %q = %v, want between %v and %v", name, s, ts, lo, hi)
				}
			}
		})
	}
}
