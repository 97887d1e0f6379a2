package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gpcm/gpcm/sender"
)

// senderTransmissions checks storing, finding, transitions (with their
// events, alerts and inbox records) and send claims.
func senderTransmissions(t *testing.T, open func(t *testing.T) sender.Store) {
	t0, newTx := senderT0, newSenderTx
	t.Run("create is idempotent on key", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a, created, err := s.CreateTransmission(ctx, newTx("t1", "k1"), t0)
		if err != nil || !created {
			t.Fatalf("create: %v, created %v", err, created)
		}
		if a.ID != "t1" || a.State != sender.StateQueued || a.PayloadSize != 9 || !a.CreatedAt.Equal(t0) || a.HeaderID != "h-t1" {
			t.Fatalf("created: %+v", a)
		}
		b, created, err := s.CreateTransmission(ctx, newTx("t2", "k1"), t0.Add(time.Second))
		if err != nil || created || b.ID != "t1" {
			t.Fatalf("same key: got %s created %v %v, want t1 false", b.ID, created, err)
		}
		if _, err := s.GetTransmission(ctx, "t2"); !errors.Is(err, sender.ErrNotFound) {
			t.Fatalf("get t2: got %v, want ErrNotFound", err)
		}
		p, in, err := s.Payload(ctx, "t1")
		if err != nil || string(p) != "<Bundle/>" || string(in) != "{}" {
			t.Fatalf("payload: %q %q %v", p, in, err)
		}
		ev, err := s.Events(ctx, "t1")
		if err != nil || len(ev) != 1 || ev[0].To != sender.StateQueued {
			t.Fatalf("events: %+v %v", ev, err)
		}
	})

	t.Run("events record who acted", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		nt := newTx("t1", "k1")
		nt.By = "alice"
		if _, _, err := s.CreateTransmission(ctx, nt, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Transition(ctx, sender.TransitionParams{ID: "t1", To: sender.StateCancelled, At: t0.Add(time.Second), Note: "cancelled", By: "bob"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Transition(ctx, sender.TransitionParams{ID: "t1", At: t0.Add(2 * time.Second), Note: "by the sender"}); err != nil {
			t.Fatal(err)
		}
		ev, err := s.Events(ctx, "t1")
		if err != nil || len(ev) != 3 || ev[0].Actor != "alice" || ev[1].Actor != "bob" || ev[2].Actor != "" {
			t.Fatalf("events: %+v %v, want actors alice, bob, none", ev, err)
		}
	})

	t.Run("find by every reference", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		for _, id := range []string{"a", "b"} {
			if _, _, err := s.CreateTransmission(ctx, newTx(id, "k"+id), t0); err != nil {
				t.Fatal(err)
			}
		}
		mid := "MESH1"
		if _, err := s.Transition(ctx, sender.TransitionParams{ID: "b", At: t0, Set: sender.Changes{MeshMessageID: &mid}}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			ref   sender.Ref
			value string
			want  int
		}{{sender.RefHeaderID, "h-a", 1}, {sender.RefBundleID, "b-b", 1}, {sender.RefBundleIdentifier, "bi-a", 1},
			{sender.RefDocumentID, "d-b", 1}, {sender.RefSenderReference, "enc", 2}, {sender.RefMeshMessageID, "MESH1", 1}, {sender.RefHeaderID, "nope", 0}} {
			got, err := s.FindTransmissions(ctx, c.ref, c.value)
			if err != nil || len(got) != c.want {
				t.Fatalf("find %s=%s: got %d, %v, want %d", c.ref, c.value, len(got), err, c.want)
			}
		}
	})

	t.Run("transition checks state and records event, alert and inbox atomically", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		if _, _, err := s.CreateTransmission(ctx, newTx("t", "k"), t0); err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Minute)
		due := at.Add(4 * time.Hour)
		got, err := s.Transition(ctx, sender.TransitionParams{ID: "t", From: []sender.State{sender.StateQueued}, To: sender.StateSent, At: at,
			Note: "sent", Set: sender.Changes{SentAt: &at, InfAckDue: &due, Attempts: senderPtr(1), AttemptFile: senderPtr("f1")}})
		if err != nil || got.State != sender.StateSent || !got.SentAt.Equal(at) || !got.InfAckDue.Equal(due) || got.Attempts != 1 || got.AttemptFile != "f1" {
			t.Fatalf("transition: %+v %v", got, err)
		}
		if _, err := s.Transition(ctx, sender.TransitionParams{ID: "t", From: []sender.State{sender.StateQueued}, To: sender.StateFailed, At: at}); !errors.Is(err, sender.ErrConflict) {
			t.Fatalf("wrong from-state: got %v, want ErrConflict", err)
		}
		if _, err := s.Transition(ctx, sender.TransitionParams{ID: "nope", At: at}); !errors.Is(err, sender.ErrNotFound) {
			t.Fatalf("unknown id: got %v, want ErrNotFound", err)
		}
		fail := func(inbox string) error {
			_, err := s.Transition(ctx, sender.TransitionParams{ID: "t", To: sender.StateFailed, At: at, Note: "neg",
				Alert: &sender.NewAlert{Reason: sender.ReasonNegativeInfAck, Code: "20009", Message: "m", Delivery: sender.DeliveryPending},
				Inbox: &sender.InboxRecord{MessageID: inbox, Kind: "response", TransmissionID: "t", Outcome: "x", ReceivedAt: at}})
			return err
		}
		if err := fail("IN1"); err != nil {
			t.Fatal(err)
		}
		if err := fail("IN1"); !errors.Is(err, sender.ErrDuplicate) {
			t.Fatalf("same inbox message twice: got %v, want ErrDuplicate", err)
		}
		if err := fail("IN2"); err != nil { // same reason again: still one alert
			t.Fatal(err)
		}
		as, err := s.ListAlerts(ctx, sender.AlertFilter{TransmissionID: "t"})
		if err != nil || len(as) != 1 || as[0].Reason != sender.ReasonNegativeInfAck || as[0].Code != "20009" || as[0].Delivery != sender.DeliveryPending {
			t.Fatalf("alerts: %+v %v", as, err)
		}
		for id, want := range map[string]bool{"IN1": true, "IN2": true, "IN3": false} {
			if seen, err := s.InboxSeen(ctx, id); err != nil || seen != want {
				t.Fatalf("InboxSeen(%s): got %v %v, want %v", id, seen, err, want)
			}
		}
		ev, err := s.Events(ctx, "t")
		if err != nil || len(ev) != 4 || ev[1].From != sender.StateQueued || ev[1].To != sender.StateSent || !ev[1].At.Equal(at) {
			t.Fatalf("events: %+v %v", ev, err)
		}
		counts, err := s.CountByState(ctx)
		if err != nil || counts[sender.StateFailed] != 1 {
			t.Fatalf("counts: %v %v", counts, err)
		}
	})

	t.Run("claim with lease", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		for i := range 3 {
			if _, _, err := s.CreateTransmission(ctx, newTx(fmt.Sprint("t", i), fmt.Sprint("k", i)), t0); err != nil {
				t.Fatal(err)
			}
		}
		later := t0.Add(time.Hour)
		if _, err := s.Transition(ctx, sender.TransitionParams{ID: "t2", At: t0, Set: sender.Changes{NextAttemptAt: &later}}); err != nil {
			t.Fatal(err)
		}
		a, err := s.ClaimSend(ctx, sender.ClaimParams{Owner: "A", Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 10})
		if err != nil || len(a) != 2 {
			t.Fatalf("first claim: got %d, %v, want 2", len(a), err)
		}
		b, err := s.ClaimSend(ctx, sender.ClaimParams{Owner: "B", Now: t0.Add(30 * time.Second), LeaseUntil: t0.Add(2 * time.Minute), Limit: 10})
		if err != nil || len(b) != 0 {
			t.Fatalf("claim while leased: got %d, %v, want 0", len(b), err)
		}
		c, err := s.ClaimSend(ctx, sender.ClaimParams{Owner: "B", Now: t0.Add(2 * time.Minute), LeaseUntil: t0.Add(3 * time.Minute), Limit: 1})
		if err != nil || len(c) != 1 || c[0].LeaseOwner != "B" {
			t.Fatalf("claim after lease ran out: got %+v, %v", c, err)
		}
		if _, err := s.Transition(ctx, sender.TransitionParams{ID: c[0].ID, At: t0, ReleaseLease: true, To: sender.StateSent}); err != nil {
			t.Fatal(err)
		}
		w, err := s.ListWaiting(ctx, []sender.State{sender.StateSent}, 10)
		if err != nil || len(w) != 1 || w[0].LeaseOwner != "" {
			t.Fatalf("waiting: %+v %v", w, err)
		}
		list, err := s.ListTransmissions(ctx, sender.ListParams{State: sender.StateQueued})
		if err != nil || len(list) != 2 {
			t.Fatalf("list queued: %d %v", len(list), err)
		}
	})
}
