package mesh_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

const (
	boxA = "X26ABC1"
	boxB = "X26ABC2"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func mustGetAll(t *testing.T, c *mesh.Client, id string) (mesh.Message, []byte) {
	t.Helper()
	d, err := c.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	defer d.Close()
	b, err := io.ReadAll(d)
	if err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	return d.Message, b
}

func TestWitness100Handshake(t *testing.T) {
	e := mustEnv(t, nil)
	if err := e.a.Handshake(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestWitness100HandshakeNeedsClientCertificate(t *testing.T) {
	e := mustEnv(t, nil)
	c := e.mustClient(t, boxA, func(c *mesh.Config) { c.TLS.CertFile, c.TLS.KeyFile = "", ""; c.Retry = mesh.NoRetry })
	if err := c.Handshake(t.Context()); err == nil {
		t.Fatal("handshake without a client certificate succeeded")
	}
}

func TestWitness100HandshakeWrongPassword(t *testing.T) {
	e := mustEnv(t, nil)
	c := e.mustClient(t, boxA, func(c *mesh.Config) { c.Password = "wrong" })
	err := c.Handshake(t.Context())
	var me *mesh.Error
	if !errors.As(err, &me) || me.Status != 403 || !errors.Is(err, mesh.ErrForbidden) {
		t.Fatalf("got %v, want a 403 *mesh.Error", err)
	}
}

func TestWitness201202SendAndAcknowledge(t *testing.T) {
	e := mustEnv(t, nil)
	body := randomBytes(1024, 1)
	sum := sha256.Sum256(body)
	res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "GPCONNECT_SEND_DOCUMENT", Subject: "subject",
		LocalID: "local-201", Filename: "report.xml", ContentType: "application/fhir+xml", Checksum: fmt.Sprintf("sha256:%x", sum),
		Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	if !mesh.IsLiveMessageID(res.MessageID) || res.Chunks != 1 || res.Bytes != 1024 {
		t.Fatalf("got %+v", res)
	}
	ids, err := e.b.Inbox(t.Context(), mesh.InboxOptions{})
	if err != nil || len(ids) != 1 || ids[0] != res.MessageID {
		t.Fatalf("inbox: got %v, %v; want [%s]", ids, err, res.MessageID)
	}
	if n, err := e.b.Count(t.Context()); err != nil || n != 1 {
		t.Errorf("count: got %d, %v", n, err)
	}
	m, got := mustGetAll(t, e.b, res.MessageID)
	if !bytes.Equal(got, body) {
		t.Fatal("body differs")
	}
	if m.WorkflowID != "GPCONNECT_SEND_DOCUMENT" || m.LocalID != "local-201" || m.Filename != "report.xml" ||
		m.ContentType != "application/fhir+xml" || m.Checksum != fmt.Sprintf("sha256:%x", sum) || m.From != boxA || m.IsReport() {
		t.Errorf("metadata: got %+v", m)
	}
	hm, err := e.b.Head(t.Context(), res.MessageID)
	if err != nil || hm.ID != res.MessageID {
		t.Errorf("head: got %+v, %v", hm, err)
	}
	tr, err := e.a.Track(t.Context(), res.MessageID)
	if err != nil || tr.Status != mesh.StatusAccepted {
		t.Errorf("track: got %+v, %v", tr, err)
	}
	if err := e.b.Ack(t.Context(), res.MessageID); err != nil {
		t.Fatal(err)
	}
	ids, err = e.b.Inbox(t.Context(), mesh.InboxOptions{})
	if err != nil || len(ids) != 0 {
		t.Errorf("inbox after ack: got %v, %v", ids, err)
	}
}

func TestWitness401RetrieveUncompressed(t *testing.T) {
	e := mustEnv(t, nil)
	body := []byte(strings.Repeat("uncompressed ", 100))
	res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	m, got := mustGetAll(t, e.b, res.MessageID)
	if !bytes.Equal(got, body) || m.ContentEncoding != "" {
		t.Errorf("got %d bytes encoding %q", len(got), m.ContentEncoding)
	}
}

func TestWitness501502ChunkedRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		size      int
		chunk     int64
		compress  bool
		unsized   bool
		wantTotal int
	}{
		{name: "5 MB gzip in 1 MiB chunks", size: 5_000_000, chunk: 1 << 20, compress: true, wantTotal: 5},
		{name: "5 MB plain in 1 MiB chunks", size: 5_000_000, chunk: 1 << 20, wantTotal: 5},
		{name: "exact multiple", size: 3 << 20, chunk: 1 << 20, wantTotal: 3},
		{name: "unknown size is spooled", size: 2_500_000, chunk: 1 << 20, unsized: true, compress: true, wantTotal: 3},
		{name: "one chunk gzip", size: 1000, chunk: 1 << 20, compress: true, wantTotal: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEnv(t, func(c *mesh.Config) { c.ChunkSize = tt.chunk; c.TempDir = t.TempDir() })
			body := randomBytes(tt.size, 2)
			copy(body, bytes.Repeat([]byte("compressible "), tt.size/26)) // half compressible
			var r io.Reader = bytes.NewReader(body)
			if tt.unsized {
				r = io.MultiReader(r) // hides Seek
			}
			var progress []int64
			res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", Filename: "big.bin", Compress: tt.compress, Body: r,
				Progress: func(sent, total int64) { progress = append(progress, sent) }})
			if err != nil {
				t.Fatal(err)
			}
			if res.Chunks != tt.wantTotal || len(progress) != tt.wantTotal || progress[len(progress)-1] != int64(tt.size) {
				t.Errorf("chunks %d progress %v, want %d chunks", res.Chunks, progress, tt.wantTotal)
			}
			m, got := mustGetAll(t, e.b, res.MessageID)
			if sha256.Sum256(got) != sha256.Sum256(body) {
				t.Fatalf("sha256 differs (%d vs %d bytes)", len(got), len(body))
			}
			if m.Chunk.Total != tt.wantTotal || m.Filename != "big.bin" {
				t.Errorf("metadata: %+v", m)
			}
			if tt.compress != (m.ContentEncoding == "gzip") {
				t.Errorf("content encoding %q", m.ContentEncoding)
			}
		})
	}
}

func TestWitness601HighVolumePaging(t *testing.T) {
	e := mustEnv(t, nil)
	const n = 1234
	want := map[string]bool{}
	for i := range n {
		wf := "GPCONNECT_SEND_DOCUMENT"
		if i%3 == 0 {
			wf = "GPCONNECT_SEND_DOCUMENT_ACK"
		}
		res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: wf, Body: strings.NewReader("x")})
		if err != nil {
			t.Fatal(err)
		}
		want[res.MessageID] = wf == "GPCONNECT_SEND_DOCUMENT"
	}
	for _, tt := range []struct {
		name   string
		opts   mesh.InboxOptions
		filter func(bool) bool
	}{
		{name: "default pages of 500", opts: mesh.InboxOptions{}, filter: func(bool) bool { return true }},
		{name: "pages of 10", opts: mesh.InboxOptions{MaxResults: 10}, filter: func(bool) bool { return true }},
		{name: "workflow filter", opts: mesh.InboxOptions{WorkflowFilter: "GPCONNECT_SEND_DOCUMENT", MaxResults: 100}, filter: func(b bool) bool { return b }},
		{name: "not ack filter", opts: mesh.InboxOptions{WorkflowFilter: "!*_ACK*"}, filter: func(b bool) bool { return b }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ids, err := e.b.Inbox(t.Context(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, id := range ids {
				seen[id]++
			}
			wantN := 0
			for id, doc := range want {
				if tt.filter(doc) {
					wantN++
					if seen[id] != 1 {
						t.Fatalf("%s listed %d times", id, seen[id])
					}
				}
			}
			if len(ids) != wantN {
				t.Errorf("got %d IDs, want %d", len(ids), wantN)
			}
		})
	}
	page, err := e.b.InboxPage(t.Context(), mesh.InboxOptions{}, "")
	if err != nil || len(page.Messages) != 500 || page.Links.Next == "" || page.ApproxInboxCount != n {
		t.Errorf("first page: %d messages, next %q, approx %d, %v", len(page.Messages), page.Links.Next, page.ApproxInboxCount, err)
	}
	// Drain: download and acknowledge everything, repeatedly, until empty.
	for {
		ids, err := e.b.Inbox(t.Context(), mesh.InboxOptions{MaxResults: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			if err := e.b.Ack(t.Context(), id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestWitness701DisabledMailbox(t *testing.T) {
	e := mustEnv(t, nil)
	e.disable(t, boxB)
	_, err := e.b.Inbox(t.Context(), mesh.InboxOptions{})
	if !errors.Is(err, mesh.ErrForbidden) {
		t.Fatalf("got %v, want 403", err)
	}
}

func TestWitness702InvalidRecipient(t *testing.T) {
	e := mustEnv(t, nil)
	_, err := e.a.Send(t.Context(), mesh.SendRequest{To: "aninvalidid1234", WorkflowID: "WF", Body: strings.NewReader("x")})
	var me *mesh.Error
	if !errors.As(err, &me) || me.Status != 417 || me.Code != mesh.CodeUnregisteredRecipient || me.Event != mesh.EventSend || me.MessageID == "" {
		t.Fatalf("got %v, want 417 SEND 12 with a message ID", err)
	}
}

func TestWitness703UndeliveredReport(t *testing.T) {
	e := mustEnv(t, nil)
	res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	rid := e.report(t, boxA, res.MessageID, mesh.CodeUndelivered, "Message not collected by recipient after 5 days", "WF")
	ids, err := e.a.Inbox(t.Context(), mesh.InboxOptions{})
	if err != nil || len(ids) != 1 || ids[0] != rid {
		t.Fatalf("inbox: %v %v", ids, err)
	}
	m, body := mustGetAll(t, e.a, rid)
	r, ok := m.Report()
	if !ok || len(body) != 0 || r.Kind != mesh.ReportUndelivered || r.LinkedMessageID != res.MessageID || r.StatusSuccess {
		t.Fatalf("got %+v ok=%v body %d", r, ok, len(body))
	}
	if err := e.a.Ack(t.Context(), rid); err != nil {
		t.Fatal(err)
	}
}

func TestWitness704MessageDoesNotExist(t *testing.T) {
	e := mustEnv(t, nil)
	_, err := e.b.Get(t.Context(), "20200601122152994285_D59900")
	var me *mesh.Error
	if !errors.As(err, &me) || me.Status != 404 || me.Code != mesh.CodeMessageDoesNotExist || !errors.Is(err, mesh.ErrNotFound) {
		t.Fatalf("got %v, want 404 RECEIVE 20", err)
	}
}

func TestWitness705AlreadyAcknowledged(t *testing.T) {
	e := mustEnv(t, nil)
	res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	mustGetAll(t, e.b, res.MessageID)
	if err := e.b.Ack(t.Context(), res.MessageID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Get(t.Context(), res.MessageID); !errors.Is(err, mesh.ErrGone) {
		t.Fatalf("got %v, want 410 gone", err)
	}
}

func TestLookupAndWorkflowSearch(t *testing.T) {
	e := mustEnv(t, nil)
	for _, id := range []string{boxB, "X27ABC1"} {
		mb, err := e.mesh.Store.GetMailbox(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		mb.Workflows = []string{"GPCONNECT_SEND_DOCUMENT"}
		if err := e.mesh.Store.PutMailbox(t.Context(), mb); err != nil {
			t.Fatal(err)
		}
	}
	has := func(rs []mesh.LookupResult, id string) bool {
		for _, r := range rs {
			if r.MailboxID == id {
				return true
			}
		}
		return false
	}
	got, err := e.a.Lookup(t.Context(), "X26", "GPCONNECT_SEND_DOCUMENT")
	if err != nil || !has(got, boxB) || has(got, "X27ABC1") {
		t.Errorf("lookup: %v %v", got, err)
	}
	got, err = e.a.WorkflowSearch(t.Context(), "GPCONNECT_SEND_DOCUMENT")
	if err != nil || !has(got, boxB) || !has(got, "X27ABC1") {
		t.Errorf("workflow search: %v %v", got, err)
	}
	got, err = e.a.Lookup(t.Context(), "Y99", "GPCONNECT_SEND_DOCUMENT")
	if err != nil || len(got) != 0 {
		t.Errorf("empty lookup: %v %v", got, err)
	}
}

func TestConfigErrors(t *testing.T) {
	good := mesh.Config{URL: "https://msg.intspineservices.nhs.uk", Mailbox: "x26abc1", Password: "p", SharedKey: "k"}
	tests := []struct {
		name  string
		tweak func(*mesh.Config)
		want  string
	}{
		{name: "insecure on a public host refused", tweak: func(c *mesh.Config) { c.TLS.InsecureSkipVerify = true }, want: "only allowed for loopback"},
		{name: "no URL", tweak: func(c *mesh.Config) { c.URL = "" }, want: "URL is empty"},
		{name: "ftp URL", tweak: func(c *mesh.Config) { c.URL = "ftp://x" }, want: "not an http(s) URL"},
		{name: "chunk too big", tweak: func(c *mesh.Config) { c.ChunkSize = 200_000_000 }, want: "ChunkSize"},
		{name: "cert without key", tweak: func(c *mesh.Config) { c.TLS.CertFile = "c.pem" }, want: "together"},
		{name: "missing files", tweak: func(c *mesh.Config) { c.TLS.CertFile, c.TLS.KeyFile = "/nonexistent/c", "/nonexistent/k" }, want: "client certificate"},
		{name: "no password", tweak: func(c *mesh.Config) { c.Password = "" }, want: "Password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.tweak(&cfg)
			_, err := mesh.NewClient(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	cfg := good
	cfg.URL = "https://127.0.0.1:8700"
	cfg.TLS.InsecureSkipVerify = true
	c, err := mesh.NewClient(cfg)
	if err != nil || c.Mailbox() != "X26ABC1" {
		t.Errorf("loopback insecure: %v", err)
	}
}

// TestFaultDropAfterAccept: the server creates the message and then drops
// the connection without answering.
func TestFaultDropAfterAccept(t *testing.T) {
	for _, tt := range []struct {
		name    string
		localID string
		chunked bool
	}{
		{name: "reconciled by local ID", localID: "local-drop-1"},
		{name: "chunked resumed by local ID", localID: "local-drop-2", chunked: true},
		{name: "no local ID gives outcome unknown"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEnv(t, func(c *mesh.Config) { c.ChunkSize = 1 << 20 })
			inner := e.mesh.Admin
			var dropped atomic.Bool
			e.front.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/outbox") && !dropped.Swap(true) {
					e.front.setHook(nil)
					inner.ServeHTTP(discardWriter{w.Header()}, r)
					hijackClose(t, w)
					return true
				}
				return false
			})
			size := 1000
			if tt.chunked {
				size = 3<<20 + 5
			}
			body := randomBytes(size, 3)
			res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", LocalID: tt.localID, Body: bytes.NewReader(body)})
			if got := e.messagesSent(t, boxA); got != 1 {
				t.Fatalf("server holds %d messages, want 1 (no duplicate)", got)
			}
			if tt.localID == "" {
				var ou *mesh.OutcomeUnknownError
				if !errors.As(err, &ou) || len(ou.Evidence) == 0 {
					t.Fatalf("got %v, want *OutcomeUnknownError with evidence", err)
				}
				return
			}
			if err != nil || !res.Reconciled {
				t.Fatalf("got %+v, %v; want a reconciled send", res, err)
			}
			_, got := mustGetAll(t, e.b, res.MessageID)
			if !bytes.Equal(got, body) {
				t.Fatal("body differs")
			}
		})
	}
}

// TestFault503OnChunk3: a transient 503 on chunk 3 is retried with a fresh
// token; a persistent one leaves a resumable *IncompleteSendError.
func TestFault503OnChunk3(t *testing.T) {
	for _, persistent := range []bool{false, true} {
		t.Run(fmt.Sprintf("persistent=%v", persistent), func(t *testing.T) {
			e := mustEnv(t, func(c *mesh.Config) { c.ChunkSize = 1 << 20 })
			var fails atomic.Int32
			e.front.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/3") && (persistent || fails.Load() == 0) {
					fails.Add(1)
					_, _ = io.Copy(io.Discard, r.Body)
					w.WriteHeader(http.StatusServiceUnavailable)
					return true
				}
				return false
			})
			body := randomBytes(5<<20, 4)
			res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", Compress: true, Body: bytes.NewReader(body)})
			if persistent {
				var inc *mesh.IncompleteSendError
				if !errors.As(err, &inc) || inc.NextChunk != 3 || inc.TotalChunks != 5 || inc.MessageID == "" {
					t.Fatalf("got %v, want *IncompleteSendError at chunk 3", err)
				}
				var me *mesh.Error
				if !errors.As(err, &me) || me.Status != 503 {
					t.Errorf("cause: %v", err)
				}
				e.front.setHook(nil)
				res, err = e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", Compress: true, Body: bytes.NewReader(body),
					Resume: &mesh.Resume{MessageID: inc.MessageID, NextChunk: inc.NextChunk}})
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := e.messagesSent(t, boxA); got != 1 {
				t.Fatalf("server holds %d messages, want 1", got)
			}
			_, got := mustGetAll(t, e.b, res.MessageID)
			if !bytes.Equal(got, body) {
				t.Fatal("body differs")
			}
		})
	}
}

// TestFaultTimeout: the server accepts the POST but answers too late.
func TestFaultTimeout(t *testing.T) {
	e := mustEnv(t, func(c *mesh.Config) { c.ResponseTimeout = 200 * time.Millisecond })
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	inner := e.mesh.Admin
	var once atomic.Bool
	e.front.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/outbox") && !once.Swap(true) {
			e.front.setHook(nil)
			inner.ServeHTTP(discardWriter{w.Header()}, r)
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return true
		}
		return false
	})
	res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", LocalID: "local-timeout", Body: strings.NewReader("x")})
	if err != nil || !res.Reconciled {
		t.Fatalf("got %+v, %v", res, err)
	}
	if got := e.messagesSent(t, boxA); got != 1 {
		t.Fatalf("server holds %d messages, want 1", got)
	}
}

// TestFaultDownloadBreaks: the connection breaks in the middle of chunk 2;
// the client fetches chunk 2 again and skips what it already returned.
func TestFaultDownloadBreaks(t *testing.T) {
	e := mustEnv(t, func(c *mesh.Config) { c.ChunkSize = 1 << 20 })
	body := randomBytes(3<<20, 5)
	res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", Compress: true, Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	inner := e.mesh.Admin
	var broke atomic.Bool
	e.front.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/2") && !broke.Swap(true) {
			e.front.setHook(nil)
			inner.ServeHTTP(&breakingWriter{ResponseWriter: w, left: 100_000}, r)
			hijackClose(t, w)
			return true
		}
		return false
	})
	_, got := mustGetAll(t, e.b, res.MessageID)
	if !bytes.Equal(got, body) || !broke.Load() {
		t.Fatalf("body differs (broke=%v)", broke.Load())
	}
}

func TestRetryUsesFreshTokens(t *testing.T) {
	e := mustEnv(t, nil)
	var seen []string
	var n atomic.Int32
	e.front.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		seen = append(seen, r.Header.Get("Authorization"))
		if n.Add(1) <= 2 {
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	if _, err := e.b.Inbox(t.Context(), mesh.InboxOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 || seen[0] == seen[1] || seen[1] == seen[2] {
		t.Fatalf("tokens: %q", seen)
	}
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// breakingWriter passes through the first left body bytes, then fails.
type breakingWriter struct {
	http.ResponseWriter
	left int
}

func (b *breakingWriter) Write(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("broken on purpose")
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.ResponseWriter.Write(p)
	b.left -= n
	if b.left <= 0 {
		b.ResponseWriter.(http.Flusher).Flush()
	}
	return n, err
}

func hijackClose(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}

func TestRichListingsAndTrackingByLocalID(t *testing.T) {
	e := mustEnv(t, nil)
	res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", LocalID: "rich-1", Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := e.a.TrackLocalID(t.Context(), "rich-1")
	if err != nil || tr.MessageID != res.MessageID || tr.Status != mesh.StatusAccepted {
		t.Errorf("track by local ID: %+v, %v", tr, err)
	}
	if _, err := e.a.TrackLocalID(t.Context(), "no-such-local-id"); !errors.Is(err, mesh.ErrNotFound) {
		t.Errorf("unknown local ID: got %v, want 404", err)
	}
	out, err := e.a.RichOutbox(t.Context(), mesh.RichInboxOptions{})
	if err != nil || len(out) != 1 || out[0].MessageID != res.MessageID || out[0].LocalID != "rich-1" {
		t.Errorf("rich outbox: %+v, %v", out, err)
	}
	in, err := e.b.RichInbox(t.Context(), mesh.RichInboxOptions{StartTime: time.Now().Add(-time.Hour), MaxResults: 10})
	if err != nil || len(in) != 1 || in[0].MessageID != res.MessageID || in[0].Sender != boxA {
		t.Errorf("rich inbox: %+v, %v", in, err)
	}
}
