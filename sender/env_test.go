package sender_test

// Tests run the sender against gpcm's real MESH server (meshtest) on
// loopback HTTPS, behind a thin front that can inject faults into the first
// POST of a message, with a real SQLite store in t.TempDir(). The practice
// side is a test peer: a MESH client for the practice mailbox that answers
// each report with ITK3 responses built by itk3.NewResponse.

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
	"github.com/gpcm/gpcm/sqlitestore"
)

const (
	senderMailbox   = "X26ABC1"
	practiceMailbox = "X27ABC1"
)

// clock is an injectable clock the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type hookFunc func(w http.ResponseWriter, r *http.Request) bool

type front struct {
	mu   sync.Mutex
	hook hookFunc
	next http.Handler
}

func (f *front) setHook(h hookFunc) { f.mu.Lock(); f.hook = h; f.mu.Unlock() }

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	h := f.hook
	f.mu.Unlock()
	if h != nil && h(w, r) {
		return
	}
	f.next.ServeHTTP(w, r)
}

type env struct {
	mesh     *meshtest.Server
	front    *front
	url      string
	pool     *x509.CertPool
	clock    *clock
	store    *sqlitestore.SenderStore
	svc      *sender.Service
	client   *mesh.Client
	practice *mesh.Client
}

type envOptions struct {
	patients []meshserver.Patient
	tweak    func(*sender.Config)
}

// testPatient is the example input's patient, registered at ODS X27.
var testPatient = meshserver.Patient{NHSNumber: "9434765919", BirthDate: "19550109", Surname: "Smith", PracticeODS: "X27"}

func mustEnv(tb testing.TB, o envOptions) *env {
	tb.Helper()
	if o.patients == nil {
		o.patients = []meshserver.Patient{testPatient}
	}
	ms := meshtest.NewServer(tb, meshtest.Options{Patients: o.patients})
	f := &front{next: ms.Admin}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	e := &env{mesh: ms, front: f, url: srv.URL, pool: pool, clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	e.client = e.meshClient(tb, senderMailbox)
	e.practice = e.meshClient(tb, practiceMailbox)
	db, err := sqlitestore.Open(tb.Context(), filepath.Join(tb.TempDir(), "gpcm.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	e.store = db.Sender()
	// Reports go at once unless a test sets an edit window (edit_test.go).
	cfg := sender.Config{Store: e.store, Mesh: e.client, Now: e.clock.Now, Logger: testLogger(tb),
		Backoff: mesh.Backoff{Initial: time.Second, Max: time.Second}, EditWindow: -1}
	if o.tweak != nil {
		o.tweak(&cfg)
	}
	if e.svc, err = sender.New(cfg); err != nil {
		tb.Fatal(err)
	}
	return e
}

func (e *env) meshClient(tb testing.TB, mailbox string) *mesh.Client {
	tb.Helper()
	c, err := mesh.NewClient(mesh.Config{URL: e.url, Mailbox: mailbox, Password: "password", SharedKey: e.mesh.SharedKey,
		TLS: mesh.TLSConfig{RootCAs: e.pool}, Retry: mesh.Backoff{Retries: 2, Initial: time.Millisecond, Max: 5 * time.Millisecond}})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// exampleInput is a valid consultation summary from the sender mailbox.
func exampleInput() senddoc.Input {
	in := senddoc.Example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	in.SenderMailbox = senderMailbox
	in.PDF = senddoc.ExamplePDF()
	return in
}

func (e *env) submit(tb testing.TB, in senddoc.Input) sender.Transmission {
	tb.Helper()
	t, created, err := e.svc.Submit(tb.Context(), sender.Submission{Input: &in})
	if err != nil {
		tb.Fatal(err)
	}
	if !created {
		tb.Fatalf("submit: created=false for a new input")
	}
	return t
}

func (e *env) get(tb testing.TB, id string) sender.Transmission {
	tb.Helper()
	t, err := e.store.GetTransmission(tb.Context(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func (e *env) mustState(tb testing.TB, id string, want sender.State) sender.Transmission {
	tb.Helper()
	t := e.get(tb, id)
	if t.State != want {
		tb.Fatalf("transmission %s: got state %s, want %s (last error %q)", id, t.State, want, t.LastError)
	}
	return t
}

func (e *env) sendDue(tb testing.TB) {
	tb.Helper()
	if _, err := e.svc.SendDue(tb.Context()); err != nil {
		tb.Fatal(err)
	}
}

func (e *env) poll(tb testing.TB) {
	tb.Helper()
	if _, err := e.svc.PollInbox(tb.Context()); err != nil {
		tb.Fatal(err)
	}
}

// received is one report as the practice got it.
type received struct {
	meshID    string
	headerID  string
	senderRef string
	body      []byte
}

// practiceInbox downloads and MESH-acknowledges everything in the practice
// mailbox.
func (e *env) practiceInbox(tb testing.TB) []received {
	tb.Helper()
	ctx := tb.Context()
	ids, err := e.practice.Inbox(ctx, mesh.InboxOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []received
	for _, id := range ids {
		d, err := e.practice.Get(ctx, id)
		if err != nil {
			tb.Fatal(err)
		}
		body, err := io.ReadAll(d)
		d.Close()
		if err != nil {
			tb.Fatal(err)
		}
		rep, err := senddoc.ValidateBytes(ctx, body, senddoc.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		if err := e.practice.Ack(ctx, id); err != nil {
			tb.Fatal(err)
		}
		out = append(out, received{meshID: id, headerID: rep.MessageHeaderID, senderRef: rep.SenderReference, body: body})
	}
	return out
}

// respond sends an ITK3 response from the practice to the sender.
func (e *env) respond(tb testing.TB, r received, code itk3.ResponseCode) {
	tb.Helper()
	msg, err := itk3.NewResponse(itk3.ResponseParams{Code: code, OriginalHeaderID: r.headerID, SenderReference: r.senderRef,
		ResponderODS: "X27", ResponderMailbox: practiceMailbox, Diagnostics: diag(code), Now: time.Now()})
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := fhir.EncodeXML(&buf, msg.Bundle, nil); err != nil {
		tb.Fatal(err)
	}
	if _, err := e.practice.Send(tb.Context(), mesh.SendRequest{To: senderMailbox, WorkflowID: senddoc.WorkflowV1 + "_ACK",
		LocalID: "X27", ContentType: "application/fhir+xml", Body: &buf}); err != nil {
		tb.Fatal(err)
	}
}

func diag(code itk3.ResponseCode) string {
	if code.Positive() {
		return ""
	}
	return "test peer refused the message"
}

func (e *env) alerts(tb testing.TB, id string) []sender.Alert {
	tb.Helper()
	as, err := e.store.ListAlerts(tb.Context(), sender.AlertFilter{TransmissionID: id})
	if err != nil {
		tb.Fatal(err)
	}
	return as
}

var _ = context.Background

var meshInboxAll = mesh.InboxOptions{}
