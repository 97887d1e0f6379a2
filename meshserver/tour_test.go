package meshserver_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/meshtest"
)

// The endpoint tour: one request (or more) for every route the server
// serves, each in the state that gives it the status named, for the tests
// that look at responses as outside clients see them (wire_test.go,
// contract_test.go).

// tourCase is one request of the tour.
type tourCase struct {
	name         string
	method, path string
	header       map[string]string // besides Authorization and Accept
	body         []byte
	// as signs the request with this mailbox's NHSMESH token ("" = no
	// token); badToken signs it with a wrong password.
	as       string
	badToken bool
	// accept is the Accept header; "" means the v2 media type, "-" none.
	accept string
	// admin sends the admin bearer token; badAdmin a wrong one.
	admin, badAdmin bool
	want            int
	// gzip marks a gzip request or response body: the contract proxy
	// reads bodies as text, so these go only over the wire tests.
	gzip bool
	// spec is the route in the OpenAPI specification ("" = not in it:
	// the sandbox's extra routes, health, metrics, admin).
	spec bool
	// deviation explains a status the specification does not list for
	// the operation (the contract check accepts only that there).
	deviation string
}

// tourMailboxes are the fixtures of the tour's server.
var tourMailboxes = []meshtest.Mailbox{
	{ID: "X26ABC1", Password: "password", ODSCode: "X26", Workflows: []string{"WF", "WF_ACK"}},
	{ID: "X26ABC2", Password: "password", ODSCode: "X26", Workflows: []string{"WF", "WF_ACK"}},
	{ID: "X27ABC1", Password: "password", ODSCode: "X27"},
}

// newTourServer starts a server for the tour on the selected backend.
func newTourServer(t *testing.T) *meshtest.Server {
	t.Helper()
	return newServer(t, meshtest.Options{Mailboxes: tourMailboxes})
}

var tourRun atomic.Int64

// tour puts the messages the tour needs in srv (a fresh set on every call)
// and returns its requests, in the order they must run.
func tour(t *testing.T, srv *meshtest.Server) []tourCase {
	t.Helper()
	run := tourRun.Add(1)
	a, b := newClient(t, srv, "X26ABC1"), newClient(t, srv, "X26ABC2")
	local := fmt.Sprintf("tour-%d", run)
	plain := a.mustSend("X26ABC2", "WF", []byte("plain payload"), map[string]string{"Mex-LocalID": local, "Content-Type": "text/plain"})
	dupLocal := local + "-dup"
	a.mustSend("X26ABC2", "WF", []byte("one"), map[string]string{"Mex-LocalID": dupLocal})
	a.mustSend("X26ABC2", "WF", []byte("two"), map[string]string{"Mex-LocalID": dupLocal})
	zipped := a.mustSend("X26ABC2", "WF", gz(t, "gzipped payload"), map[string]string{"Content-Encoding": "gzip"})

	parts := []string{"first part;", "second part;", "third part."}
	chunked := a.mustSend("X26ABC2", "WF", gz(t, parts[0]), map[string]string{"Content-Encoding": "gzip", "Mex-Chunk-Range": "1:3"})
	for n := 2; n <= 3; n++ {
		r := a.do("POST", fmt.Sprintf("/messageexchange/X26ABC1/outbox/%s/%d", chunked, n),
			map[string]string{"Content-Encoding": "gzip", "Mex-Chunk-Range": fmt.Sprintf("%d:3", n)}, bytes.NewReader(gz(t, parts[n-1])))
		wantStatus(t, "tour setup: chunk upload", r, http.StatusAccepted)
	}
	uploading := a.mustSend("X26ABC2", "WF", []byte("chunk one of two;"), map[string]string{"Mex-Chunk-Range": "1:2"})
	gone := a.mustSend("X26ABC2", "WF", []byte("acknowledged already"), nil)
	wantStatus(t, "tour setup: ack", b.ack(gone), http.StatusOK)
	ackV2 := a.mustSend("X26ABC2", "WF", []byte("to acknowledge (v2)"), nil)
	ackV1 := a.mustSend("X26ABC2", "WF", []byte("to acknowledge (v1)"), nil)
	rep, err := srv.Admin.InjectReport(context.Background(), meshserver.ReportParams{MailboxID: "X26ABC2", Code: "14",
		Description: "Message not collected by recipient after 5 days", WorkflowID: "WF", LinkedMessageID: plain})
	if err != nil {
		t.Fatal(err)
	}

	hs := map[string]string{"Mex-ClientVersion": "gpcm==tour", "Mex-OSName": "Linux", "Mex-OSVersion": "6"}
	send := func(extra map[string]string) map[string]string {
		h := map[string]string{"Mex-To": "X26ABC2", "Mex-WorkflowID": "WF", "Content-Type": "application/octet-stream"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	in := "/messageexchange/X26ABC2/inbox/"
	out := "/messageexchange/X26ABC1/outbox"
	unknown := "20260101000000000000_ABCDEF"
	const v1 = "application/json"
	const (
		noAckNotFound = "the specification lists 200, 400 and 403 for acknowledge; the digest (E6) and the sandbox answer 404 for an unknown message"
		noTrackStatus = "the specification lists 200, 400 and 403 for tracking; the digest (E9, D2) and the sandbox answer 404 for a message that is unknown or not the caller's"
		noSend422     = "the specification lists 202, 400, 403 and 417 for send; the sandbox answers 422 UnsupportedContentEncoding"
	)
	return []tourCase{
		// Handshake (E1).
		{name: "E1 handshake v2", method: "POST", path: "/messageexchange/X26ABC2", header: hs, as: "X26ABC2", want: 200, spec: true},
		{name: "E1 handshake v1", method: "POST", path: "/messageexchange/X26ABC2", header: hs, as: "X26ABC2", accept: v1, want: 200, spec: true},
		{name: "E1 handshake without Accept", method: "POST", path: "/messageexchange/X26ABC2", header: hs, as: "X26ABC2", accept: "-", want: 200, spec: true},
		{name: "E1 handshake GET (sandbox)", method: "GET", path: "/messageexchange/X26ABC2", as: "X26ABC2", want: 200},
		{name: "E1 handshake without mex headers", method: "POST", path: "/messageexchange/X26ABC2", as: "X26ABC2", want: 400, spec: true},
		{name: "E1 handshake without mex headers v1", method: "POST", path: "/messageexchange/X26ABC2", as: "X26ABC2", accept: v1, want: 400, spec: true},
		{name: "E1 handshake bad token", method: "POST", path: "/messageexchange/X26ABC2", header: hs, as: "X26ABC2", badToken: true, want: 403, spec: true},
		{name: "E1 handshake no token", method: "POST", path: "/messageexchange/X26ABC2", header: hs, want: 403, spec: true},
		{name: "E1 handshake malformed Accept", method: "POST", path: "/messageexchange/X26ABC2", header: hs, as: "X26ABC2", accept: "application/vnd.mesh.vX+json", want: 400, spec: true},

		// Inbox (E2), rich listings (S1, S2), count (D1).
		{name: "E2 inbox v2", method: "GET", path: "/messageexchange/X26ABC2/inbox", as: "X26ABC2", want: 200, spec: true},
		{name: "E2 inbox v1", method: "GET", path: "/messageexchange/X26ABC2/inbox", as: "X26ABC2", accept: v1, want: 200, spec: true},
		{name: "E2 inbox paged and filtered", method: "GET", path: "/messageexchange/X26ABC2/inbox?max_results=10&workflow_filter=%21%2A_ACK%2A", as: "X26ABC2", want: 200, spec: true},
		{name: "E2 inbox max_results out of range", method: "GET", path: "/messageexchange/X26ABC2/inbox?max_results=5", as: "X26ABC2", want: 400, spec: true},
		{name: "E2 inbox bad continue_from v1", method: "GET", path: "/messageexchange/X26ABC2/inbox?continue_from=x", as: "X26ABC2", accept: v1, want: 400, spec: true},
		{name: "E2 inbox bad token", method: "GET", path: "/messageexchange/X26ABC2/inbox", as: "X26ABC2", badToken: true, want: 403, spec: true},
		{name: "S1 rich inbox", method: "GET", path: "/messageexchange/X26ABC2/inbox/rich", as: "X26ABC2", want: 200},
		{name: "S1 rich inbox bad start_time", method: "GET", path: "/messageexchange/X26ABC2/inbox/rich?start_time=yesterday", as: "X26ABC2", want: 400},
		{name: "S2 rich outbox", method: "GET", path: "/messageexchange/X26ABC1/outbox/rich", as: "X26ABC1", want: 200},
		{name: "D1 count v2", method: "GET", path: "/messageexchange/X26ABC2/count", as: "X26ABC2", want: 200, spec: true},
		{name: "D1 count v1", method: "GET", path: "/messageexchange/X26ABC2/count", as: "X26ABC2", accept: v1, want: 200, spec: true},

		// Download (E3, E4, E5).
		{name: "E3 download", method: "GET", path: in + plain, as: "X26ABC2", want: 200, spec: true},
		{name: "E3 download v1", method: "GET", path: in + plain, as: "X26ABC2", accept: v1, want: 200, spec: true},
		{name: "E3 download with Range", method: "GET", path: in + plain, header: map[string]string{"Range": "bytes=0-3"}, as: "X26ABC2", want: 200, spec: true},
		{name: "E5 head", method: "HEAD", path: in + plain, as: "X26ABC2", want: 200, spec: true},
		{name: "E3 download report", method: "GET", path: in + rep.ID, as: "X26ABC2", want: 200, spec: true},
		{name: "E3 download gzip as stored", method: "GET", path: in + zipped, header: map[string]string{"Accept-Encoding": "gzip"}, as: "X26ABC2", want: 200, gzip: true, spec: true},
		{name: "E3 download gzip unzipped", method: "GET", path: in + zipped, header: map[string]string{"Accept-Encoding": "identity"}, as: "X26ABC2", want: 200, gzip: true, spec: true},
		{name: "E5 head chunked", method: "HEAD", path: in + chunked, as: "X26ABC2", want: 200, spec: true},
		{name: "E3 download chunk 1 of 3", method: "GET", path: in + chunked, header: map[string]string{"Accept-Encoding": "gzip"}, as: "X26ABC2", want: 206, gzip: true, spec: true},
		{name: "E4 download chunk 2 of 3", method: "GET", path: in + chunked + "/2", header: map[string]string{"Accept-Encoding": "gzip"}, as: "X26ABC2", want: 206, gzip: true, spec: true},
		{name: "E4 download chunk 2 unzipped with Range", method: "GET", path: in + chunked + "/2", header: map[string]string{"Range": "bytes=0-1"}, as: "X26ABC2", want: 206, gzip: true, spec: true},
		{name: "E4 download chunk 3 of 3", method: "GET", path: in + chunked + "/3", header: map[string]string{"Accept-Encoding": "gzip"}, as: "X26ABC2", want: 200, gzip: true, spec: true},
		{name: "E4 download chunk 4 of 3", method: "GET", path: in + chunked + "/4", as: "X26ABC2", want: 404, spec: true},
		{name: "E3 download unknown", method: "GET", path: in + unknown, as: "X26ABC2", want: 404, spec: true},
		{name: "E3 download unknown v1", method: "GET", path: in + unknown, as: "X26ABC2", accept: v1, want: 404, spec: true},
		{name: "E5 head unknown", method: "HEAD", path: in + unknown, as: "X26ABC2", want: 404, spec: true},
		{name: "E3 download still uploading", method: "GET", path: in + uploading, as: "X26ABC2", want: 410, spec: true},
		{name: "E3 download acknowledged", method: "GET", path: in + gone, as: "X26ABC2", want: 410, spec: true},
		{name: "E3 download another mailbox's", method: "GET", path: "/messageexchange/X27ABC1/inbox/" + plain, as: "X27ABC1", want: 403, spec: true},

		// Send (E7) and chunk upload (E8).
		{name: "E7 send v2", method: "POST", path: out, header: send(nil), body: []byte("sent by the tour"), as: "X26ABC1", want: 202, spec: true},
		{name: "E7 send v1", method: "POST", path: out, header: send(nil), body: []byte("sent by the tour (v1)"), as: "X26ABC1", accept: v1, want: 202, spec: true},
		{name: "E7 send gzip", method: "POST", path: out, header: send(map[string]string{"Content-Encoding": "gzip"}), body: gz(t, "gzipped by the tour"), as: "X26ABC1", want: 202, gzip: true, spec: true},
		{name: "E7 send with metadata", method: "POST", path: out, header: send(map[string]string{"Mex-Subject": "tour", "Mex-LocalID": local + "-meta", "Mex-FileName": "tour.txt",
			"Mex-Content-Checksum": "sha256:00", "Mex-Content-Type": "text/plain"}), body: []byte("metadata"), as: "X26ABC1", want: 202, spec: true},
		{name: "E7 send to an unregistered mailbox", method: "POST", path: out, header: send(map[string]string{"Mex-To": "NOBODY1"}), body: []byte("x"), as: "X26ABC1", want: 417, spec: true},
		{name: "E7 send to an unregistered mailbox v1", method: "POST", path: out, header: send(map[string]string{"Mex-To": "NOBODY1"}), body: []byte("x"), as: "X26ABC1", accept: v1, want: 417, spec: true},
		{name: "E7 send empty body", method: "POST", path: out, header: send(nil), as: "X26ABC1", want: 417, spec: true},
		{name: "E7 send workflow not allowed", method: "POST", path: out, header: send(map[string]string{"Mex-WorkflowID": "OTHER"}), body: []byte("x"), as: "X26ABC1", want: 417, spec: true},
		{name: "E7 send bad chunk range", method: "POST", path: out, header: send(map[string]string{"Mex-Chunk-Range": "2:1"}), body: []byte("x"), as: "X26ABC1", want: 417, spec: true},
		{name: "E7 send without workflow", method: "POST", path: out, header: send(map[string]string{"Mex-WorkflowID": ""}), body: []byte("x"), as: "X26ABC1", want: 400, spec: true},
		{name: "E7 send control character", method: "POST", path: out, header: send(map[string]string{"Mex-Subject": "a\tb"}), body: []byte("x"), as: "X26ABC1", want: 400, spec: true},
		{name: "E7 send bad checksum", method: "POST", path: out, header: send(map[string]string{"Mex-Content-Checksum": "sha256=00"}), body: []byte("x"), as: "X26ABC1", want: 400, spec: true},
		{name: "E7 send unsupported encoding", method: "POST", path: out, header: send(map[string]string{"Content-Encoding": "br"}), body: []byte("x"), as: "X26ABC1", want: 422, spec: true, deviation: noSend422},
		{name: "E7 send bad token", method: "POST", path: out, header: send(nil), body: []byte("x"), as: "X26ABC1", badToken: true, want: 403, spec: true},
		{name: "E8 chunk 2 of 2", method: "POST", path: out + "/" + uploading + "/2", header: map[string]string{"Mex-Chunk-Range": "2:2", "Content-Type": "application/octet-stream"},
			body: []byte("chunk two of two."), as: "X26ABC1", want: 202, spec: true},
		{name: "E8 chunk after completion", method: "POST", path: out + "/" + uploading + "/2", header: map[string]string{"Mex-Chunk-Range": "2:2"}, body: []byte("again"), as: "X26ABC1", want: 423, spec: true},
		{name: "E8 chunk range not matching", method: "POST", path: out + "/" + uploading + "/2", header: map[string]string{"Mex-Chunk-Range": "3:3"}, body: []byte("x"), as: "X26ABC1", want: 417, spec: true},
		{name: "E8 chunk of unknown message", method: "POST", path: out + "/" + unknown + "/2", header: map[string]string{"Mex-Chunk-Range": "2:2"}, body: []byte("x"), as: "X26ABC1", want: 404, spec: true},
		{name: "E8 chunk of unknown message v1", method: "POST", path: out + "/" + unknown + "/2", header: map[string]string{"Mex-Chunk-Range": "2:2"}, body: []byte("x"), as: "X26ABC1", accept: v1, want: 404, spec: true},
		{name: "E8 chunk of another mailbox's message", method: "POST", path: "/messageexchange/X26ABC2/outbox/" + uploading + "/2", header: map[string]string{"Mex-Chunk-Range": "2:2"}, body: []byte("x"), as: "X26ABC2", want: 403, spec: true},

		// Acknowledge (E6).
		{name: "E6 acknowledge v2", method: "PUT", path: in + ackV2 + "/status/acknowledged", as: "X26ABC2", want: 200, spec: true},
		{name: "E6 acknowledge again", method: "PUT", path: in + ackV2 + "/status/acknowledged", as: "X26ABC2", want: 200, spec: true},
		{name: "E6 acknowledge v1", method: "PUT", path: in + ackV1 + "/status/acknowledged", as: "X26ABC2", accept: v1, want: 200, spec: true},
		{name: "E6 acknowledge with a JSON body", method: "PUT", path: in + ackV1 + "/status/acknowledged", header: map[string]string{"Content-Type": "application/octet-stream"},
			body: []byte(`{"messageId":"` + ackV1 + `"}`), as: "X26ABC2", want: 200, spec: true},
		{name: "E6 acknowledge another mailbox's", method: "PUT", path: "/messageexchange/X27ABC1/inbox/" + plain + "/status/acknowledged", as: "X27ABC1", want: 403, spec: true},
		{name: "E6 acknowledge unknown", method: "PUT", path: in + unknown + "/status/acknowledged", as: "X26ABC2", want: 404, spec: true, deviation: noAckNotFound},

		// Tracking (E9, D2).
		{name: "E9 tracking v2", method: "GET", path: out + "/tracking?messageID=" + plain, as: "X26ABC1", want: 200, spec: true},
		{name: "E9 tracking v1", method: "GET", path: out + "/tracking?messageID=" + plain, as: "X26ABC1", accept: v1, want: 200, spec: true},
		{name: "E9 tracking acknowledged", method: "GET", path: out + "/tracking?messageID=" + gone, as: "X26ABC1", want: 200, spec: true},
		{name: "E9 tracking still uploading", method: "GET", path: out + "/tracking?messageID=" + chunked, as: "X26ABC1", want: 200, spec: true},
		{name: "E9 tracking without messageID", method: "GET", path: out + "/tracking", as: "X26ABC1", want: 400, spec: true},
		{name: "E9 tracking unknown", method: "GET", path: out + "/tracking?messageID=" + unknown, as: "X26ABC1", want: 404, spec: true, deviation: noTrackStatus},
		{name: "E9 tracking by the recipient", method: "GET", path: "/messageexchange/X26ABC2/outbox/tracking?messageID=" + plain, as: "X26ABC2", want: 404, spec: true, deviation: noTrackStatus},
		{name: "D2 tracking by local id", method: "GET", path: out + "/tracking/" + local, as: "X26ABC1", want: 200, spec: true},
		{name: "D2 tracking by an ambiguous local id", method: "GET", path: out + "/tracking/" + dupLocal, as: "X26ABC1", want: 300, spec: true},
		{name: "D2 tracking by an unknown local id", method: "GET", path: out + "/tracking/none-" + local, as: "X26ABC1", want: 404, spec: true, deviation: noTrackStatus},

		// Lookup (E10, E11): no token.
		{name: "E10 endpoint lookup v2", method: "GET", path: "/messageexchange/endpointlookup/X26/WF", want: 200, spec: true},
		{name: "E10 endpoint lookup v1", method: "GET", path: "/messageexchange/endpointlookup/X26/WF", accept: v1, want: 200, spec: true},
		{name: "E10 endpoint lookup nothing found", method: "GET", path: "/messageexchange/endpointlookup/X99/WF", want: 200, spec: true},
		{name: "E11 workflow search v2", method: "GET", path: "/messageexchange/workflowsearch/WF", want: 200, spec: true},
		{name: "E11 workflow search v1", method: "GET", path: "/messageexchange/workflowsearch/WF", accept: v1, want: 200, spec: true},
		{name: "E11 workflow search malformed Accept", method: "GET", path: "/messageexchange/workflowsearch/WF", accept: "application/vnd.mesh.v+json", want: 400, spec: true},

		// The sandbox's extra route, health, metrics, admin, no route.
		{name: "S3 update", method: "POST", path: "/messageexchange/X26ABC2/update", as: "X26ABC2", want: 200},
		{name: "ping", method: "GET", path: "/messageexchange/_ping", accept: "-", want: 200},
		{name: "healthz", method: "GET", path: "/healthz", accept: "-", want: 200},
		{name: "health", method: "GET", path: "/health", accept: "-", want: 200},
		{name: "metrics", method: "GET", path: "/metrics", accept: "-", want: 200},
		{name: "admin mailboxes", method: "GET", path: "/admin/mailboxes", admin: true, want: 200},
		{name: "admin messages", method: "GET", path: "/admin/messages?mailbox=X26ABC2", admin: true, want: 200},
		{name: "admin put mailbox", method: "PUT", path: fmt.Sprintf("/admin/mailboxes/X29T%03d", run), body: []byte(`{"password":"p"}`), admin: true, want: 204},
		{name: "admin report", method: "POST", path: "/admin/reports", body: []byte(`{"mailbox_id":"X27ABC1","code":"14","description":"tour","workflow_id":"WF"}`), admin: true, want: 201},
		{name: "admin bad body", method: "POST", path: "/admin/reports", body: []byte(`{`), admin: true, want: 400},
		{name: "admin expire", method: "POST", path: "/admin/expire", admin: true, want: 200},
		{name: "admin wrong token", method: "GET", path: "/admin/mailboxes", badAdmin: true, want: 401},
		{name: "no such route", method: "GET", path: "/nowhere", accept: "-", want: 404},
		{name: "method not allowed", method: "DELETE", path: "/messageexchange/X26ABC2/inbox", as: "X26ABC2", want: 405},
	}
}

// request builds c's request against base, signed now.
func (c tourCase) request(t *testing.T, srv *meshtest.Server, base string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), c.method, base+c.path, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	switch c.accept {
	case "":
		req.Header.Set("Accept", v2)
	case "-":
	default:
		req.Header.Set("Accept", c.accept)
	}
	if c.as != "" {
		mb := srv.Mailbox(t, c.as)
		pw := mb.Password
		if c.badToken {
			pw = "not-" + pw
		}
		req.Header.Set("Authorization", token(mb.ID, pw, srv.SharedKey, time.Now()))
	}
	switch {
	case c.admin:
		req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
	case c.badAdmin:
		req.Header.Set("Authorization", "Bearer wrong")
	}
	for k, v := range c.header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	return req
}

// caFile writes the CA that signed srv's certificate to a PEM file, for
// clients configured by file, and returns its path.
func caFile(t *testing.T, srv *meshtest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, srv.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tourName is a case name usable as a subtest name.
func tourName(c tourCase) string { return strings.ReplaceAll(c.name, "/", "-") }
