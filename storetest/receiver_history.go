package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gpcm/gpcm/receiver"
)

func isNotFound(err error) bool { return errors.Is(err, receiver.ErrNotFound) }

type eventRow struct {
	kind receiver.DocumentEventKind
	by   string
}

func eventRows(t *testing.T, s receiver.Store, id int64) []eventRow {
	t.Helper()
	evs, err := s.DocumentEvents(t.Context(), id)
	if err != nil {
		t.Fatalf("DocumentEvents(%d): %v", id, err)
	}
	out := make([]eventRow, len(evs))
	for i, e := range evs {
		if e.DocumentID != id || e.At.IsZero() || (i > 0 && e.ID <= evs[i-1].ID) {
			t.Fatalf("event %d of document %d: %+v", i, id, e)
		}
		out[i] = eventRow{e.Kind, e.By}
	}
	return out
}

// runReceiverHistory checks the append-only document history: events
// written with each change, kept across a replacement, and the newest
// event's id as the change signal.
func runReceiverHistory(t *testing.T, open func(t *testing.T) receiver.Store) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	pt := receiver.DocPatient{NHSNumber: "9434765919", BirthDate: "1955-01-09", Family: "Smith", Given: "Richard"}

	t.Run("history records who did what and survives a replacement", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		if n, err := s.LatestDocumentEvent(ctx); err != nil || n != 0 {
			t.Fatalf("LatestDocumentEvent of an empty store: %d, %v", n, err)
		}
		orig := receiverDocs(t, s, []docSpec{{state: receiver.DocAwaitingFiling, at: t0, patient: pt}})[0]
		if _, err := s.TransitionDocument(ctx, receiver.TransitionParams{ID: orig.ID, From: []receiver.DocumentState{receiver.DocAwaitingFiling},
			To: receiver.DocFiled, Now: t0.Add(time.Minute), Events: []receiver.NewDocumentEvent{{Kind: receiver.EventFiled, By: "amy"}}}); err != nil {
			t.Fatal(err)
		}
		before, _ := s.LatestDocumentEvent(ctx)
		// A later version replaces the filed one (same sender, same patient).
		rs, err := s.RecordMessages(ctx, []receiver.RecordMessageParams{{MeshID: "R1", From: "X26ABC1", BlobKey: "k/R1", ReceivedAt: t0}})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := s.ClaimMessages(ctx, receiver.ClaimParams{Owner: "w", Now: t0.Add(time.Hour), Lease: time.Minute, Limit: 1})
		if err != nil || len(ms) != 1 || ms[0].ID != rs[0].Message.ID {
			t.Fatalf("ClaimMessages: %+v, %v", ms, err)
		}
		repl, err := s.CompleteMessage(ctx, receiver.CompleteParams{ID: ms[0].ID, Owner: "w", Now: t0.Add(time.Hour), State: receiver.MessageAccepted,
			HeaderID: "h-r1", InfAckCode: 20013, Keys: []string{"header:h-r1"},
			Document: &receiver.NewDocument{DocumentID: "d-r1", State: receiver.DocAwaitingFiling, Subject: "s", TypeLabel: "Report", RecipientType: "FA",
				Patient: pt, Findings: []string{}, SenderODS: "X26", ReplacesIdentifier: orig.DocumentID,
				Events: []receiver.NewDocumentEvent{{Kind: receiver.EventReceived}, {Kind: receiver.EventMatched}}}})
		if err != nil || repl.ReplacesID != orig.ID {
			t.Fatalf("replacement: %+v, %v", repl, err)
		}
		if after, _ := s.LatestDocumentEvent(ctx); after <= before {
			t.Fatalf("LatestDocumentEvent did not move: %d then %d", before, after)
		}
		if got, want := eventRows(t, s, orig.ID), []eventRow{{receiver.EventReceived, ""}, {receiver.EventFiled, "amy"}, {receiver.EventReplaced, ""}}; !slices.Equal(got, want) {
			t.Fatalf("original's history: got %v, want %v (the filing stays)", got, want)
		}
		if _, err := s.TransitionDocument(ctx, receiver.TransitionParams{ID: repl.ID, From: []receiver.DocumentState{receiver.DocAwaitingFiling},
			To: receiver.DocRejected, Reason: "wrong", Now: t0.Add(2 * time.Hour), Events: []receiver.NewDocumentEvent{{Kind: receiver.EventRejected, By: "bob", Detail: "wrong"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AnnotateDocument(ctx, receiver.AnnotateParams{ID: repl.ID, Now: t0.Add(3 * time.Hour),
			Event: receiver.NewDocumentEvent{Kind: receiver.EventNoted, By: "amy", Detail: "phoned the sender"}}); err != nil {
			t.Fatal(err)
		}
		want := []eventRow{{receiver.EventReceived, ""}, {receiver.EventMatched, ""}, {receiver.EventRejected, "bob"}, {receiver.EventNoted, "amy"}}
		if got := eventRows(t, s, repl.ID); !slices.Equal(got, want) {
			t.Fatalf("replacement's history: got %v, want %v", got, want)
		}
		evs, _ := s.DocumentEvents(ctx, repl.ID)
		if e := evs[3]; e.Detail != "phoned the sender" || !e.At.Equal(t0.Add(3*time.Hour)) {
			t.Fatalf("note: %+v", e)
		}
		if _, err := s.DocumentEvents(ctx, 999); !isNotFound(err) {
			t.Fatalf("history of an unknown document: %v, want ErrNotFound", err)
		}
	})

	t.Run("a refused transition records no event", func(t *testing.T) {
		s := open(t)
		d := receiverDocs(t, s, []docSpec{{state: receiver.DocHeld, at: t0, patient: pt}})[0]
		if _, err := s.TransitionDocument(t.Context(), receiver.TransitionParams{ID: d.ID, From: []receiver.DocumentState{receiver.DocAwaitingFiling},
			To: receiver.DocFiled, Now: t0, Events: []receiver.NewDocumentEvent{{Kind: receiver.EventFiled, By: "amy"}}}); !errors.Is(err, receiver.ErrConflict) {
			t.Fatalf("filing a held document: %v, want ErrConflict", err)
		}
		if got := eventRows(t, s, d.ID); len(got) != 1 {
			t.Fatalf("history after a refused change: %v", got)
		}
	})

	t.Run("GPCM-SD-034 a voided original gets a void event", func(t *testing.T) {
		s := open(t)
		d := receiverDocs(t, s, []docSpec{{state: receiver.DocAwaitingFiling, at: t0, patient: pt}})[0]
		rs, err := s.RecordMessages(t.Context(), []receiver.RecordMessageParams{{MeshID: "V1", From: "X26ABC1", BlobKey: "k/V1", ReceivedAt: t0}})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: "w", Now: t0, Lease: time.Minute, Limit: 1})
		if err != nil || len(ms) != 1 || ms[0].ID != rs[0].Message.ID {
			t.Fatalf("ClaimMessages: %+v, %v", ms, err)
		}
		if _, err := s.CompleteMessage(t.Context(), receiver.CompleteParams{ID: ms[0].ID, Owner: "w", Now: t0.Add(time.Minute), State: receiver.MessageRejected,
			HeaderID: "h-v1", InfAckCode: 20014, Void: &receiver.VoidTarget{Identifier: d.DocumentID, SenderODS: "X26", Reason: "void (20014)"}}); err != nil {
			t.Fatal(err)
		}
		if got, want := eventRows(t, s, d.ID), []eventRow{{receiver.EventReceived, ""}, {receiver.EventVoid, ""}}; !slices.Equal(got, want) {
			t.Fatalf("history: got %v, want %v", got, want)
		}
	})
}
