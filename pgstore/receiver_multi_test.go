package pgstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

const (
	multiSender   = "X26ABC1"
	multiPractice = "X26ABC2"
)

type multiTBWriter struct{ tb testing.TB }

func (w multiTBWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

func multiLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(multiTBWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func mustMeshClient(tb testing.TB, ms *meshtest.Server, mailbox string) *mesh.Client {
	tb.Helper()
	c, err := mesh.NewClient(mesh.Config{URL: ms.URL, Mailbox: mailbox, Password: "password", SharedKey: ms.SharedKey,
		TLS: mesh.TLSConfig{RootCAs: ms.CertPool()}, Retry: mesh.Backoff{Retries: 2, Initial: time.Millisecond, Max: 5 * time.Millisecond}})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// readResponses downloads and acknowledges every message in c's inbox and
// returns the ITK3 response codes by response.identifier (the original
// MessageHeader.id).
func readResponses(tb testing.TB, c *mesh.Client, into map[string][]itk3.ResponseCode) {
	tb.Helper()
	ctx := tb.Context()
	for {
		ids, err := c.Inbox(ctx, mesh.InboxOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		if len(ids) == 0 {
			return
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
				tb.Fatalf("response %s: %v", id, err)
			}
			b, ok := res.(*fhir.Bundle)
			if !ok {
				tb.Fatalf("response %s is a %s, want a Bundle", id, res.ResourceType())
			}
			r, err := itk3.ReadResponse(b)
			if err != nil {
				tb.Fatalf("response %s: %v", id, err)
			}
			into[r.RespondsTo] = append(into[r.RespondsTo], r.Code)
			if err := c.Ack(ctx, id); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// TestTwoReceiversShareOneDatabase is issue 7's "two receiver processes on
// one PostgreSQL": two receivers, each with its own pool on the same schema
// and both started, collect one practice mailbox on a real MESH server.
// Every message is filed exactly once and answered with exactly one InfAck
// and one BusAck; a message sent twice is filed once and its repeat answered
// 20007 only, whichever receiver judged it. Then both receivers try to file
// every document at the same moment: exactly one of them succeeds.
func TestTwoReceiversShareOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 110 messages through a MESH server")
	}
	schema := pgstoretest.Schema(t)
	ms := meshtest.NewServer(t, meshtest.Options{Mailboxes: []meshtest.Mailbox{
		{ID: multiSender, Password: "password", ODSCode: "X26"},
		{ID: multiPractice, Password: "password", ODSCode: "X26"},
	}})
	sender := mustMeshClient(t, ms, multiSender)
	blobDir := filepath.Join(t.TempDir(), "blobs")

	const n, every = 100, 10 // every 10th message is sent twice
	rng := rand.New(rand.NewPCG(7, 8))
	in := senddoc.Example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	in.SenderMailbox = multiSender
	in.PDF = senddoc.ExamplePDF()
	var hdrs []string
	var regs []receiver.Patient
	send := func(body []byte, env senddoc.Envelope) {
		if _, err := sender.Send(t.Context(), mesh.SendRequest{To: multiPractice, WorkflowID: env.WorkflowID, Subject: env.Subject,
			LocalID: "X26", Body: bytes.NewReader(body), Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		in.Patient.NHSNumber = patient.GenerateTestNHSNumber(rng)
		regs = append(regs, receiver.Patient{NHSNumber: in.Patient.NHSNumber, BirthDate: in.Patient.BirthDate,
			Family: in.Patient.Family, Given: in.Patient.Given[0], Status: receiver.StatusRegistered})
		b, err := senddoc.Build(in, senddoc.BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		body, err := b.XML()
		if err != nil {
			t.Fatal(err)
		}
		hdrs = append(hdrs, b.HeaderID)
		send(body, b.Envelope)
		if i%every == 0 {
			send(body, b.Envelope)
		}
	}

	rcvs := make([]*receiver.Receiver, 2)
	for i := range rcvs {
		db := pgstoretest.MustOpenSchema(t, schema)
		if i == 0 {
			if _, err := db.Receiver().UpsertPatients(t.Context(), regs, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		blobs, err := fileblob.Open(blobDir)
		if err != nil {
			t.Fatal(err)
		}
		r, err := receiver.New(receiver.Config{Store: db.Receiver(), Blobs: blobs, Mesh: mustMeshClient(t, ms, multiPractice),
			ODSCode: "X26", Logger: multiLogger(t), PollInterval: 20 * time.Millisecond, Lease: 30 * time.Second,
			Batch: 5, PageSize: 10, Owner: fmt.Sprintf("receiver-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		rcvs[i] = r
	}
	for _, r := range rcvs {
		if err := r.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
	}

	wantAcks := 2*n + n/every
	got := map[string][]itk3.ResponseCode{}
	total := func() int {
		c := 0
		for _, codes := range got {
			c += len(codes)
		}
		return c
	}
	for deadline := time.Now().Add(3 * time.Minute); total() < wantAcks && time.Now().Before(deadline); {
		readResponses(t, sender, got)
		time.Sleep(50 * time.Millisecond)
	}
	// More rounds of both receivers must send nothing more.
	time.Sleep(500 * time.Millisecond)
	for i, r := range rcvs {
		r.Stop()
		// How the work was shared (logged, not asserted: it depends on timing).
		var m bytes.Buffer
		if err := r.WriteMetrics(t.Context(), &m); err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(m.String()) {
			if strings.HasPrefix(line, "gpcm_receiver_processing_seconds_count") {
				t.Logf("receiver-%d: %s", i, strings.TrimSpace(line))
			}
		}
	}
	readResponses(t, sender, got)

	for i, h := range hdrs {
		codes := slices.Clone(got[h])
		slices.Sort(codes)
		want := []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}
		if i%every == 0 {
			want = []itk3.ResponseCode{itk3.CodeDuplicateMessage, itk3.CodeSuccess, itk3.CodePatientKnown}
		}
		if !slices.Equal(codes, want) {
			t.Errorf("message %d (%s): acks %v, want exactly %v", i, h, codes, want)
		}
	}
	if extra := len(got) - len(hdrs); extra != 0 {
		t.Errorf("%d responses to unknown messages", extra)
	}

	store := pgstoretest.MustOpenSchema(t, schema).Receiver()
	msgs, err := store.CountMessages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[receiver.MessageState]int{receiver.MessageAccepted: n, receiver.MessageRejected: n / every}; !maps.Equal(msgs, want) {
		t.Errorf("messages: got %v, want %v", msgs, want)
	}
	page, err := store.QueryDocuments(t.Context(), receiver.DocumentQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	docs := page.Documents
	seen := map[string]int{}
	for _, d := range docs {
		seen[d.HeaderID]++
		if d.State != receiver.DocAwaitingFiling {
			t.Errorf("document %d: state %s, want %s", d.ID, d.State, receiver.DocAwaitingFiling)
		}
	}
	for i, h := range hdrs {
		if seen[h] != 1 {
			t.Errorf("message %d (%s): %d documents, want 1", i, h, seen[h])
		}
	}
	if len(docs) != n {
		t.Errorf("documents: got %d, want %d", len(docs), n)
	}

	// Both receivers file every document at once: one wins, the other is
	// told the document is no longer awaiting filing.
	for _, d := range docs {
		var wg sync.WaitGroup
		errs := make([]error, len(rcvs))
		for i, r := range rcvs {
			wg.Go(func() { _, errs[i] = r.FileDocumentBy(t.Context(), d.ID, "test") })
		}
		wg.Wait()
		ok, conflicts := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, receiver.ErrConflict):
				conflicts++
			default:
				t.Fatalf("file document %d: %v", d.ID, err)
			}
		}
		if ok != 1 || conflicts != 1 {
			t.Errorf("file document %d from two receivers: %d filed, %d conflicts; want 1 and 1", d.ID, ok, conflicts)
		}
	}
	counts, err := store.CountDocuments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[receiver.DocumentState]int{receiver.DocFiled: n}; !maps.Equal(counts, want) {
		t.Errorf("documents after filing: got %v, want %v", counts, want)
	}
}
