package web_test

import (
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/web"
)

// loop is a sender (X27ABC1, ODS X27) and a receiver (X26ABC1, ODS X26)
// on a real MESH server over loopback HTTPS, with real SQLite stores,
// behind the web adapters.
type loop struct {
	svc    *sender.Service
	rcv    *receiver.Receiver
	store  receiver.Store
	outbox *web.SenderOutbox
	inbox  *web.ReceiverInbox
	nhs    string
	// client returns a MESH client for a mailbox of the loop's server.
	client func(mailbox string) *mesh.Client
}

var loopAuthor = senddoc.OrganisationInput{ODSCode: "X27", Name: "Test Provider", Phone: "0113 496 0100"}

// newLoop builds the loop; its sender sends at once unless a tweak sets an
// edit window.
func newLoop(t *testing.T, tweaks ...func(*sender.Config)) *loop {
	t.Helper()
	ctx := t.Context()
	ms := meshtest.NewServer(t, meshtest.Options{})
	client := func(mailbox string) *mesh.Client {
		mb := ms.Mailbox(t, mailbox)
		c, err := mesh.NewClient(mesh.Config{URL: ms.URL, Mailbox: mb.ID, Password: mb.Password, SharedKey: ms.SharedKey,
			TLS: mesh.TLSConfig{RootCAs: ms.CA.Pool()}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	dir := t.TempDir()
	db, err := sqlitestore.Open(ctx, filepath.Join(dir, "gpcm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := fileblob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	l := &loop{nhs: patient.GenerateTestNHSNumber(rand.New(rand.NewPCG(1, 2))), client: client, store: db.Receiver()}
	if l.rcv, err = receiver.New(receiver.Config{Store: db.Receiver(), Blobs: blobs, Mesh: client("X26ABC1"), ODSCode: "X26"}); err != nil {
		t.Fatal(err)
	}
	csv := receiver.RegisterHeader + "\n" + l.nhs + ",1967-01-26,Smith,Jane\n"
	if _, err := l.rcv.ImportRegister(ctx, strings.NewReader(csv), "csv"); err != nil {
		t.Fatal(err)
	}
	cfg := sender.Config{Store: db.Sender(), Mesh: client("X27ABC1"), Routing: sender.RouteMailbox, Mailbox: "X26ABC1", EditWindow: -1}
	for _, tw := range tweaks {
		tw(&cfg)
	}
	if l.svc, err = sender.New(cfg); err != nil {
		t.Fatal(err)
	}
	l.outbox = web.NewSenderOutbox(l.svc, web.SenderOutboxConfig{Mailbox: "X27ABC1", Author: loopAuthor})
	l.inbox = web.NewReceiverInbox(l.rcv, "X26", nil)
	return l
}

func (l *loop) input() senddoc.Input {
	in := senddoc.Example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	in.Patient.NHSNumber, in.Patient.Family, in.Patient.Given, in.Patient.BirthDate = l.nhs, "Smith", []string{"Jane"}, "1967-01-26"
	in.RegisteredPractice = &senddoc.OrganisationInput{ODSCode: "X26", Name: "Test Practice"}
	in.PDF = senddoc.ExamplePDF()
	in.DocumentType, in.Generation, in.Title, in.ReportName = nil, 0, "", "" // left to the defaults, as the send form does
	return in
}

// TestSenderOutboxSendReportRefusals: the form's send is checked by the
// sender itself, once; a refusal names the fields or carries the report.
func TestSenderOutboxSendReportRefusals(t *testing.T) {
	l := newLoop(t)
	tests := []struct {
		name      string
		edit      func(*senddoc.Input)
		wantField string // "" for a clean report
	}{
		{"valid report", func(*senddoc.Input) {}, ""},
		{"missing patient family name", func(in *senddoc.Input) { in.Patient.Family = "" }, "patient.family"},
		{"missing encounter", func(in *senddoc.Input) { in.Encounter = senddoc.EncounterInput{} }, "encounter.id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := l.input()
			tc.edit(&in)
			id, err := l.outbox.SendReport(t.Context(), "X27", in, "sender", "")
			ie, isInput := errors.AsType[*senddoc.InputError](err)
			switch {
			case tc.wantField == "" && (err != nil || id == ""):
				t.Fatalf("want the report queued, got %q, %v", id, err)
			case tc.wantField != "" && (!isInput || !slices.ContainsFunc(ie.Problems, func(p senddoc.Problem) bool { return p.Field == tc.wantField })):
				t.Fatalf("want a problem with field %s, got %v", tc.wantField, err)
			}
		})
	}
	if _, err := l.outbox.SendReport(t.Context(), "X99", l.input(), "sender", ""); !errors.Is(err, web.ErrNotFound) {
		t.Errorf("another organisation: err %v, want ErrNotFound", err)
	}
}

func TestAdaptersLoop(t *testing.T) {
	ctx := t.Context()
	l := newLoop(t)

	events := make(chan web.Event, 16)
	w := l.inbox.WatchInbox(func(ev web.Event) { events <- ev })
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	id, err := l.outbox.SendReport(ctx, "X27", l.input(), "sender", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.outbox.GetTransmission(ctx, "X99", id); !errors.Is(err, web.ErrNotFound) {
		t.Errorf("another organisation's transmission: err %v, want ErrNotFound", err)
	}
	if ts, _ := l.outbox.ListTransmissions(ctx, "X99", web.TransmissionFilter{}); len(ts) != 0 {
		t.Errorf("another organisation lists %d transmissions", len(ts))
	}
	if _, err := l.svc.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.rcv.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev.Topic != web.InboxTopic("X26") || ev.Name != "document" {
			t.Errorf("event %+v, want a document event on the X26 inbox", ev)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("no live update after a document arrived")
	}

	docs, err := listDocs(l.inbox.ListDocuments(ctx, "X26", web.DocumentFilter{State: web.StateAwaitingFiling}))
	if err != nil || len(docs) != 1 {
		t.Fatalf("inbox: %d documents, err %v; want 1", len(docs), err)
	}
	d := docs[0]
	if d.NHSNumber != l.nhs || d.PracticeODS != "X26" || !d.ForAction {
		t.Errorf("summary %+v", d)
	}
	if other, _ := listDocs(l.inbox.ListDocuments(ctx, "X99", web.DocumentFilter{})); len(other) != 0 {
		t.Errorf("another practice lists %d documents", len(other))
	}
	for _, probe := range []struct{ ods, id string }{{"X99", d.ID}, {"X26", "999999"}, {"X26", "not-a-number"}} {
		if _, err := l.inbox.GetDocument(ctx, probe.ods, probe.id); !errors.Is(err, web.ErrNotFound) {
			t.Errorf("GetDocument(%q, %q): err %v, want ErrNotFound", probe.ods, probe.id, err)
		}
	}
	doc, err := l.inbox.GetDocument(ctx, "X26", d.ID)
	if err != nil || !doc.HasPDF || doc.MeshMessageID == "" {
		t.Fatalf("document %+v, err %v", doc, err)
	}
	rc, err := l.inbox.OpenPDF(ctx, "X26", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Errorf("OpenPDF returned %.20q", pdf)
	}
	if err := l.inbox.File(ctx, "X99", d.ID, "x"); !errors.Is(err, web.ErrNotFound) {
		t.Errorf("filing another practice's document: err %v, want ErrNotFound", err)
	}
	if err := l.inbox.File(ctx, "X26", d.ID, "practice"); err != nil {
		t.Fatal(err)
	}
	if err := l.inbox.File(ctx, "X26", d.ID, "practice"); !errors.Is(err, web.ErrConflict) {
		t.Errorf("filing twice: err %v, want ErrConflict", err)
	}
	counts, err := l.inbox.CountDocuments(ctx, "X26")
	if err != nil || counts[web.StateFiled] != 1 {
		t.Errorf("counts %v, err %v; want 1 filed", counts, err)
	}

	// The acknowledgements reach the sender; the timeline shows them.
	if err := l.rcv.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.svc.PollInbox(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err := l.outbox.GetTransmission(ctx, "X27", id)
	if err != nil {
		t.Fatal(err)
	}
	if tr.State != string(sender.StateComplete) || len(tr.Timeline) < 2 || tr.Failed {
		t.Errorf("transmission state %s, %d timeline steps; want complete", tr.State, len(tr.Timeline))
	}
	if err := l.outbox.Resend(ctx, "X27", id, "sender"); !errors.Is(err, web.ErrConflict) {
		t.Errorf("resending a complete transmission: err %v, want ErrConflict", err)
	}
}

func TestAdaptersManualMatch(t *testing.T) {
	ctx := t.Context()
	l := newLoop(t)
	rng := rand.New(rand.NewPCG(3, 4))
	right, gone := patient.GenerateTestNHSNumber(rng), patient.GenerateTestNHSNumber(rng)
	csv := "nhs_number,birth_date,family,given,status,left_date\n" +
		right + ",1967-01-26,Smithson,Jane,registered,\n" + gone + ",1967-01-26,Smithson,June,left,2025-06-01\n"
	if _, err := l.rcv.ImportRegister(ctx, strings.NewReader(csv), "csv"); err != nil {
		t.Fatal(err)
	}
	in := l.input()
	in.Patient.Family = "Smyth" // the NHS number is registered, the name differs: held
	if _, err := l.outbox.SendReport(ctx, "X27", in, "sender", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := l.svc.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.rcv.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	docs, err := listDocs(l.inbox.ListDocuments(ctx, "X26", web.DocumentFilter{State: web.StateUnmatched}))
	if err != nil || len(docs) != 1 {
		t.Fatalf("unmatched: %d, %v; want 1", len(docs), err)
	}
	id := docs[0].ID

	found, err := l.inbox.FindPatients(ctx, "X26", web.PatientQuery{Family: "SMITHSON", BirthDate: time.Date(1967, 1, 26, 0, 0, 0, 0, time.UTC)})
	if err != nil || len(found) != 2 {
		t.Fatalf("search by name: %d, %v; want 2", len(found), err)
	}
	for _, p := range found {
		if want := p.NHSNumber == right; p.Matchable != want || p.Reason == "" {
			t.Errorf("%s: matchable %v (%q), want %v", p.Name, p.Matchable, p.Reason, want)
		}
	}
	if other, _ := l.inbox.FindPatients(ctx, "X99", web.PatientQuery{NHSNumber: right}); len(other) != 0 {
		t.Errorf("another practice found %d patients", len(other))
	}
	err = l.inbox.Match(ctx, "X26", id, gone, "checked by phone", "pat")
	if re, ok := errors.AsType[*web.RefusedError](err); !ok || !strings.Contains(re.Reason, "left the practice") || strings.Contains(re.Reason, "receiver:") {
		t.Fatalf("matching a patient who left: got %v, want a refusal naming why", err)
	}
	if err := l.inbox.Match(ctx, "X26", id, right, "checked by phone", "pat"); err != nil {
		t.Fatal(err)
	}
	doc, err := l.inbox.GetDocument(ctx, "X26", id)
	if err != nil {
		t.Fatal(err)
	}
	if doc.State != web.StateAwaitingFiling || doc.NHSNumber != right || doc.PatientName != "SMITHSON, Jane" ||
		doc.AsSent == nil || doc.AsSent.NHSNumber != l.nhs || doc.AsSent.Name != "SMYTH, Jane" {
		t.Fatalf("matched document: state %s, %s %s, as sent %+v", doc.State, doc.PatientName, doc.NHSNumber, doc.AsSent)
	}
	var ev *web.HistoryEvent
	for i := range doc.History {
		if doc.History[i].Event == "Matched by hand" {
			ev = &doc.History[i]
		}
	}
	if ev == nil || ev.By != "pat" || ev.At.IsZero() {
		t.Fatalf("history %+v lacks the manual match by pat", doc.History)
	}
}

// TestWebSendRendersOnce holds the web send path (issue 22 §1.2): the form's
// report is built and its PDF rendered once, by the sender.
func TestWebSendRendersOnce(t *testing.T) {
	var renders atomic.Int32
	l := newLoop(t, func(c *sender.Config) {
		c.RenderPDF = func(in senddoc.Input) ([]byte, error) { renders.Add(1); return senddoc.RenderReport(in) }
	})
	in := l.input()
	in.PDF = nil
	if _, err := l.outbox.SendReport(t.Context(), "X27", in, "sender", ""); err != nil {
		t.Fatal(err)
	}
	if n := renders.Load(); n != 1 {
		t.Errorf("the PDF was rendered %d times for one send, want 1", n)
	}
}
