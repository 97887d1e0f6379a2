package meshserver_test

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshtest"
)

// Each test below checks one behaviour of live MESH over loopback HTTPS,
// with the status code live MESH answers (see shared/spec/mesh-api.md).

func TestHandshake(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	c := newClient(t, srv, "X26ABC1")
	hs := map[string]string{"Mex-ClientVersion": "gpcm==test", "Mex-OSName": "Linux", "Mex-OSVersion": "6"}
	r := c.do("POST", "/messageexchange/X26ABC1", hs, nil)
	wantStatus(t, "v2 handshake", r, http.StatusOK)
	if len(r.body) != 0 || r.header.Get("Content-Type") != "" {
		t.Fatalf("v2 handshake: got body %q type %q, want an empty body without a type", r.body, r.header.Get("Content-Type"))
	}
	c.accept = "application/json"
	r = c.do("POST", "/messageexchange/x26abc1", hs, nil)
	wantStatus(t, "v1 handshake (lower-case mailbox)", r, http.StatusOK)
	if got := r.json(t)["mailboxId"]; got != "X26ABC1" {
		t.Fatalf("v1 handshake: got mailboxId %v", got)
	}
	c.accept = v2
	r = c.do("POST", "/messageexchange/X26ABC1", nil, nil)
	wantStatus(t, "handshake without Mex-ClientVersion", r, http.StatusBadRequest)
}

func TestAuthFailures(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	c := newClient(t, srv, "X26ABC1")
	inbox := "/messageexchange/X26ABC1/inbox"
	tests := []struct {
		name string
		auth func() string
	}{
		{"missing header", func() string { return "" }},
		{"wrong HMAC", func() string { return token("X26ABC1", "wrong-password", srv.SharedKey, time.Now()) }},
		{"wrong shared key", func() string { return token("X26ABC1", "password", "OtherKey", time.Now()) }},
		{"stale timestamp", func() string { return token("X26ABC1", "password", srv.SharedKey, time.Now().Add(-3*time.Hour)) }},
		{"future timestamp", func() string { return token("X26ABC1", "password", srv.SharedKey, time.Now().Add(3*time.Hour)) }},
		{"other mailbox token", func() string { return token("X26ABC2", "password", srv.SharedKey, time.Now()) }},
		{"no scheme", func() string {
			return strings.TrimPrefix(token("X26ABC1", "password", srv.SharedKey, time.Now()), "NHSMESH ")
		}},
		{"four fields", func() string { return "NHSMESH X26ABC1:nonce:0:202601011200" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do("GET", inbox, map[string]string{"Authorization": tt.auth()}, nil)
			wantStatus(t, tt.name, r, http.StatusForbidden)
		})
	}
}

func TestAuthReusedNonce(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	c := newClient(t, srv, "X26ABC1")
	tok := token("X26ABC1", "password", srv.SharedKey, time.Now())
	r := c.do("GET", "/messageexchange/X26ABC1/inbox", map[string]string{"Authorization": tok}, nil)
	wantStatus(t, "first use", r, http.StatusOK)
	r = c.do("GET", "/messageexchange/X26ABC1/inbox", map[string]string{"Authorization": tok}, nil)
	wantStatus(t, "second use of the same token", r, http.StatusForbidden)
}

func TestAuthTimestampWithinWindow(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	c := newClient(t, srv, "X26ABC1")
	c.tokenTime = time.Now().Add(-100 * time.Minute)
	wantStatus(t, "token 100 minutes old", c.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusOK)
}

func TestAuthDisabledMailbox(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	c := newClient(t, srv, "X26ABC1")
	if err := srv.Store.SetMailboxActive(t.Context(), "X26ABC1", false); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "disabled mailbox", c.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusForbidden)
}

func TestMutualTLS(t *testing.T) {
	srv := newServer(t, meshtest.Options{MutualTLS: true})
	c := newClient(t, srv, "X26ABC1")
	wantStatus(t, "with client certificate", c.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusOK)

	c.http = srv.Client()
	wantStatus(t, "missing client certificate", c.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusForbidden)

	c.http = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool(),
		Certificates: []tls.Certificate{srv.ClientCert(t, "X26ABC2")}}}}
	wantStatus(t, "certificate of another mailbox", c.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusForbidden)

	c.http = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool(),
		Certificates: []tls.Certificate{srv.ClientCert(t, "X26ABC1.X26.api.mesh-client.nhs.uk")}}}}
	wantStatus(t, "CN in the NHS form", c.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusOK)
}

func TestBadAcceptHeader(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	c := newClient(t, srv, "X26ABC1")
	c.accept = "application/vnd.mesh.vX+json"
	wantStatus(t, "malformed vnd.mesh media type", c.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusBadRequest)
}

func TestLowerCaseHeaders(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	c := newClient(t, srv, "X26ABC1")
	// Request header names in lower case, as some clients send them.
	req := httptest.NewRequest("POST", "/messageexchange/X26ABC1/outbox", strings.NewReader("x"))
	req.Header["authorization"] = []string{token("X26ABC1", "password", srv.SharedKey, time.Now())}
	req.Header["accept"] = []string{v2}
	req.Header["mex-to"] = []string{"X26ABC2"}
	req.Header["mex-workflowid"] = []string{"WF"}
	// net/http canonicalises incoming names; emulate the server side.
	for k, v := range req.Header {
		delete(req.Header, k)
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	rec := httptest.NewRecorder()
	srv.Admin.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("send with lower-case headers: got %d %s", rec.Code, rec.Body)
	}
	var body struct {
		MessageID string `json:"message_id"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	dl := httptest.NewRequest("GET", "/messageexchange/X26ABC2/inbox/"+strings.ToLower(body.MessageID), nil)
	dl.Header.Set("Authorization", token("X26ABC2", "password", srv.SharedKey, time.Now()))
	rec = httptest.NewRecorder()
	srv.Admin.ServeHTTP(rec, dl)
	if rec.Code != http.StatusOK {
		t.Fatalf("download by lower-case id: got %d", rec.Code)
	}
	// Live MESH writes its header names in lower case; the recorder keeps
	// names as the handler wrote them.
	if !slices.Contains(slices.Collect(maps.Keys(rec.Header())), "mex-messageid") {
		t.Fatalf("response headers not lower-case: %v", rec.Header())
	}
	_ = c
}

func TestMessageIDFormat(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	id := newClient(t, srv, "X26ABC1").mustSend("X26ABC2", "WF", []byte("x"), nil)
	if len(id) != 27 || id[20] != '_' || strings.Trim(id[:20], "0123456789") != "" || strings.Trim(id[21:], "0123456789ABCDEF") != "" {
		t.Fatalf("message id %q is not yyyyMMddHHmmssffffff_XXXXXX", id)
	}
}

func TestVersion1Shapes(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	a, b := newClient(t, srv, "X26ABC1"), newClient(t, srv, "X26ABC2")
	a.accept, b.accept = "application/json", ""
	r := a.send("X26ABC2", "WF", []byte("v1"), nil)
	wantStatus(t, "v1 send", r, http.StatusAccepted)
	id, _ := r.json(t)["messageID"].(string)
	if id == "" {
		t.Fatalf("v1 send: no messageID in %s", r.body)
	}
	r = b.do("GET", "/messageexchange/X26ABC2/inbox", nil, nil)
	if m := r.json(t); m["links"] != nil || len(m["messages"].([]any)) != 1 {
		t.Fatalf("v1 inbox: got %s", r.body)
	}
	r = b.do("PUT", "/messageexchange/X26ABC2/inbox/"+id+"/status/acknowledged", nil, nil)
	if r.json(t)["messageId"] != id {
		t.Fatalf("v1 ack: got %s", r.body)
	}
	r = a.send("NOPE123", "WF", []byte("x"), nil)
	if m := r.json(t); m["errorCode"] != "12" || m["errorEvent"] != "SEND" || m["messageID"] == nil {
		t.Fatalf("v1 error body: got %s", r.body)
	}
}

func TestSendErrors(t *testing.T) {
	srv := newServer(t, meshtest.Options{MaxRequestBytes: 1000, Mailboxes: []meshtest.Mailbox{
		{ID: "X26ABC1", Password: "password", ODSCode: "X26", Workflows: []string{"WF", "WF_ACK"}},
		{ID: "X26ABC2", Password: "password", ODSCode: "X26", Workflows: []string{"WF_ACK"}},
		{ID: "X26ABC3", Password: "password", ODSCode: "X26"},
		{ID: "X26OFF1", Password: "password", ODSCode: "X26"},
	}})
	if err := srv.Store.SetMailboxActive(t.Context(), "X26OFF1", false); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv, "X26ABC1")
	tests := []struct {
		name   string
		to, wf string
		body   string
		hdr    map[string]string
		status int
		code   string
	}{
		{"unknown recipient", "NOPE123", "WF", "x", nil, 417, "12"},
		{"disabled recipient", "X26OFF1", "WF", "x", nil, 417, "12"},
		{"empty body", "X26ABC3", "WF", "", nil, 417, "02"},
		{"missing Mex-To", "", "WF", "x", nil, 417, "08"},
		{"missing Mex-WorkflowID", "X26ABC3", "", "x", nil, 400, "06"},
		{"Mex-From is another mailbox", "X26ABC3", "WF", "x", map[string]string{"Mex-From": "X26ABC2"}, 417, "07"},
		{"sender not registered for workflow", "X26ABC3", "OTHER", "x", nil, 417, "16"},
		{"recipient not registered for workflow", "X26ABC2", "WF", "x", nil, 417, "17"},
		{"URL in Mex-To", "https://example.org", "WF", "x", nil, 400, "06"},
		{"unsupported Content-Encoding", "X26ABC3", "WF", "x", map[string]string{"Content-Encoding": "br"}, 422, "UnsupportedContentEncoding"},
		{"bad checksum", "X26ABC3", "WF", "x", map[string]string{"Mex-Content-Checksum": "md5=abc!"}, 400, "Invalid checksum"},
		{"bad chunk range", "X26ABC3", "WF", "x", map[string]string{"Mex-Chunk-Range": "2:1"}, 417, "InvalidHeaderChunks"},
		{"first chunk not 1", "X26ABC3", "WF", "x", map[string]string{"Mex-Chunk-Range": "2:3"}, 417, "InvalidHeaderChunks"},
		{"oversize body", "X26ABC3", "WF", strings.Repeat("x", 1001), nil, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.send(tt.to, tt.wf, []byte(tt.body), tt.hdr)
			wantStatus(t, tt.name, r, tt.status)
			if got := errCode(t, r); got != tt.code {
				t.Fatalf("code: got %q, want %q (body %s)", got, tt.code, r.body)
			}
		})
	}
	r := c.send("NOPE123", "WF", []byte("x"), nil)
	if id, _ := r.json(t)["message_id"].(string); id == "" {
		t.Fatalf("unregistered recipient: no message_id in %s", r.body)
	}
	// Nothing rejected was stored.
	if n, _ := srv.Store.CountInbox(t.Context(), "X26ABC3"); n != 0 {
		t.Fatalf("rejected sends reached the inbox: %d", n)
	}
}

func TestOversizeChunkedUpload(t *testing.T) {
	srv := newServer(t, meshtest.Options{MaxRequestBytes: 1000})
	c := newClient(t, srv, "X26ABC1")
	// Streamed body without Content-Length: the limit applies while reading.
	req := func() resp {
		return c.do("POST", "/messageexchange/X26ABC1/outbox", map[string]string{"Mex-To": "X26ABC2", "Mex-WorkflowID": "WF"},
			io.MultiReader(strings.NewReader(strings.Repeat("y", 600)), strings.NewReader(strings.Repeat("y", 600))))
	}
	wantStatus(t, "streamed oversize body", req(), http.StatusRequestEntityTooLarge)
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

func TestChunkedSendAndDownload(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	a, b := newClient(t, srv, "X26ABC1"), newClient(t, srv, "X26ABC2")
	parts := []string{"first part;", "second part;", "third part."}
	gzh := map[string]string{"Content-Encoding": "gzip", "Mex-Chunk-Range": "1:3", "Mex-Content-Type": "text/plain", "Mex-FileName": "f.txt"}
	id := a.mustSend("X26ABC2", "WF", gz(t, parts[0]), gzh)
	chunk := func(n int, body []byte, hdr map[string]string) resp {
		h := map[string]string{"Content-Encoding": "gzip", "Mex-Chunk-Range": fmt.Sprintf("%d:3", n)}
		for k, v := range hdr {
			h[k] = v
		}
		return a.do("POST", fmt.Sprintf("/messageexchange/X26ABC1/outbox/%s/%d", id, n), h, bytes.NewReader(body))
	}
	wantStatus(t, "chunk 3 before 2", chunk(3, gz(t, parts[2]), nil), http.StatusAccepted)
	if got := b.inbox(""); len(got) != 0 {
		t.Fatalf("incomplete message listed: %v", got)
	}
	wantStatus(t, "download while uploading", b.get(id), http.StatusGone)
	r := chunk(2, gz(t, parts[1]), map[string]string{"Mex-Chunk-Range": "3:3"})
	wantStatus(t, "range not matching URL", r, http.StatusExpectationFailed)
	r = chunk(2, gz(t, parts[1]), map[string]string{"Mex-Chunk-Range": "2:4"})
	wantStatus(t, "range total not matching", r, http.StatusExpectationFailed)
	r = chunk(2, []byte(parts[1]), map[string]string{"Content-Encoding": ""})
	wantStatus(t, "encoding changed", r, http.StatusExpectationFailed)
	r = b.do("POST", fmt.Sprintf("/messageexchange/X26ABC2/outbox/%s/2", id), map[string]string{"Mex-Chunk-Range": "2:3", "Content-Encoding": "gzip"}, bytes.NewReader(gz(t, "x")))
	wantStatus(t, "chunk of another mailbox's message", r, http.StatusForbidden)
	r = a.do("POST", "/messageexchange/X26ABC1/outbox/20260101000000000000_ABCDEF/2", map[string]string{"Mex-Chunk-Range": "2:3"}, strings.NewReader("x"))
	wantStatus(t, "chunk of unknown message", r, http.StatusNotFound)
	wantStatus(t, "chunk 2", chunk(2, gz(t, parts[1]), nil), http.StatusAccepted)
	wantStatus(t, "chunk after completion", chunk(2, gz(t, parts[1]), nil), http.StatusLocked)

	if got := b.inbox(""); len(got) != 1 || got[0] != id {
		t.Fatalf("inbox: got %v, want [%s]", got, id)
	}
	var all strings.Builder
	for n := 1; n <= 3; n++ {
		path := "/messageexchange/X26ABC2/inbox/" + id
		if n > 1 {
			path += fmt.Sprintf("/%d", n)
		}
		r := b.do("GET", path, map[string]string{"Accept-Encoding": "gzip"}, nil)
		want := http.StatusPartialContent
		if n == 3 {
			want = http.StatusOK
		}
		wantStatus(t, fmt.Sprintf("chunk %d", n), r, want)
		if r.header.Get("Content-Encoding") != "gzip" || r.header.Get("Mex-Chunk-Range") != fmt.Sprintf("%d:3", n) {
			t.Fatalf("chunk %d headers: %v", n, r.header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatalf("chunk %d is not a gzip stream: %v", n, err)
		}
		p, _ := io.ReadAll(zr)
		all.Write(p)
	}
	if all.String() != strings.Join(parts, "") {
		t.Fatalf("reassembled: got %q", all.String())
	}
	wantStatus(t, "chunk 4 of 3", b.do("GET", "/messageexchange/X26ABC2/inbox/"+id+"/4", nil, nil), http.StatusNotFound)
	// Without Accept-Encoding the server decompresses.
	r = b.do("GET", "/messageexchange/X26ABC2/inbox/"+id+"/2", map[string]string{"Accept-Encoding": "identity"}, nil)
	if string(r.body) != parts[1] || r.header.Get("Content-Encoding") != "" {
		t.Fatalf("gunzipped chunk: got %q encoding %q", r.body, r.header.Get("Content-Encoding"))
	}
}

func TestDownloadAndAckErrors(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	a, b, other := newClient(t, srv, "X26ABC1"), newClient(t, srv, "X26ABC2"), newClient(t, srv, "X27ABC1")
	id := a.mustSend("X26ABC2", "WF", []byte("payload"), map[string]string{"Content-Type": "text/plain"})

	r := b.do("HEAD", "/messageexchange/X26ABC2/inbox/"+id, nil, nil)
	wantStatus(t, "HEAD", r, http.StatusOK)
	if len(r.body) != 0 || r.header.Get("Mex-MessageType") != "DATA" || r.header.Get("Content-Length") != "7" {
		t.Fatalf("HEAD: got body %q headers %v", r.body, r.header)
	}
	r = b.get(id)
	for k, want := range map[string]string{"Mex-StatusCode": "00", "Mex-StatusEvent": "TRANSFER", "Mex-StatusSuccess": "SUCCESS",
		"Mex-From": "X26ABC1", "Mex-To": "X26ABC2", "Mex-WorkflowID": "WF", "Mex-FileName": id + ".dat",
		"Content-Type": "application/octet-stream", "Mex-Content-Type": "text/plain"} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	if r.header.Get("ETag") == "" {
		t.Error("no ETag")
	}
	r = other.do("GET", "/messageexchange/X27ABC1/inbox/"+id, nil, nil)
	wantStatus(t, "another mailbox's message", r, http.StatusForbidden)
	wantStatus(t, "ack another mailbox's message", other.do("PUT", "/messageexchange/X27ABC1/inbox/"+id+"/status/acknowledged", nil, nil), http.StatusForbidden)
	r = a.do("GET", "/messageexchange/X26ABC1/inbox/"+id, nil, nil)
	wantStatus(t, "sender reading its sent message", r, http.StatusForbidden)

	r = b.get("20200101000000000000_ABCDEF")
	wantStatus(t, "unknown message", r, http.StatusNotFound)
	if errCode(t, r) != "20" {
		t.Fatalf("unknown message code: got %s", r.body)
	}
	wantStatus(t, "ack unknown message", b.ack("20200101000000000000_ABCDEF"), http.StatusNotFound)
	wantStatus(t, "ack", b.ack(id), http.StatusOK)
	wantStatus(t, "ack twice", b.ack(id), http.StatusOK)
	wantStatus(t, "download after ack", b.get(id), http.StatusGone)
}

func TestInboxPagingAndFilter(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	a, b := newClient(t, srv, "X26ABC1"), newClient(t, srv, "X26ABC2")
	var sent []string
	for i := range 25 {
		wf := "GPFED_CONSULT_REPORT"
		if i%5 == 0 {
			wf = "GPFED_CONSULT_REPORT_ACK"
		}
		sent = append(sent, a.mustSend("X26ABC2", wf, []byte("m"), nil))
	}
	var got []string
	next := "/messageexchange/X26ABC2/inbox?max_results=10"
	pages := 0
	for next != "" {
		r := b.do("GET", next, nil, nil)
		wantStatus(t, "page", r, http.StatusOK)
		var body struct {
			Messages []string
			Links    map[string]string
			Count    int `json:"approx_inbox_count"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Count != 25 || body.Links["self"] == "" {
			t.Fatalf("page %d: count %d links %v", pages, body.Count, body.Links)
		}
		got = append(got, body.Messages...)
		next = body.Links["next"]
		pages++
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(sent, ",") {
		t.Fatalf("paging: %d pages, got %d ids in order %v", pages, len(got), strings.Join(got, ",") == strings.Join(sent, ","))
	}
	if ids := b.inbox("?workflow_filter=!*_ACK*"); len(ids) != 20 {
		t.Fatalf("filter !*_ACK*: got %d, want 20", len(ids))
	}
	wantStatus(t, "unsupported filter form *WF", b.do("GET", "/messageexchange/X26ABC2/inbox?workflow_filter=*_ACK", nil, nil), http.StatusBadRequest)
	if ids := b.inbox("?workflow_filter=GPFED_CONSULT_REPORT_ACK"); len(ids) != 5 {
		t.Fatalf("filter equals: got %d, want 5", len(ids))
	}
	wantStatus(t, "max_results below 10", b.do("GET", "/messageexchange/X26ABC2/inbox?max_results=5", nil, nil), http.StatusBadRequest)
	wantStatus(t, "bad continue_from", b.do("GET", "/messageexchange/X26ABC2/inbox?continue_from=short", nil, nil), http.StatusBadRequest)
	// v1 paging: continue_from is the last id.
	b.accept = "application/json"
	r := b.do("GET", "/messageexchange/X26ABC2/inbox?max_results=10&continue_from="+sent[19], nil, nil)
	if m := r.json(t); len(m["messages"].([]any)) != 5 {
		t.Fatalf("v1 continue_from: got %s", r.body)
	}
	r = b.do("GET", "/messageexchange/X26ABC2/count", nil, nil)
	if m := r.json(t); m["count"] != float64(25) || m["allResultsIncluded"] != true {
		t.Fatalf("v1 count: got %s", r.body)
	}
	b.accept = v2
	r = b.do("GET", "/messageexchange/X26ABC2/count", nil, nil)
	if m := r.json(t); m["count"] != float64(25) {
		t.Fatalf("v2 count: got %s", r.body)
	}
	r = b.do("GET", "/messageexchange/X26ABC2/inbox/rich?max_results=5", nil, nil)
	var rich struct {
		Messages []map[string]any
		Links    map[string]string
	}
	_ = json.Unmarshal(r.body, &rich)
	if len(rich.Messages) != 5 || rich.Messages[0]["message_id"] != sent[24] || rich.Links["next"] == "" {
		t.Fatalf("rich inbox: got %s", r.body)
	}
}

func TestTracking(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	a, b := newClient(t, srv, "X26ABC1"), newClient(t, srv, "X26ABC2")
	id := a.mustSend("X26ABC2", "WF", []byte("x"), map[string]string{"Mex-LocalID": "dup"})
	track := func(c *client) resp {
		return c.do("GET", "/messageexchange/"+c.mb.ID+"/outbox/tracking?messageID="+id, nil, nil)
	}
	r := track(a)
	wantStatus(t, "tracking", r, http.StatusOK)
	if m := r.json(t); m["status"] != "accepted" || m["recipient"] != "X26ABC2" || m["message_id"] != id {
		t.Fatalf("tracking: got %s", r.body)
	}
	wantStatus(t, "tracking by the recipient", track(b), http.StatusNotFound)
	b.ack(id)
	if m := track(a).json(t); m["status"] != "acknowledged" {
		t.Fatalf("tracking after ack: got %v", m["status"])
	}
	a.accept = "application/json"
	if m := track(a).json(t); m["status"] != "Acknowledged" || m["dtsId"] != id {
		t.Fatalf("v1 tracking: got %v", m)
	}
	r = a.do("GET", "/messageexchange/X26ABC1/outbox/tracking/dup", nil, nil)
	wantStatus(t, "local id tracking", r, http.StatusOK)
	a.accept = v2
	a.mustSend("X26ABC2", "WF", []byte("x"), map[string]string{"Mex-LocalID": "dup"})
	wantStatus(t, "ambiguous local id", a.do("GET", "/messageexchange/X26ABC1/outbox/tracking/dup", nil, nil), http.StatusMultipleChoices)
	wantStatus(t, "unknown local id", a.do("GET", "/messageexchange/X26ABC1/outbox/tracking/none", nil, nil), http.StatusNotFound)
}

func TestEndpointLookupAndWorkflowSearch(t *testing.T) {
	srv := newServer(t, meshtest.Options{Mailboxes: []meshtest.Mailbox{
		{ID: "X26ABC1", Password: "p", ODSCode: "X26", Workflows: []string{"WF"}},
		{ID: "X26ABC2", Password: "p", ODSCode: "X26", Workflows: []string{"OTHER"}},
		{ID: "X27ABC1", Password: "p", ODSCode: "X27", Workflows: []string{"WF"}},
	}})
	get := func(path, accept string) map[string]any {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Accept", accept)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return m
	}
	m := get("/messageexchange/endpointlookup/X26/WF", v2)
	if res := m["results"].([]any); len(res) != 1 || res[0].(map[string]any)["mailbox_id"] != "X26ABC1" {
		t.Fatalf("lookup v2: got %v", m)
	}
	m = get("/messageexchange/endpointlookup/X26/WF", "application/json")
	if res := m["results"].([]any); len(res) != 1 || res[0].(map[string]any)["address"] != "X26ABC1" || m["query_id"] == nil {
		t.Fatalf("lookup v1: got %v", m)
	}
	m = get("/messageexchange/workflowsearch/WF", v2)
	if res := m["results"].([]any); len(res) != 2 {
		t.Fatalf("workflow search: got %v", m)
	}
}
