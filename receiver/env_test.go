package receiver_test

import (
	"bytes"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/blob/s3blob"
	"github.com/gpcm/gpcm/blob/s3blob/s3blobtest"
	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sqlitestore"
)

const (
	senderMailbox   = "X26ABC1"
	practiceMailbox = "X26ABC2"
	exampleMailbox  = "MESHGP0001"
)

// clock is a settable test clock.
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

// ackSeen is one ITK3 response found in the sender's inbox.
type ackSeen struct {
	resp     itk3.Response
	workflow string
	localID  string       // Mex-LocalID
	bundle   *fhir.Bundle // the response message
}

type env struct {
	mesh   *meshtest.Server
	sender *mesh.Client
	// exampleSender is the mailbox the official examples name as sender.
	exampleSender *mesh.Client
	store         receiver.Store
	// blobs is the receiver's payload store as gpcm receiver builds it:
	// small bodies in the database, larger ones as files.
	blobs blob.Store
	rcv   *receiver.Receiver
	clock *clock
	cfg   receiver.Config
	// acks holds every response read from the sender inbox, by
	// response.identifier.
	acks map[string][]ackSeen
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// MustEnv starts a MESH server on loopback HTTPS, a receiver for the
// practice mailbox on SQLite (small payloads) and files (large ones) in
// t.TempDir, and a sender client.
func MustEnv(tb testing.TB, tweak func(*receiver.Config)) *env {
	tb.Helper()
	return mustEnvWith(tb, envOptions{}, tweak)
}

// envOptions choose where a test receiver keeps its state.
type envOptions struct {
	// dataDir, when set, holds the SQLite database and the payload files
	// (as gpcm receiver --data does); otherwise each has a temp dir.
	dataDir string
	// postgres stores the receiver's state in a fresh PostgreSQL schema
	// (GPCM_TEST_POSTGRES_URL; skips without it unless GPCM_TEST_STRICT=1)
	// and its large payloads in files.
	postgres bool
	// s3 (with postgres) keeps every payload as an S3 object
	// (GPCM_TEST_S3_URL, a fresh bucket), none in the database.
	s3 bool
}

func mustEnvWith(tb testing.TB, o envOptions, tweak func(*receiver.Config)) *env {
	tb.Helper()
	ms := meshtest.NewServer(tb, meshtest.Options{Mailboxes: []meshtest.Mailbox{
		{ID: senderMailbox, Password: "password", ODSCode: "X26"},
		{ID: practiceMailbox, Password: "password", ODSCode: "X26"},
		{ID: "X27ABC1", Password: "password", ODSCode: "X27"},
		// The official examples' sender (MessageHeader.source.endpoint).
		{ID: exampleMailbox, Password: "password", ODSCode: "GP0001"},
	}})
	e := &env{mesh: ms, clock: &clock{t: time.Now().UTC().Truncate(time.Second)}, acks: map[string][]ackSeen{}}
	e.sender = mustClient(tb, ms, senderMailbox)
	e.exampleSender = mustClient(tb, ms, exampleMailbox)
	dbDir, blobDir := tb.TempDir(), filepath.Join(tb.TempDir(), "blobs")
	if o.dataDir != "" {
		dbDir, blobDir = o.dataDir, filepath.Join(o.dataDir, "blobs")
	}
	files, err := fileblob.Open(blobDir)
	if err != nil {
		tb.Fatal(err)
	}
	inlineMax := int64(0)
	switch {
	case o.postgres && o.s3:
		db := pgstoretest.MustOpen(tb)
		e.store = db.Receiver()
		s3, err := s3blob.OpenConfig(tb.Context(), s3blobtest.Bucket(tb))
		if err != nil {
			tb.Fatal(err)
		}
		e.blobs, inlineMax = s3, -1
	case o.postgres:
		db := pgstoretest.MustOpen(tb)
		e.store = db.Receiver()
		e.blobs = tier.New(db.Blobs(), files, tier.DefaultThreshold)
	default:
		db, err := sqlitestore.Open(tb.Context(), filepath.Join(dbDir, "receiver.db"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		e.store = db.Receiver()
		e.blobs = tier.New(db.Blobs(), files, tier.DefaultThreshold)
	}
	e.cfg = receiver.Config{Store: e.store, Blobs: e.blobs, Mesh: mustClient(tb, ms, practiceMailbox), ODSCode: "X26",
		Logger: testLogger(tb), Now: e.clock.Now, HoldFor: 48 * time.Hour, PageSize: 10, InlineMax: inlineMax}
	if tweak != nil {
		tweak(&e.cfg)
	}
	if e.rcv, err = receiver.New(e.cfg); err != nil {
		tb.Fatal(err)
	}
	return e
}

func mustClient(tb testing.TB, ms *meshtest.Server, mailbox string) *mesh.Client {
	tb.Helper()
	c, err := mesh.NewClient(mesh.Config{URL: ms.URL, Mailbox: mailbox, Password: "password", SharedKey: ms.SharedKey,
		TLS: mesh.TLSConfig{RootCAs: ms.CertPool()}, Retry: mesh.Backoff{Retries: 2, Initial: time.Millisecond, Max: 5 * time.Millisecond}})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// send sends body from the sender mailbox to the practice.
func (e *env) send(tb testing.TB, body []byte, workflow, subject string) string {
	tb.Helper()
	res, err := e.sender.Send(tb.Context(), mesh.SendRequest{To: practiceMailbox, WorkflowID: workflow, Subject: subject,
		LocalID: "X26", Body: bytes.NewReader(body), Size: int64(len(body))})
	if err != nil {
		tb.Fatal(err)
	}
	return res.MessageID
}

// run does receiver rounds until nothing is left to do.
func (e *env) run(tb testing.TB) {
	tb.Helper()
	if err := e.rcv.RunOnce(tb.Context()); err != nil {
		tb.Fatalf("RunOnce: %v", err)
	}
}

// readAcks downloads, records and acknowledges every message in the
// senders' inboxes.
func (e *env) readAcks(tb testing.TB) {
	tb.Helper()
	e.readAcksOf(tb, e.sender)
	e.readAcksOf(tb, e.exampleSender)
}

func (e *env) readAcksOf(tb testing.TB, c *mesh.Client) {
	tb.Helper()
	ctx := tb.Context()
	ids, err := c.Inbox(ctx, mesh.InboxOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, id := range ids {
		d, err := c.Get(ctx, id)
		if err != nil {
			tb.Fatal(err)
		}
		body, err := io.ReadAll(d)
		d.Close()
		if err != nil {
			tb.Fatal(err)
		}
		res, _, err := fhir.DecodeXML(bytes.NewReader(body), nil)
		if err != nil {
			tb.Fatalf("ack %s: %v", id, err)
		}
		b, ok := res.(*fhir.Bundle)
		if !ok {
			tb.Fatalf("ack %s is a %s", id, res.ResourceType())
		}
		r, err := itk3.ReadResponse(b)
		if err != nil {
			tb.Fatalf("ack %s: %v", id, err)
		}
		rep, err := senddoc.Validate(ctx, bytes.NewReader(body), senddoc.Options{})
		if err != nil || rep.Kind != senddoc.KindResponse || !rep.Conformant() {
			tb.Errorf("ack %s (code %s) does not validate as an ITK3 response: %v %v", id, r.Code, err, rep.Findings)
		}
		e.acks[r.RespondsTo] = append(e.acks[r.RespondsTo], ackSeen{resp: r, workflow: d.Message.WorkflowID, localID: d.Message.LocalID, bundle: b})
		if err := c.Ack(ctx, id); err != nil {
			tb.Fatal(err)
		}
	}
}

// codes returns the response codes seen for an original MessageHeader.id.
func (e *env) codes(id string) []itk3.ResponseCode {
	var out []itk3.ResponseCode
	for _, a := range e.acks[id] {
		out = append(out, a.resp.Code)
	}
	return out
}

// example returns a buildable input for the use case, from the sender
// mailbox, with a PDF.
func example(uc senddoc.UseCase, gen int) senddoc.Input {
	in := senddoc.Example(uc, gen)
	in.SenderMailbox = senderMailbox
	in.PDF = senddoc.ExamplePDF()
	return in
}

func mustBuild(tb testing.TB, in senddoc.Input) *senddoc.Built {
	tb.Helper()
	b, err := senddoc.Build(in, senddoc.BuildOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustXML(tb testing.TB, b *senddoc.Built) []byte {
	tb.Helper()
	x, err := b.XML()
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

// sendBuilt sends a built message with its envelope's workflow and subject.
func (e *env) sendBuilt(tb testing.TB, b *senddoc.Built) string {
	tb.Helper()
	return e.send(tb, mustXML(tb, b), b.Envelope.WorkflowID, b.Envelope.Subject)
}

func (e *env) register(tb testing.TB, ps ...receiver.Patient) {
	tb.Helper()
	if _, err := e.store.UpsertPatients(tb.Context(), ps, e.clock.Now()); err != nil {
		tb.Fatal(err)
	}
}

// regOf is the register entry matching an input's patient.
func regOf(in senddoc.Input) receiver.Patient {
	given := ""
	if len(in.Patient.Given) > 0 {
		given = in.Patient.Given[0]
	}
	return receiver.Patient{NHSNumber: in.Patient.NHSNumber, BirthDate: in.Patient.BirthDate, Family: in.Patient.Family, Given: given, Status: receiver.StatusRegistered}
}
