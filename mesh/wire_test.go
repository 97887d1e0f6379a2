package mesh_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

func TestVersion(t *testing.T) {
	tests := []struct {
		name    string
		accept  string
		want    int
		wantErr bool
	}{
		{name: "absent is v1", accept: "", want: 1},
		{name: "json is v1", accept: "application/json", want: 1},
		{name: "v1", accept: mesh.MediaTypeV1, want: 1},
		{name: "v2", accept: mesh.MediaTypeV2, want: 2},
		{name: "v2 upper-case", accept: "Application/VND.MESH.V2+JSON", want: 2},
		{name: "v2 with charset", accept: "application/vnd.mesh.v2+json; charset=utf-8", want: 2},
		{name: "malformed", accept: "application/vnd.mesh.vX+json", wantErr: true},
		{name: "list with comma rejected", accept: "application/vnd.mesh.v2+json, application/json", wantErr: true},
		{name: "wildcard", accept: "*/*", want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mesh.Version(tt.accept)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %d, %v; want %d, err=%v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseChunkRange(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    mesh.ChunkRange
		wantErr bool
	}{
		{name: "empty is 1:1", in: "", want: mesh.ChunkRange{N: 1, Total: 1}},
		{name: "1:1", in: "1:1", want: mesh.ChunkRange{N: 1, Total: 1}},
		{name: "3:52", in: "3:52", want: mesh.ChunkRange{N: 3, Total: 52}},
		{name: "zero", in: "0:2", wantErr: true},
		{name: "n above total", in: "3:2", wantErr: true},
		{name: "negative", in: "-1:2", wantErr: true},
		{name: "no colon", in: "12", wantErr: true},
		{name: "too long", in: "1:1000000000000000000000", wantErr: true},
		{name: "spaces inside", in: "1 :2", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mesh.ParseChunkRange(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %v, %v; want %v, err=%v", got, err, tt.want, tt.wantErr)
			}
			if err == nil && tt.in != "" && got.String() != tt.in {
				t.Errorf("String: got %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestParseErrorBody(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   mesh.Error
	}{
		{name: "702 v2 unregistered", status: 417,
			body: `{"message_id":"20220228174323222_ABCDEF","internal_id":"x","detail":[{"event":"SEND","code":"12","msg":"Unregistered to address"}]}`,
			want: mesh.Error{Status: 417, Event: "SEND", Code: "12", Description: "Unregistered to address", MessageID: "20220228174323222_ABCDEF"}},
		{name: "704 v1 not found", status: 404,
			body: `{"errorEvent":"RECEIVE","errorCode":"20","errorDescription":"Message does not exist"}`,
			want: mesh.Error{Status: 404, Event: "RECEIVE", Code: "20", Description: "Message does not exist"}},
		{name: "v1 with messageID", status: 417,
			body: `{"messageID":"M1","errorEvent":"SEND","errorCode":"12","errorDescription":"Unregistered to address"}`,
			want: mesh.Error{Status: 417, Event: "SEND", Code: "12", Description: "Unregistered to address", MessageID: "M1"}},
		{name: "validation detail", status: 400, body: `{"detail":[{"loc":["header","mex-to"],"msg":"field required","type":"x"}]}`,
			want: mesh.Error{Status: 400, Description: "field required"}},
		{name: "xml 500", status: 500, body: `<soap:Fault/>`, want: mesh.Error{Status: 500}},
		{name: "empty 403", status: 403, want: mesh.Error{Status: 403}},
		{name: "generic message", status: 500, body: `{"message":"An internal error occurred.\n\nPlease contact support."}`,
			want: mesh.Error{Status: 500, Description: "An internal error occurred.  Please contact support."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mesh.ParseErrorBody(tt.status, []byte(tt.body))
			if *got != tt.want {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestErrorRoundTripAndMatching(t *testing.T) {
	for _, v := range []int{1, 2} {
		e := mesh.NewError(http.StatusExpectationFailed, mesh.EventSend, mesh.CodeUnregisteredRecipient)
		e.MessageID = "20240115103000123456_ABCDEF"
		rec := httptest.NewRecorder()
		mesh.WriteError(rec, v, e)
		got := mesh.ParseErrorBody(rec.Code, rec.Body.Bytes())
		if *got != *e {
			t.Errorf("v%d: got %+v, want %+v", v, *got, *e)
		}
	}
	var err error = &mesh.Error{Status: 404, Code: "20"}
	if !errors.Is(err, mesh.ErrNotFound) || errors.Is(err, mesh.ErrGone) {
		t.Errorf("404 matching wrong")
	}
	var me *mesh.Error
	if !errors.As(errors.Join(errors.New("x"), err), &me) || me.Code != "20" {
		t.Errorf("errors.As failed")
	}
	if !(&mesh.Error{Status: 503}).Temporary() || (&mesh.Error{Status: 417}).Temporary() {
		t.Errorf("Temporary wrong")
	}
}

func TestIDGenerator(t *testing.T) {
	var g mesh.IDGenerator
	now := time.Date(2020, 6, 1, 12, 21, 52, 994285000, time.UTC)
	id := g.New(now)
	if !strings.HasPrefix(id, "20200601122152994285_") || !mesh.IsLiveMessageID(id) {
		t.Fatalf("got %q", id)
	}
	if ts, ok := mesh.MessageIDTime(id); !ok || !ts.Equal(now) {
		t.Errorf("MessageIDTime: got %v %v, want %v", ts, ok, now)
	}
	// A stalled clock still yields unique, increasing IDs.
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 250 {
				id := g.New(now)
				mu.Lock()
				if seen[id[:20]] {
					t.Errorf("time part repeated: %s", id)
				}
				seen[id[:20]] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, tt := range []struct {
		id   string
		live bool
		ok   bool
	}{
		{"20220228174323222_ABCDEF", true, true},
		{"7AC2D1B0E4F94DAF9A6C2B1E0D3C4B5A", false, true},
		{"../etc", false, false},
		{"", false, false},
	} {
		if mesh.IsLiveMessageID(tt.id) != tt.live || mesh.ValidMessageID(tt.id) != tt.ok {
			t.Errorf("%q: live/valid wrong", tt.id)
		}
	}
}

func TestWorkflowFilter(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		wf     string
		want   bool
	}{
		{name: "equals", filter: "GPFED_CONSULT_REPORT", wf: "GPFED_CONSULT_REPORT", want: true},
		{name: "equals no", filter: "GPFED_CONSULT_REPORT", wf: "GPFED_CONSULT_REPORT_ACK"},
		{name: "not equals", filter: "!GPFED_CONSULT_REPORT", wf: "GPFED_CONSULT_REPORT_ACK", want: true},
		{name: "prefix", filter: "GPFED*", wf: "GPFED_CONSULT_REPORT_ACK", want: true},
		{name: "not prefix", filter: "!GPFED*", wf: "GPFED_X"},
		{name: "contains", filter: "*_ACK*", wf: "GPCONNECT_SEND_DOCUMENT_ACK", want: true},
		{name: "not contains", filter: "!*_ACK*", wf: "GPCONNECT_SEND_DOCUMENT_ACK"},
		{name: "not contains passes", filter: "!*_ACK*", wf: "GPCONNECT_SEND_DOCUMENT", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := mesh.ParseWorkflowFilter(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Match(tt.wf); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "A", "**", "!*", "A*B"} {
		if _, err := mesh.ParseWorkflowFilter(bad); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func TestReports(t *testing.T) {
	tests := []struct {
		name     string
		headers  map[string]string
		wantKind mesh.ReportKind
		wantCode string
	}{
		{name: "703 undelivered", headers: map[string]string{
			"mex-messagetype": "REPORT", "mex-messageid": "R1", "mex-linkedmsgid": "M1", "mex-statussuccess": "ERROR",
			"mex-statuscode": "14", "mex-statusevent": "SEND", "mex-statusdescription": "Message not collected by recipient after 5 days",
			"mex-statustimestamp": "20200601122152", "mex-chunk-range": "1:0"},
			wantKind: mesh.ReportUndelivered, wantCode: "14"},
		{name: "EPL-151 routing", headers: map[string]string{"mex-messagetype": "REPORT", "mex-linkedmsgid": "M2", "mex-statuscode": "EPL-151", "mex-statussuccess": "ERROR"},
			wantKind: mesh.ReportRouting, wantCode: "EPL-151"},
		{name: "EPL-154 routing", headers: map[string]string{"mex-messagetype": "report", "mex-linkedmsgid": "M2", "mex-statuscode": "EPL-154"},
			wantKind: mesh.ReportRouting, wantCode: "EPL-154"},
		{name: "sandbox undeliverable without code", headers: map[string]string{"mex-messagetype": "REPORT", "mex-statusdescription": "Message not collected by recipient after 5 days"},
			wantKind: mesh.ReportUndelivered},
		{name: "unregistered", headers: map[string]string{"mex-messagetype": "REPORT", "mex-statuscode": "12"}, wantKind: mesh.ReportUnregistered, wantCode: "12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			m, err := mesh.ParseMessageHeaders(h)
			if err != nil {
				t.Fatal(err)
			}
			r, ok := m.Report()
			if !ok || r.Kind != tt.wantKind || r.StatusCode != tt.wantCode || r.StatusSuccess {
				t.Errorf("got %+v ok=%v, want kind %v code %q", r, ok, tt.wantKind, tt.wantCode)
			}
			if r.LinkedMessageID != tt.headers["mex-linkedmsgid"] {
				t.Errorf("linked: got %q", r.LinkedMessageID)
			}
		})
	}
	h := http.Header{}
	h.Set("Mex-MessageType", "DATA")
	h.Set("Mex-Chunk-Range", "2:3")
	h.Set("Content-Encoding", "gzip")
	m, err := mesh.ParseMessageHeaders(h)
	if err != nil || m.IsReport() || m.Chunk != (mesh.ChunkRange{N: 2, Total: 3}) || m.ContentEncoding != "gzip" {
		t.Errorf("data: got %+v, %v", m, err)
	}
	if _, ok := m.Report(); ok {
		t.Errorf("DATA parsed as report")
	}
	h.Set("Content-Encoding", "br")
	if _, err := mesh.ParseMessageHeaders(h); err == nil {
		t.Errorf("br accepted")
	}
}

func TestBodiesJSONNames(t *testing.T) {
	b, _ := json.Marshal(mesh.InboxResponse{Messages: []string{"a"}, Links: mesh.Links{Self: "/s", Next: "/n"}, ApproxInboxCount: 3})
	if string(b) != `{"messages":["a"],"links":{"self":"/s","next":"/n"},"approx_inbox_count":3}` {
		t.Errorf("inbox: %s", b)
	}
	b, _ = json.Marshal(mesh.SendResponse{MessageID: "X"})
	if string(b) != `{"message_id":"X"}` {
		t.Errorf("send: %s", b)
	}
	var tr mesh.Tracking
	spec := `{"message_id":"20210311101813838554_1B8F53","local_id":"l","workflow_id":"API-DOCS-TEST","filename":"message.txt.gz","expiry_time":"20200606122153","upload_timestamp":"20200601122152","recipient":"X26HC005","recipient_name":"APIM bebop","recipient_ods_code":"X26","recipient_org_code":"TestOrg","recipient_org_name":"TEST Org Partnership Trust","status_success":true,"status":"accepted","status_event":"TRANSFER","status_timestamp":"2020-06-01T12:21:52","status_description":"Success","status_code":"01"}`
	if err := json.Unmarshal([]byte(spec), &tr); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(tr)
	if string(b) != spec {
		t.Errorf("tracking round trip:\n got %s\nwant %s", b, spec)
	}
	for _, ts := range []string{tr.ExpiryTime, tr.StatusTimestamp} {
		if _, err := mesh.ParseTimestamp(ts); err != nil {
			t.Error(err)
		}
	}
}

func FuzzParseChunkRange(f *testing.F) {
	for _, s := range []string{"1:1", "3:52", "", "0:0", "9999999999999999999:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := mesh.ParseChunkRange(s)
		if err == nil && (r.N < 1 || r.N > r.Total) {
			t.Fatalf("%q parsed to %v", s, r)
		}
	})
}

func FuzzParseErrorBody(f *testing.F) {
	f.Add(`{"detail":[{"event":"SEND","code":"12","msg":"x"}]}`)
	f.Add(`{"errorEvent":"RECEIVE","errorCode":"20","errorDescription":"x"}`)
	f.Add(`{"detail":"text"}`)
	f.Fuzz(func(t *testing.T, body string) {
		e := mesh.ParseErrorBody(500, []byte(body))
		if strings.ContainsAny(e.Error(), "\n\r") {
			t.Fatalf("error text has a newline: %q", e.Error())
		}
	})
}

func FuzzParseMessageHeaders(f *testing.F) {
	f.Add("REPORT", "1:0", "", "14", "20200601122152", "gzip")
	f.Add("DATA", "2:3", "M", "00", "2020-06-01T12:21:52", "")
	f.Fuzz(func(t *testing.T, typ, cr, linked, code, ts, enc string) {
		h := http.Header{}
		h.Set(mesh.HeaderMessageType, typ)
		h.Set(mesh.HeaderChunkRange, cr)
		h.Set(mesh.HeaderLinkedMsgID, linked)
		h.Set(mesh.HeaderStatusCode, code)
		h.Set(mesh.HeaderStatusTimestamp, ts)
		h.Set(mesh.HeaderContentEncoding, enc)
		m, err := mesh.ParseMessageHeaders(h)
		if err == nil && (m.Chunk.N < 1 || m.Chunk.N > m.Chunk.Total) {
			t.Fatalf("bad chunk %v", m.Chunk)
		}
		_, _ = m.Report()
	})
}

func FuzzVersion(f *testing.F) {
	f.Add(mesh.MediaTypeV2)
	f.Add("application/json")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := mesh.Version(s)
		if err == nil && v < 1 {
			t.Fatalf("%q: version %d", s, v)
		}
	})
}
