package web_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/web"
)

// TestAdaptersReplace sends a report, completes it, sends a corrected
// version through the sender adapter and sees the practice receive it as a
// replacement that archives the first version.
func TestAdaptersReplace(t *testing.T) {
	ctx := t.Context()
	l := newLoop(t)
	deliver := func() {
		t.Helper()
		if _, err := l.svc.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.rcv.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	id, err := l.outbox.SendReport(ctx, "X27", l.input(), "sender", "")
	if err != nil {
		t.Fatal(err)
	}
	if tr, _ := l.outbox.GetTransmission(ctx, "X27", id); tr.CanReplace || len(tr.Timeline) == 0 || tr.Timeline[0].By != "sender" {
		t.Fatalf("a queued transmission: CanReplace %v, timeline %+v (want not replaceable, submitted by sender)", tr.CanReplace, tr.Timeline)
	}
	if _, err := l.outbox.OriginalReport(ctx, "X27", id); !errors.Is(err, web.ErrConflict) {
		t.Fatalf("OriginalReport of a queued transmission: err %v, want ErrConflict", err)
	}
	deliver()
	docs, err := listDocs(l.inbox.ListDocuments(ctx, "X26", web.DocumentFilter{}))
	if err != nil || len(docs) != 1 {
		t.Fatalf("inbox: %d documents, %v", len(docs), err)
	}
	first := docs[0].ID
	if err := l.inbox.File(ctx, "X26", first, "practice"); err != nil {
		t.Fatal(err)
	}
	if err := l.rcv.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.svc.PollInbox(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err := l.outbox.GetTransmission(ctx, "X27", id)
	if err != nil || !tr.CanReplace || tr.Replacement || tr.ReplacedBy != "" {
		t.Fatalf("complete transmission: %+v, %v; want replaceable", tr, err)
	}
	if _, err := l.outbox.OriginalReport(ctx, "X99", id); !errors.Is(err, web.ErrNotFound) {
		t.Errorf("another organisation's report: err %v, want ErrNotFound", err)
	}
	orig, err := l.outbox.OriginalReport(ctx, "X27", id)
	if err != nil {
		t.Fatal(err)
	}
	if orig.Replaces == nil || orig.Replaces.DocumentID == "" || orig.Version != 2 || orig.Patient.NHSNumber != l.nhs || len(orig.PDF) == 0 {
		t.Fatalf("original: replaces %+v version %d", orig.Replaces, orig.Version)
	}
	orig.Sections[0].Text += " Corrected."
	nid, err := l.outbox.ReplaceReport(ctx, "X27", id, orig, "sender")
	if err != nil {
		t.Fatal(err)
	}
	ntr, err := l.outbox.GetTransmission(ctx, "X27", nid)
	if err != nil || !ntr.Replacement || ntr.Replaces != id || ntr.CanReplace || ntr.Timeline[0].By != "sender" {
		t.Fatalf("replacement: %+v, %v", ntr, err)
	}
	if tr, _ = l.outbox.GetTransmission(ctx, "X27", id); tr.ReplacedBy != nid || tr.CanReplace {
		t.Fatalf("replaced transmission: replaced by %q, can replace %v; want %s, false", tr.ReplacedBy, tr.CanReplace, nid)
	}
	if _, err := l.outbox.ReplaceReport(ctx, "X27", id, orig, "sender"); !errors.Is(err, web.ErrConflict) {
		t.Errorf("replacing the old version again: err %v, want ErrConflict", err)
	}
	if ts, _ := l.outbox.ListTransmissions(ctx, "X27", web.TransmissionFilter{}); len(ts) != 2 || !ts[0].Replacement || ts[1].Replacement {
		t.Errorf("outbox list: %+v; want the replacement first, flagged", ts)
	}

	deliver()
	docs, err = listDocs(l.inbox.ListDocuments(ctx, "X26", web.DocumentFilter{State: web.StateAwaitingFiling}))
	if err != nil || len(docs) != 1 || !docs[0].Replacement {
		t.Fatalf("awaiting filing: %+v, %v; want the replacement, flagged", docs, err)
	}
	old, err := l.inbox.GetDocument(ctx, "X26", first)
	if err != nil || old.State != web.StateReplaced || old.ReplacedBy != docs[0].ID {
		t.Fatalf("first version: state %s replaced by %q, %v; want replaced by %s", old.State, old.ReplacedBy, err, docs[0].ID)
	}
	if nd, _ := l.inbox.GetDocument(ctx, "X26", docs[0].ID); nd.Replaces != first {
		t.Errorf("replacement names %q as replaced, want %s", nd.Replaces, first)
	}
}

// TestAdaptersReplaceRefused checks that a report the practice could not
// file (negative business acknowledgement) may be corrected.
func TestAdaptersReplaceRefused(t *testing.T) {
	ctx := t.Context()
	l := newLoop(t)
	in := l.input()
	in.Patient.NHSNumber = patient.GenerateTestNHSNumber(rand.New(rand.NewPCG(9, 9))) // not on the practice register: 30002
	id, err := l.outbox.SendReport(ctx, "X27", in, "sender", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.svc.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := l.rcv.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.svc.PollInbox(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err := l.outbox.GetTransmission(ctx, "X27", id)
	if err != nil || !tr.Failed || !tr.CanReplace {
		t.Fatalf("refused report: state %s failed %v can replace %v, %v; want failed and replaceable", tr.State, tr.Failed, tr.CanReplace, err)
	}
	orig, err := l.outbox.OriginalReport(ctx, "X27", id)
	if err != nil || orig.Patient.NHSNumber != in.Patient.NHSNumber {
		t.Fatalf("OriginalReport: %v", err)
	}
	orig.Patient.NHSNumber = l.nhs // the corrected version names the right patient
	nid, err := l.outbox.ReplaceReport(ctx, "X27", id, orig, "sender")
	if err != nil {
		t.Fatal(err)
	}
	if ntr, _ := l.outbox.GetTransmission(ctx, "X27", nid); ntr.Replaces != id {
		t.Fatalf("replacement names %q, want %s", ntr.Replaces, id)
	}
}

// TestSenderOutboxSendOncePerForm: the form's token is the sender's
// idempotency key, so the same form sent twice, even edited, queues one
// transmission (issue 24 §4).
func TestSenderOutboxSendOncePerForm(t *testing.T) {
	l := newLoop(t)
	ctx := t.Context()
	const key = "0f8fad5b-d9cb-469f-a165-70867728950e"
	first, err := l.outbox.SendReport(ctx, "X27", l.input(), "sender", key)
	if err != nil {
		t.Fatal(err)
	}
	in := l.input()
	in.Sections[0].Text += " Edited."
	second, err := l.outbox.SendReport(ctx, "X27", in, "sender", key)
	if err != nil || second != first {
		t.Fatalf("second send: %q, %v, want the first transmission %q", second, err, first)
	}
	if ts, _ := l.outbox.ListTransmissions(ctx, "X27", web.TransmissionFilter{}); len(ts) != 1 {
		t.Fatalf("%d transmissions, want 1", len(ts))
	}
}
