package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/receiver"
)

// RunReceiver exercises a receiver.Store. open must return a fresh, empty
// store for each call and arrange its cleanup with t.Cleanup.
func RunReceiver(t *testing.T, open func(t *testing.T) receiver.Store) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	lease := time.Minute

	record := func(t *testing.T, s receiver.Store, meshID string) receiver.Message {
		t.Helper()
		rs, err := s.RecordMessages(t.Context(), []receiver.RecordMessageParams{{MeshID: meshID, WorkflowID: "GPFED_CONSULT_REPORT",
			From: "X26ABC1", To: "X26ABC2", Subject: "subject", LocalID: "L", BlobKey: "k/" + meshID, Size: 10, ReceivedAt: t0}})
		if err != nil || len(rs) != 1 || !rs[0].Created {
			t.Fatalf("RecordMessages(%s): %+v, %v", meshID, rs, err)
		}
		return rs[0].Message
	}
	claimOne := func(t *testing.T, s receiver.Store, owner string, now time.Time) receiver.Message {
		t.Helper()
		ms, err := s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: owner, Now: now, Lease: lease, Limit: 1})
		if err != nil || len(ms) != 1 {
			t.Fatalf("ClaimMessages: got %d, %v; want 1", len(ms), err)
		}
		return ms[0]
	}
	ack := func(kind receiver.AckKind, code int) receiver.NewAck {
		return receiver.NewAck{Kind: kind, Code: code, To: "X26ABC1", WorkflowID: "GPFED_CONSULT_REPORT_ACK", HeaderID: fmt.Sprint("h-", kind, code), Body: []byte("<Bundle/>")}
	}
	accept := func(id int64, owner, hdr, docID string, state receiver.DocumentState, acks ...receiver.NewAck) receiver.CompleteParams {
		return receiver.CompleteParams{ID: id, Owner: owner, Now: t0, State: receiver.MessageAccepted, HeaderID: hdr, InfAckCode: 20013,
			Keys: []string{"header:" + hdr}, Acks: acks,
			Document: &receiver.NewDocument{DocumentID: docID, MessageBundleID: "mb-" + hdr, State: state, Subject: "s", TypeLabel: "Report",
				RecipientType: "FA", Patient: receiver.DocPatient{NHSNumber: "9434765919"}, Findings: []string{"warning x"},
				Attachments: []receiver.Attachment{{Index: 0, Title: "PDF", ContentType: "application/pdf", Size: 3, BlobKey: "a/0"}}}}
	}

	runReceiverMatch(t, open)
	runReceiverAcceptance(t, open)
	runReceiverDocuments(t, open)
	runReceiverHistory(t, open)

	t.Run("record is idempotent per MESH id", func(t *testing.T) {
		s := open(t)
		m := record(t, s, "M1")
		rs, err := s.RecordMessages(t.Context(), []receiver.RecordMessageParams{
			{MeshID: "M0", BlobKey: "k/M0", ReceivedAt: t0}, {MeshID: "M1", BlobKey: "other", ReceivedAt: t0}, {MeshID: "M2", BlobKey: "k/M2", ReceivedAt: t0}})
		if err != nil || len(rs) != 3 || !rs[0].Created || rs[1].Created || rs[1].Message.ID != m.ID || rs[1].Message.BlobKey != "k/M1" ||
			!rs[2].Created || !(m.ID < rs[0].Message.ID && rs[0].Message.ID < rs[2].Message.ID) {
			t.Fatalf("batch with a repeat: got %+v, %v", rs, err)
		}
		pend, err := s.PendingMeshAcks(t.Context(), 10)
		if err != nil || len(pend) != 3 {
			t.Fatalf("PendingMeshAcks: got %d, %v; want 3", len(pend), err)
		}
		if err := s.MarkMeshAcked(t.Context(), "M1", "M0", "M2", "unknown"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkMeshAcked(t.Context()); err != nil {
			t.Fatal(err)
		}
		if pend, _ := s.PendingMeshAcks(t.Context(), 10); len(pend) != 0 {
			t.Fatalf("after MarkMeshAcked: %d pending, want 0", len(pend))
		}
		got, err := s.GetMessageByMeshID(t.Context(), "M1")
		if err != nil || !got.MeshAcked || got.State != receiver.MessageReceived || !got.ReceivedAt.Equal(t0) {
			t.Fatalf("GetMessageByMeshID: got %+v, %v", got, err)
		}
		if _, err := s.GetMessageByMeshID(t.Context(), "nope"); !errors.Is(err, receiver.ErrNotFound) {
			t.Fatalf("unknown: got %v, want ErrNotFound", err)
		}
	})

	t.Run("claims lease, expire and are rescued", func(t *testing.T) {
		s := open(t)
		record(t, s, "M1")
		record(t, s, "M2")
		ms, err := s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: "a", Now: t0, Lease: lease, Limit: 10})
		if err != nil || len(ms) != 2 || ms[0].MeshID != "M1" || ms[0].Attempts != 1 {
			t.Fatalf("first claim: got %+v, %v", ms, err)
		}
		if ms, _ := s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: "b", Now: t0.Add(30 * time.Second), Lease: lease, Limit: 10}); len(ms) != 0 {
			t.Fatalf("claim under lease: got %d, want 0", len(ms))
		}
		ms, err = s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: "b", Now: t0.Add(2 * lease), Lease: lease, Limit: 1})
		if err != nil || len(ms) != 1 || ms[0].Attempts != 2 {
			t.Fatalf("rescue after expiry: got %+v, %v", ms, err)
		}
		if err := s.ReleaseMessage(t.Context(), receiver.ReleaseParams{ID: ms[0].ID, Owner: "a", RetryAt: t0}); !errors.Is(err, receiver.ErrConflict) {
			t.Fatalf("release by former owner: got %v, want ErrConflict", err)
		}
		if err := s.ReleaseMessage(t.Context(), receiver.ReleaseParams{ID: ms[0].ID, Owner: "b", Error: "boom", RetryAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if ms, _ := s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: "c", Now: t0.Add(30 * time.Minute), Lease: lease, Limit: 1}); len(ms) != 1 || ms[0].MeshID != "M2" {
			t.Fatalf("released message claimable before its retry time: %+v", ms)
		}
	})

	t.Run("complete", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		record(t, s, "M1")
		m := claimOne(t, s, "a", t0)
		if _, err := s.CompleteMessage(ctx, accept(m.ID, "b", "H1", "D1", receiver.DocAwaitingFiling)); !errors.Is(err, receiver.ErrConflict) {
			t.Fatalf("complete by non-owner: got %v, want ErrConflict", err)
		}
		doc, err := s.CompleteMessage(ctx, accept(m.ID, "a", "H1", "D1", receiver.DocAwaitingFiling, ack(receiver.AckInf, 20013), ack(receiver.AckBus, 30001)))
		if err != nil {
			t.Fatal(err)
		}
		if doc.ID == 0 || doc.State != receiver.DocAwaitingFiling || doc.MeshID != "M1" || doc.HeaderID != "H1" || !doc.ForAction ||
			len(doc.Attachments) != 1 || doc.Attachments[0].BlobKey != "a/0" || len(doc.Findings) != 1 {
			t.Fatalf("document: got %+v", doc)
		}
		if _, err := s.CompleteMessage(ctx, accept(m.ID, "a", "H1", "D1", receiver.DocAwaitingFiling)); !errors.Is(err, receiver.ErrConflict) {
			t.Fatalf("second complete: got %v, want ErrConflict", err)
		}
		got, _ := s.GetMessage(ctx, m.ID)
		if got.State != receiver.MessageAccepted || got.HeaderID != "H1" || got.InfAckCode != 20013 {
			t.Fatalf("message after complete: %+v", got)
		}
		acks, err := s.ListAcks(ctx, m.ID)
		if err != nil || len(acks) != 2 {
			t.Fatalf("ListAcks: got %d, %v", len(acks), err)
		}

		// Same header id → duplicate message, nothing recorded.
		record(t, s, "M2")
		m2 := claimOne(t, s, "a", t0)
		if _, err := s.CompleteMessage(ctx, accept(m2.ID, "a", "H1", "D2", receiver.DocAwaitingFiling, ack(receiver.AckInf, 20013))); !errors.Is(err, receiver.ErrDuplicateMessage) {
			t.Fatalf("duplicate header: got %v, want ErrDuplicateMessage", err)
		}
		if acks, _ := s.ListAcks(ctx, m2.ID); len(acks) != 0 {
			t.Fatalf("failed complete left %d acks", len(acks))
		}
		// Same document id → duplicate document.
		if _, err := s.CompleteMessage(ctx, accept(m2.ID, "a", "H2", "D1", receiver.DocAwaitingFiling)); !errors.Is(err, receiver.ErrDuplicateDocument) {
			t.Fatalf("duplicate document: got %v, want ErrDuplicateDocument", err)
		}
		// Unknown replacement target.
		p := accept(m2.ID, "a", "H2", "D2", receiver.DocAwaitingFiling)
		p.Document.ReplacesIdentifier = "unknown"
		if _, err := s.CompleteMessage(ctx, p); !errors.Is(err, receiver.ErrReplacementTarget) {
			t.Fatalf("unknown replacement target: got %v, want ErrReplacementTarget", err)
		}
		// Replacement of D1 (found by message bundle identifier too).
		p.Document.ReplacesIdentifier = "mb-H1"
		nd, err := s.CompleteMessage(ctx, p)
		if err != nil || !nd.Replacement || nd.ReplacesID != doc.ID {
			t.Fatalf("replacement: got %+v, %v", nd, err)
		}
		old, _ := s.GetDocument(ctx, doc.ID)
		if old.State != receiver.DocReplaced || old.ReplacedByID != nd.ID {
			t.Fatalf("replaced document: got state %s replacedBy %d, want replaced by %d", old.State, old.ReplacedByID, nd.ID)
		}
		// A rejected message: no document.
		record(t, s, "M3")
		m3 := claimOne(t, s, "a", t0)
		if d, err := s.CompleteMessage(ctx, receiver.CompleteParams{ID: m3.ID, Owner: "a", Now: t0, State: receiver.MessageRejected, InfAckCode: 20009,
			Acks: []receiver.NewAck{ack(receiver.AckInf, 20009)}}); err != nil || d.ID != 0 {
			t.Fatalf("reject: got %+v, %v", d, err)
		}
		counts, err := s.CountMessages(ctx)
		if err != nil || counts[receiver.MessageAccepted] != 2 || counts[receiver.MessageRejected] != 1 {
			t.Fatalf("CountMessages: got %v, %v", counts, err)
		}
		page, err := s.QueryDocuments(ctx, receiver.DocumentQuery{States: []receiver.DocumentState{receiver.DocAwaitingFiling}})
		if list := page.Documents; err != nil || len(list) != 1 || list[0].ID != nd.ID {
			t.Fatalf("QueryDocuments(awaiting): got %+v, %v", page, err)
		}
		page, _ = s.QueryDocuments(ctx, receiver.DocumentQuery{NHSNumber: "9434765919", AfterID: doc.ID})
		if list := page.Documents; len(list) != 1 || list[0].ID != nd.ID {
			t.Fatalf("QueryDocuments(after): got %d", len(page.Documents))
		}
	})

	t.Run("outbox", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		record(t, s, "M1")
		m := claimOne(t, s, "a", t0)
		if _, err := s.CompleteMessage(ctx, accept(m.ID, "a", "H1", "D1", receiver.DocAwaitingFiling, ack(receiver.AckInf, 20013), ack(receiver.AckBus, 30001))); err != nil {
			t.Fatal(err)
		}
		acks, err := s.ClaimAcks(ctx, receiver.ClaimParams{Owner: "a", Now: t0, Lease: lease, Limit: 10})
		if err != nil || len(acks) != 1 || acks[0].Kind != receiver.AckInf || string(acks[0].Body) != "<Bundle/>" {
			t.Fatalf("first claim: want only the InfAck, got %+v, %v", acks, err)
		}
		if more, _ := s.ClaimAcks(ctx, receiver.ClaimParams{Owner: "b", Now: t0, Lease: lease, Limit: 10}); len(more) != 0 {
			t.Fatalf("BusAck claimable before InfAck sent: %+v", more)
		}
		if err := s.MarkAckSent(ctx, acks[0].ID, "MESH1", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkAckSent(ctx, acks[0].ID, "MESH1", t0); err != nil {
			t.Fatalf("second MarkAckSent: %v", err)
		}
		bus, _ := s.ClaimAcks(ctx, receiver.ClaimParams{Owner: "b", Now: t0, Lease: lease, Limit: 10})
		if len(bus) != 1 || bus[0].Kind != receiver.AckBus || bus[0].Code != 30001 {
			t.Fatalf("second claim: got %+v", bus)
		}
		if err := s.ReleaseAck(ctx, bus[0].ID, "b", "down", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if again, _ := s.ClaimAcks(ctx, receiver.ClaimParams{Owner: "b", Now: t0.Add(time.Minute), Lease: lease, Limit: 10}); len(again) != 0 {
			t.Fatalf("released ack claimed before retry time")
		}
		again, _ := s.ClaimAcks(ctx, receiver.ClaimParams{Owner: "c", Now: t0.Add(2 * time.Hour), Lease: lease, Limit: 10})
		if len(again) != 1 || again[0].Attempts != 2 {
			t.Fatalf("retry claim: got %+v", again)
		}
		if err := s.MarkAckSent(ctx, again[0].ID, "MESH2", t0); err != nil {
			t.Fatal(err)
		}
		sent, pending, err := s.CountAcks(ctx)
		if err != nil || pending != 0 || sent[20013] != 1 || sent[30001] != 1 {
			t.Fatalf("CountAcks: got %v %d %v", sent, pending, err)
		}
	})

	t.Run("transitions", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		record(t, s, "M1")
		m := claimOne(t, s, "a", t0)
		p := accept(m.ID, "a", "H1", "D1", receiver.DocHeld, ack(receiver.AckInf, 20013))
		p.Document.HoldUntil = t0.Add(time.Hour)
		p.Document.ConfirmedAckCode = 30001
		doc, err := s.CompleteMessage(ctx, p)
		if err != nil || doc.ConfirmedAckCode != 30001 || !doc.HoldUntil.Equal(t0.Add(time.Hour)) {
			t.Fatalf("held document: %+v, %v", doc, err)
		}
		if h, _ := s.HeldPastDeadline(ctx, t0, 10); len(h) != 0 {
			t.Fatalf("held before deadline listed")
		}
		if h, _ := s.HeldPastDeadline(ctx, t0.Add(2*time.Hour), 10); len(h) != 1 {
			t.Fatalf("held past deadline: got %d, want 1", len(h))
		}
		if _, err := s.TransitionDocument(ctx, receiver.TransitionParams{ID: doc.ID, From: []receiver.DocumentState{receiver.DocAwaitingFiling}, To: receiver.DocFiled, Now: t0}); !errors.Is(err, receiver.ErrConflict) {
			t.Fatalf("file a held document: got %v, want ErrConflict", err)
		}
		if _, err := s.TransitionDocument(ctx, receiver.TransitionParams{ID: 999, From: []receiver.DocumentState{receiver.DocHeld}, To: receiver.DocFiled, Now: t0}); !errors.Is(err, receiver.ErrNotFound) {
			t.Fatalf("unknown document: got %v, want ErrNotFound", err)
		}
		d, err := s.TransitionDocument(ctx, receiver.TransitionParams{ID: doc.ID, From: []receiver.DocumentState{receiver.DocHeld}, To: receiver.DocRejected,
			Reason: "not our patient", BusAckCode: 30002, Now: t0, Acks: []receiver.NewAck{ack(receiver.AckBus, 30002)}})
		if err != nil || d.State != receiver.DocRejected || d.Reason != "not our patient" || d.BusAckCode != 30002 {
			t.Fatalf("reject held: got %+v, %v", d, err)
		}
		if _, err := s.TransitionDocument(ctx, receiver.TransitionParams{ID: doc.ID, From: []receiver.DocumentState{receiver.DocRejected}, To: receiver.DocNotFiled,
			Now: t0, Acks: []receiver.NewAck{ack(receiver.AckBus, 30002)}}); !errors.Is(err, receiver.ErrConflict) {
			t.Fatalf("second BusAck: got %v, want ErrConflict", err)
		}
		if d, _ := s.GetDocument(ctx, doc.ID); d.State != receiver.DocRejected {
			t.Fatalf("failed transition changed state to %s", d.State)
		}
	})

	t.Run("concurrent claims never share a message", func(t *testing.T) {
		s := open(t)
		const total = 40
		for i := range total {
			record(t, s, fmt.Sprintf("C%03d", i))
		}
		var mu sync.Mutex
		seen := map[int64]string{}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			owner := fmt.Sprintf("w%d", w)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ms, err := s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: owner, Now: t0, Lease: lease, Limit: 3})
					if err != nil {
						errs <- err
						return
					}
					if len(ms) == 0 {
						return
					}
					mu.Lock()
					for _, m := range ms {
						if prev, dup := seen[m.ID]; dup {
							errs <- fmt.Errorf("message %d claimed by %s and %s", m.ID, prev, owner)
						}
						seen[m.ID] = owner
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) != total {
			t.Fatalf("claimed %d messages, want %d", len(seen), total)
		}
	})

	t.Run("register upsert", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		ps := []receiver.Patient{
			{NHSNumber: "9434765919", BirthDate: "1970-01-02", Family: "Smith", Given: "Jane", Status: receiver.StatusRegistered},
			{NHSNumber: "9434765870", BirthDate: "1950-05-06", Family: "Jones", Given: "Bob", Status: receiver.StatusDeceased, DeathDate: "2026-01-01"},
		}
		res, err := s.UpsertPatients(ctx, ps, t0)
		if err != nil || res != (receiver.UpsertResult{Inserted: 2}) {
			t.Fatalf("first upsert: got %+v, %v", res, err)
		}
		ps[0].Status, ps[0].LeftDate = receiver.StatusLeft, "2026-02-01"
		res, err = s.UpsertPatients(ctx, ps, t0)
		if err != nil || res != (receiver.UpsertResult{Updated: 1, Unchanged: 1}) {
			t.Fatalf("second upsert: got %+v, %v", res, err)
		}
		got, err := s.GetPatient(ctx, "9434765919")
		if err != nil || got != ps[0] {
			t.Fatalf("GetPatient: got %+v, %v; want %+v", got, err, ps[0])
		}
		if _, err := s.GetPatient(ctx, "9999999999"); !errors.Is(err, receiver.ErrNotFound) {
			t.Fatalf("unknown patient: got %v", err)
		}
		if n, _ := s.CountPatients(ctx); n != 2 {
			t.Fatalf("CountPatients: got %d, want 2", n)
		}
	})

	runReceiverBatch(t, open)
}
