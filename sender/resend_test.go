package sender_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
)

func TestResendAndReplace(t *testing.T) {
	e := mustEnv(t, envOptions{})
	ctx := t.Context()
	tr := e.submit(t, exampleInput())
	e.sendDue(t)
	e.respond(t, e.practiceInbox(t)[0], itk3.ResponseCode(20009))
	e.poll(t)
	e.mustState(t, tr.ID, sender.StateFailed)

	if _, err := e.svc.Resend(ctx, "no-such-id", "test"); !errors.Is(err, sender.ErrNotFound) {
		t.Fatalf("resend unknown: got %v, want ErrNotFound", err)
	}
	again, err := e.svc.Resend(ctx, tr.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == tr.ID || again.ResendOf != tr.ID || again.HeaderID != tr.HeaderID || again.State != sender.StateQueued {
		t.Fatalf("resend: got %+v", again)
	}
	if twice, err := e.svc.Resend(ctx, tr.ID, "test"); err != nil || twice.ID != again.ID {
		t.Fatalf("second resend: got %s, %v, want %s", twice.ID, err, again.ID)
	}
	if _, err := e.svc.Resend(ctx, again.ID, "test"); !errors.Is(err, sender.ErrConflict) {
		t.Fatalf("resend of a queued report: got %v, want ErrConflict", err)
	}
	e.sendDue(t)
	got := e.practiceInbox(t)
	if len(got) != 1 || got[0].headerID != tr.HeaderID {
		t.Fatalf("practice got %+v, want the same message again", got)
	}
	e.respond(t, got[0], itk3.ResponseCode(20013))
	e.respond(t, got[0], itk3.CodePatientKnown)
	e.poll(t)
	e.mustState(t, again.ID, sender.StateComplete)
	e.mustState(t, tr.ID, sender.StateFailed)

	// A corrected version replaces the delivered one (GPCM-SD-038/039).
	in := exampleInput()
	in.Sections[0].Text = "Three days of sore throat, no fever."
	rep, err := e.svc.Replace(ctx, again.ID, in, "test")
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReplacesID != again.ID || rep.Version != 2 || rep.DocumentID == "" || rep.DocumentID == again.DocumentID ||
		rep.HeaderID == again.HeaderID || rep.BundleID == again.BundleID || rep.SenderReference != again.SenderReference {
		t.Fatalf("replacement identifiers: got %+v, previous %+v", rep, again)
	}
	payload, _, err := e.store.Payload(ctx, rep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(payload, []byte("replaces")) || !bytes.Contains(payload, []byte(again.DocumentID)) {
		t.Fatal("GPCM-SD-038 replacement lacks relatesTo replaces → previous document identifier")
	}
	e.sendDue(t)
	if got := e.practiceInbox(t); len(got) != 1 || got[0].headerID != rep.HeaderID {
		t.Fatalf("practice got %+v, want the replacement", got)
	}
}

func TestAlertHooks(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "alerts.jsonl")
	var calls atomic.Int32
	var hookBody atomic.Value
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Authorization") != "Bearer hooktoken" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		hookBody.Store(b)
	}))
	t.Cleanup(web.Close)
	tests := []struct {
		name  string
		hook  sender.Hook
		check func(t *testing.T, a sender.Alert)
	}{
		{name: "command gets the alert as JSON on stdin", hook: sender.CommandHook{Path: "/bin/sh", Args: []string{"-c", "cat >> " + out}},
			check: func(t *testing.T, a sender.Alert) {
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				var got sender.Alert
				if err := json.Unmarshal(b, &got); err != nil || got.ID != a.ID || got.Reason != sender.ReasonNegativeInfAck {
					t.Fatalf("command got %s (%v)", b, err)
				}
			}},
		{name: "webhook retried until it takes the alert", hook: sender.WebhookHook{URL: web.URL, Token: "hooktoken"},
			check: func(t *testing.T, a sender.Alert) {
				b, _ := hookBody.Load().([]byte)
				if calls.Load() != 2 || !bytes.Contains(b, []byte(`"negative_infack"`)) || a.Attempts != 2 {
					t.Fatalf("webhook: %d calls, attempts %d, body %s", calls.Load(), a.Attempts, b)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEnv(t, envOptions{tweak: func(c *sender.Config) { c.Hook = tt.hook }})
			tr := e.submit(t, exampleInput())
			e.sendDue(t)
			e.respond(t, e.practiceInbox(t)[0], itk3.ResponseCode(20009))
			e.poll(t)
			for range 3 {
				_, _ = e.svc.DeliverAlerts(t.Context())
				e.clock.Advance(sender.DefaultBackoffMax)
			}
			as := e.alerts(t, tr.ID)
			if len(as) != 1 || as[0].Delivery != sender.DeliveryDelivered || as[0].DeliveredAt.IsZero() {
				t.Fatalf("alerts: %+v", as)
			}
			tt.check(t, as[0])
		})
	}
}

func TestAPI(t *testing.T) {
	e := mustEnv(t, envOptions{})
	srv := httptest.NewServer(e.svc.Handler("secret"))
	t.Cleanup(srv.Close)
	in, err := json.Marshal(exampleInput())
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, token string, body []byte) (int, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	var created sender.Transmission
	tests := []struct {
		name         string
		method, path string
		token        string
		body         []byte
		want         int
		contains     string
	}{
		{"no token", "GET", "/api/transmissions", "", nil, 401, "bearer"},
		{"wrong token", "GET", "/api/transmissions", "nope", nil, 401, "bearer"},
		{"submit", "POST", "/api/transmissions", "secret", in, 201, `"state": "queued"`},
		{"submit again", "POST", "/api/transmissions", "secret", in, 200, `"state": "queued"`},
		{"submit invalid", "POST", "/api/transmissions", "secret", []byte(`{"patient":{}}`), 422, "problems"},
		{"submit invalid names the fields", "POST", "/api/transmissions", "secret", []byte(`{"patient":{}}`), 422, `"field": "patient.family"`},
		{"submit garbage", "POST", "/api/transmissions", "secret", []byte(`hello`), 422, "neither JSON nor XML"},
		{"list", "GET", "/api/transmissions?state=queued", "secret", nil, 200, `"transmissions"`},
		{"get unknown", "GET", "/api/transmissions/nope", "secret", nil, 404, "not found"},
		{"alerts", "GET", "/api/alerts", "secret", nil, 200, `"alerts": []`},
		{"health", "GET", "/healthz", "", nil, 200, "ok"},
		{"metrics", "GET", "/metrics", "", nil, 200, `gpcm_sender_transmissions{state="queued"} 1`},
	}
	for _, tt := range tests {
		status, body := do(tt.method, tt.path, tt.token, tt.body)
		if status != tt.want || !strings.Contains(string(body), tt.contains) {
			t.Fatalf("%s: got %d %s, want %d containing %q", tt.name, status, body, tt.want, tt.contains)
		}
		if tt.name == "submit" {
			if err := json.Unmarshal(body, &created); err != nil {
				t.Fatal(err)
			}
		}
	}
	status, body := do("GET", "/api/transmissions/"+created.ID, "secret", nil)
	if status != 200 || !strings.Contains(string(body), `"events"`) || !strings.Contains(string(body), created.HeaderID) {
		t.Fatalf("get: %d %s", status, body)
	}
	if status, body := do("POST", "/api/transmissions/"+created.ID+"/resend", "secret", nil); status != 409 {
		t.Fatalf("resend of a queued report: got %d %s, want 409", status, body)
	}
	_ = senddoc.WorkflowV1
}
