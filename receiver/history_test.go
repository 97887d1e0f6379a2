package receiver_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

type kindBy struct {
	kind receiver.DocumentEventKind
	by   string
}

func historyOf(t *testing.T, e *env, id int64) []kindBy {
	t.Helper()
	evs, err := e.rcv.History(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]kindBy, len(evs))
	for i, ev := range evs {
		out[i] = kindBy{ev.Kind, ev.By}
	}
	return out
}

// The people who match, file and reject a document are recorded in its
// history with what they did (issue 22: who filed or rejected a clinical
// document), subscribers hear of every change, a match whose details
// differ needs a reason (issue 24 §5), and a held document's rejection
// reason reaches the sender in the negative business ack (issue 24 §1).
func TestHistoryRecordsWhoDidWhat(t *testing.T) {
	e := MustEnv(t, nil)
	changes, cancel := e.rcv.Subscribe()
	defer cancel()
	rng := rand.New(rand.NewPCG(24, 5))
	var ids []string
	for _, given := range []string{"Someone", "Else", ""} {
		in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
		in.Patient.NHSNumber = patient.GenerateTestNHSNumber(rng)
		p := regOf(in)
		if given != "" {
			p.Given = given // differs from the document: held for review
		}
		e.register(t, p)
		b := mustBuild(t, in)
		e.sendBuilt(t, b)
		ids = append(ids, b.HeaderID)
	}
	e.run(t)
	select {
	case <-changes:
	default:
		t.Fatal("no change announced for the new documents")
	}
	held, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{State: receiver.DocHeld})
	if err != nil || len(held) != 2 {
		t.Fatalf("held: %d, %v; want 2", len(held), err)
	}
	awaiting, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{State: receiver.DocAwaitingFiling})
	if err != nil || len(awaiting) != 1 {
		t.Fatalf("awaiting: %d, %v; want 1", len(awaiting), err)
	}
	if receiver.SenderToldOfRejection(awaiting[0]) || !receiver.SenderToldOfRejection(held[1]) {
		t.Fatal("SenderToldOfRejection: want false for a document answered 30001, true for a held one")
	}

	if _, err := e.rcv.MatchDocumentTo(t.Context(), held[0].ID, receiver.MatchParams{By: "amy"}); !errors.Is(err, receiver.ErrInvalid) {
		t.Fatalf("match with differing details and no reason: %v, want ErrInvalid", err)
	}
	if _, err := e.rcv.MatchDocumentTo(t.Context(), held[0].ID, receiver.MatchParams{By: "amy", Reason: "given name confirmed by phone"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rcv.FileDocumentBy(t.Context(), held[0].ID, "amy"); err != nil {
		t.Fatal(err)
	}
	const why = "not our patient; please check the NHS number and resend"
	if _, err := e.rcv.RejectDocument(t.Context(), held[1].ID, receiver.RejectParams{Reason: why, By: "bob"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rcv.RejectDocument(t.Context(), awaiting[0].ID, receiver.RejectParams{Reason: "duplicate of a paper copy", By: "bob"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rcv.AssignDocument(t.Context(), awaiting[0].ID, "Dr Patel", "amy"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rcv.NoteDocument(t.Context(), awaiting[0].ID, "phoned the sender", "amy"); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-changes:
		if c.ID == 0 {
			t.Fatalf("change %+v names no document", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no change announced for the actions")
	}

	rows := []struct {
		id   int64
		want []kindBy
	}{
		{held[0].ID, []kindBy{{receiver.EventReceived, ""}, {receiver.EventHeld, ""}, {receiver.EventMatched, "amy"}, {receiver.EventAcknowledged, "amy"}, {receiver.EventFiled, "amy"}}},
		{held[1].ID, []kindBy{{receiver.EventReceived, ""}, {receiver.EventHeld, ""}, {receiver.EventRejected, "bob"}, {receiver.EventAcknowledged, "bob"}}},
		{awaiting[0].ID, []kindBy{{receiver.EventReceived, ""}, {receiver.EventMatched, ""}, {receiver.EventAcknowledged, ""},
			{receiver.EventRejected, "bob"}, {receiver.EventAssigned, "amy"}, {receiver.EventNoted, "amy"}}},
	}
	for _, r := range rows {
		if got := historyOf(t, e, r.id); !slices.Equal(got, r.want) {
			t.Errorf("document %d: history %v, want %v", r.id, got, r.want)
		}
	}
	if d, _ := e.rcv.GetDocument(t.Context(), awaiting[0].ID); d.AssignedTo != "Dr Patel" {
		t.Errorf("assigned to %q, want Dr Patel", d.AssignedTo)
	}

	e.run(t)
	e.readAcks(t)
	// held[1] is ids[1]: its negative BusAck carries the practice's words.
	var told string
	for _, a := range e.acks[ids[1]] {
		if a.resp.Code == itk3.CodePatientNotKnown {
			told = a.resp.Diagnostics
		}
	}
	if told != why {
		t.Errorf("30002 diagnostics: got %q, want the practice's reason %q", told, why)
	}
	if got := e.codes(ids[2]); !slices.Equal(got, []itk3.ResponseCode{20013, 30001}) {
		t.Errorf("the document rejected after 30001: acks %v, want no second business ack", got)
	}
}
