package meshserver_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshtest"
)

// wantRefusal checks a refusal's status, event and (v2) message id.
func wantRefusal(t *testing.T, what string, r resp, status int) {
	t.Helper()
	wantStatus(t, what, r, status)
	if ev := errEvent(t, r); ev != "SEND" {
		t.Fatalf("%s: event %q, want SEND (body %s)", what, ev, r.body)
	}
	if id, _ := r.json(t)["message_id"].(string); id == "" {
		t.Fatalf("%s: no message_id in %s", what, r.body)
	}
}

// zeros is an endless reader of zero bytes that counts what it gave.
type zeros struct{ n atomic.Int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n.Add(int64(len(p)))
	return len(p), nil
}

// Issue 23 §4: a message's chunks together may not pass MaxMessageBytes
// (default 20 GB): 1:100000 of 100 MB chunks is refused before its body is
// read, with the 413 of a body too large, event SEND.
func TestQuotaMessageSizeUpFront(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	c := newClient(t, srv, "X26ABC1")
	const chunk = 100 * 1000 * 1000
	z := &zeros{}
	req, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/messageexchange/X26ABC1/outbox", io.LimitReader(z, chunk))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = chunk
	for k, v := range map[string]string{"Authorization": token("X26ABC1", "password", srv.SharedKey, time.Now()), "Accept": v2,
		"Mex-To": "X26ABC2", "Mex-WorkflowID": "WF", "Mex-Chunk-Range": "1:100000", "Content-Type": "application/octet-stream"} {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("send 1:100000 of 100 MB: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	r := resp{status: res.StatusCode, header: res.Header, body: b}
	wantRefusal(t, "1:100000 of 100 MB chunks", r, http.StatusRequestEntityTooLarge)
	if !strings.Contains(string(b), "limit of 20000000000 bytes") {
		t.Errorf("refusal does not name the limit: %s", b)
	}
	if sent := z.n.Load(); sent >= chunk {
		t.Errorf("the client sent the whole %d-byte chunk before the refusal", sent)
	}
	if ids := newClient(t, srv, "X26ABC2").inbox(""); len(ids) != 0 {
		t.Fatalf("inbox after the refusal: %v", ids)
	}
}

func TestQuotaMessageSize(t *testing.T) {
	srv := newServer(t, meshtest.Options{MaxMessageBytes: 2048})
	a := newClient(t, srv, "X26ABC1")
	body := func(n int) []byte { return bytes.Repeat([]byte("m"), n) }

	// 1:3 with a first chunk of 1000 bytes: at least 2 × 1000 + 1 bytes,
	// within 2048.
	id := a.mustSend("X26ABC2", "WF", body(1000), map[string]string{"Mex-Chunk-Range": "1:3"})
	chunk := func(n int, size int) resp {
		return a.do("POST", "/messageexchange/X26ABC1/outbox/"+id+"/"+strconv.Itoa(n), map[string]string{"Mex-Chunk-Range": strconv.Itoa(n) + ":3"}, bytes.NewReader(body(size)))
	}
	wantStatus(t, "chunk 2", chunk(2, 1000), http.StatusAccepted)
	wantRefusal(t, "chunk 3 past 2048 bytes in total", chunk(3, 100), http.StatusRequestEntityTooLarge)
	wantStatus(t, "chunk 3 within the limit", chunk(3, 48), http.StatusAccepted)
	wantRefusal(t, "1:3 of 1100-byte chunks", a.send("X26ABC2", "WF", body(1100), map[string]string{"Mex-Chunk-Range": "1:3"}), http.StatusRequestEntityTooLarge)
	wantRefusal(t, "one chunk past the limit", a.send("X26ABC2", "WF", body(2049), nil), http.StatusRequestEntityTooLarge)
	wantRefusal(t, "more chunks than bytes allowed", a.send("X26ABC2", "WF", body(1), map[string]string{"Mex-Chunk-Range": "1:3000"}), http.StatusRequestEntityTooLarge)
	// A body of unknown length is checked once read, and not kept.
	wantRefusal(t, "unknown length past the limit", a.do("POST", "/messageexchange/X26ABC1/outbox",
		map[string]string{"Mex-To": "X26ABC2", "Mex-WorkflowID": "WF"}, io.MultiReader(bytes.NewReader(body(3000)))), http.StatusRequestEntityTooLarge)
	if ids := newClient(t, srv, "X26ABC2").inbox(""); len(ids) != 1 || ids[0] != id {
		t.Fatalf("inbox: got %v, want only %s", ids, id)
	}
}

// Issue 23 §4: each mailbox may hold QuotaMessages messages and QuotaBytes
// bytes waiting (uploading or accepted); past either a send to it is
// rejected with 417, event SEND, as live MESH rejects a send.
func TestQuotaMailbox(t *testing.T) {
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	// The server reads a mailbox's usage again after a second.
	later := func() { offset.Add(int64(2 * time.Second)) }
	body := func(n int) []byte { return bytes.Repeat([]byte("q"), n) }

	t.Run("messages", func(t *testing.T) {
		srv := newServer(t, meshtest.Options{QuotaMessages: 2, Now: now})
		a, b := newClient(t, srv, "X26ABC1"), newClient(t, srv, "X26ABC2")
		first := a.mustSend("X26ABC2", "WF", body(10), nil)
		a.mustSend("X26ABC2", "WF", body(10), nil)
		r := a.send("X26ABC2", "WF", body(10), nil)
		wantRefusal(t, "third message to a mailbox holding two", r, http.StatusExpectationFailed)
		if !strings.Contains(string(r.body), "Recipient mailbox is full") {
			t.Errorf("refusal text: %s", r.body)
		}
		a.mustSend("X27ABC1", "WF", body(10), nil) // another mailbox has its own quota
		later()
		wantRefusal(t, "still two waiting after a second", a.send("X26ABC2", "WF", body(10), nil), http.StatusExpectationFailed)
		wantStatus(t, "ack", b.ack(first), http.StatusOK)
		later()
		a.mustSend("X26ABC2", "WF", body(10), nil)
		if n := len(b.inbox("")); n != 2 {
			t.Fatalf("inbox holds %d, want 2", n)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		srv := newServer(t, meshtest.Options{QuotaBytes: 5000, Now: now})
		a := newClient(t, srv, "X26ABC1")
		a.mustSend("X26ABC2", "WF", body(3000), nil)
		wantRefusal(t, "3000 more bytes to a mailbox holding 3000 of 5000", a.send("X26ABC2", "WF", body(3000), nil), http.StatusExpectationFailed)
		a.mustSend("X26ABC2", "WF", body(2000), nil)
		later()
		wantRefusal(t, "one byte more after a second", a.send("X26ABC2", "WF", body(1), nil), http.StatusExpectationFailed)
		wantRefusal(t, "unknown length", a.do("POST", "/messageexchange/X26ABC1/outbox",
			map[string]string{"Mex-To": "X26ABC2", "Mex-WorkflowID": "WF"}, io.MultiReader(bytes.NewReader(body(10)))), http.StatusExpectationFailed)
	})
	t.Run("chunks of an upload", func(t *testing.T) {
		srv := newServer(t, meshtest.Options{QuotaBytes: 5000, Now: now})
		a := newClient(t, srv, "X26ABC1")
		id := a.mustSend("X26ABC2", "WF", body(3000), map[string]string{"Mex-Chunk-Range": "1:2"})
		later()
		r := a.do("POST", "/messageexchange/X26ABC1/outbox/"+id+"/2", map[string]string{"Mex-Chunk-Range": "2:2"}, bytes.NewReader(body(3000)))
		wantRefusal(t, "chunk 2 past the mailbox's bytes", r, http.StatusExpectationFailed)
		r = a.do("POST", "/messageexchange/X26ABC1/outbox/"+id+"/2", map[string]string{"Mex-Chunk-Range": "2:2"}, bytes.NewReader(body(2000)))
		wantStatus(t, "chunk 2 within them", r, http.StatusAccepted)
	})
}
