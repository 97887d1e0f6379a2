package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/sender"
)

// RunSender exercises a sender.Store. open must return a fresh, empty store
// for each call and arrange its cleanup with t.Cleanup.
func RunSender(t *testing.T, open func(t *testing.T) sender.Store) {
	t0 := time.Date(2026, 1, 15, 10, 30, 0, 123456000, time.UTC)
	newTx := func(id, key string) sender.NewTransmission {
		return sender.NewTransmission{Transmission: sender.Transmission{ID: id, Key: key, State: sender.StateQueued, Source: sender.SourceInput,
			WorkflowID: "GPFED_CONSULT_REPORT", AckWorkflowID: "GPFED_CONSULT_REPORT_ACK", From: "X26ABC1", To: "GPPROVIDER_x", Subject: "s",
			LocalID: "X26", HeaderID: "h-" + id, BundleID: "b-" + id, BundleIdentifier: "bi-" + id, DocumentID: "d-" + id, SenderReference: "enc",
			Version: 1, ContentType: "application/fhir+xml", NextAttemptAt: t0},
			Payload: []byte("<Bundle/>"), Input: []byte(`{}`)}
	}

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

	// The edit window (GPCM-SD-CS-075/076): versions of one consultation.
	version := func(id, key string, v int, to string) sender.NewTransmission {
		nt := newTx(id, key)
		nt.Version, nt.Supersede, nt.Consultation = v, true, "consultation-1"
		if to != "" {
			nt.To, nt.Consultation = to, "consultation-"+to
		}
		nt.HoldUntil, nt.SendBy, nt.NextAttemptAt = t0.Add(3*time.Hour), t0.Add(3*time.Hour), t0.Add(3*time.Hour)
		return nt
	}
	t.Run("1.5.2:GPCM-SD-CS-076 a newer version supersedes the waiting one", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a, _, err := s.CreateTransmission(ctx, version("a", "ka", 1, ""), t0)
		if err != nil {
			t.Fatal(err)
		}
		if !a.HoldUntil.Equal(t0.Add(3*time.Hour)) || !a.SendBy.Equal(t0.Add(3*time.Hour)) || len(a.Superseded) != 0 {
			t.Fatalf("created: hold %v, send by %v, superseded %v", a.HoldUntil, a.SendBy, a.Superseded)
		}
		at := t0.Add(time.Hour)
		b, created, err := s.CreateTransmission(ctx, version("b", "kb", 1, ""), at)
		if err != nil || !created || len(b.Superseded) != 1 || b.Superseded[0] != "a" || b.State != sender.StateQueued {
			t.Fatalf("newer edit: got %+v created %v, %v; want b queued, superseding a", b, created, err)
		}
		a, err = s.GetTransmission(ctx, "a")
		if err != nil || a.State != sender.StateSuperseded || a.SupersededBy != "b" || !a.UpdatedAt.Equal(at) {
			t.Fatalf("older version: %+v %v; want superseded by b", a, err)
		}
		ev, err := s.Events(ctx, "a")
		if err != nil || len(ev) != 2 || ev[1].From != sender.StateQueued || ev[1].To != sender.StateSuperseded || !strings.Contains(ev[1].Note, "b") {
			t.Fatalf("events of a: %+v %v", ev, err)
		}
		if claimed, _ := s.ClaimSend(ctx, sender.ClaimParams{Owner: "w", Now: t0.Add(4 * time.Hour), LeaseUntil: t0.Add(5 * time.Hour), Limit: 10}); len(claimed) != 1 || claimed[0].ID != "b" {
			t.Fatalf("claim after the window: got %+v, want only b", claimed)
		}
		// The same submission again is the same transmission and retires nothing.
		again, created, err := s.CreateTransmission(ctx, version("c", "kb", 1, ""), at)
		if err != nil || created || again.ID != "b" || len(again.Superseded) != 0 {
			t.Fatalf("same key again: %+v created %v, %v", again, created, err)
		}
	})

	t.Run("1.5.2:GPCM-SD-CS-076 a stale version is refused", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		if _, _, err := s.CreateTransmission(ctx, version("a", "ka", 2, ""), t0); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.CreateTransmission(ctx, version("b", "kb", 1, ""), t0)
		var se *sender.StaleError
		if !errors.As(err, &se) || !errors.Is(err, sender.ErrStale) || se.Newer.ID != "a" || se.Version != 1 {
			t.Fatalf("older version: got %v, want *StaleError naming a", err)
		}
		if _, err := s.GetTransmission(ctx, "b"); !errors.Is(err, sender.ErrNotFound) {
			t.Fatalf("the stale version was stored: %v", err)
		}
		if a, _ := s.GetTransmission(ctx, "a"); a.State != sender.StateQueued {
			t.Fatalf("a refused older version changed a: %s", a.State)
		}
		// A failed version does not count; another recipient is another report.
		f := version("f", "kf", 9, "")
		f.State = sender.StateFailed
		if _, _, err := s.CreateTransmission(ctx, f, t0); err != nil {
			t.Fatal(err)
		}
		if _, created, err := s.CreateTransmission(ctx, version("c", "kc", 3, ""), t0); err != nil || !created {
			t.Fatalf("version 3 after a failed version 9: created %v, %v", created, err)
		}
		if _, created, err := s.CreateTransmission(ctx, version("d", "kd", 1, "GPPROVIDER_other"), t0); err != nil || !created {
			t.Fatalf("the same consultation to another recipient: created %v, %v", created, err)
		}
		if got, _ := s.GetTransmission(ctx, "c"); got.State != sender.StateQueued {
			t.Fatalf("another recipient's report superseded c: %s", got.State)
		}
	})

	t.Run("1.5.2:GPCM-SD-CS-076 a version being sent is not superseded", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		if _, _, err := s.CreateTransmission(ctx, version("a", "ka", 1, ""), t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Transition(ctx, sender.TransitionParams{ID: "a", At: t0, Set: sender.Changes{Attempts: senderPtr(1), AttemptFile: senderPtr("a-1.xml")}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateTransmission(ctx, version("b", "kb", 1, ""), t0); !errors.Is(err, sender.ErrStale) {
			t.Fatalf("the same version while it is being sent: got %v, want ErrStale", err)
		}
		b, created, err := s.CreateTransmission(ctx, version("c", "kc", 2, ""), t0)
		if err != nil || !created || len(b.Superseded) != 0 {
			t.Fatalf("version 2 while version 1 is being sent: %+v created %v, %v", b, created, err)
		}
		if a, _ := s.GetTransmission(ctx, "a"); a.State != sender.StateQueued {
			t.Fatalf("a report being sent was superseded: %s", a.State)
		}
		// Send now and cancel need an idle report.
		hold := t0
		if _, err := s.Transition(ctx, sender.TransitionParams{ID: "a", From: []sender.State{sender.StateQueued}, To: sender.StateCancelled, At: t0, RequireIdle: true}); !errors.Is(err, sender.ErrConflict) {
			t.Fatalf("cancel while being sent: got %v, want ErrConflict", err)
		}
		got, err := s.Transition(ctx, sender.TransitionParams{ID: "c", From: []sender.State{sender.StateQueued}, At: t0, RequireIdle: true,
			Set: sender.Changes{HoldUntil: &hold, NextAttemptAt: &hold}})
		if err != nil || !got.HoldUntil.Equal(t0) || !got.NextAttemptAt.Equal(t0) {
			t.Fatalf("send now: %+v %v", got, err)
		}
	})

	t.Run("1.5.2:GPCM-SD-CS-076 versions submitted at once leave one queued", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, _, errs[i] = s.CreateTransmission(ctx, version(fmt.Sprint("v", i), fmt.Sprint("k", i), 1+i%3, ""), t0)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil && !errors.Is(err, sender.ErrStale) {
				t.Fatalf("version %d: %v", i, err)
			}
		}
		queued, err := s.ListTransmissions(ctx, sender.ListParams{State: sender.StateQueued})
		if err != nil || len(queued) != 1 || queued[0].Version != 3 {
			t.Fatalf("queued after concurrent versions: %+v %v; want exactly one, of version 3", queued, err)
		}
	})

	t.Run("alerts claim and delivery", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		if err := s.RecordInbox(ctx, sender.InboxRecord{MessageID: "R1", Kind: "report", Outcome: "unmatched", ReceivedAt: t0},
			&sender.NewAlert{Reason: sender.ReasonUnmatched, Message: "m1", Delivery: sender.DeliveryPending}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordInbox(ctx, sender.InboxRecord{MessageID: "R1", Kind: "report", Outcome: "unmatched", ReceivedAt: t0}, nil); !errors.Is(err, sender.ErrDuplicate) {
			t.Fatalf("record twice: got %v, want ErrDuplicate", err)
		}
		if err := s.RecordInbox(ctx, sender.InboxRecord{MessageID: "R2", Kind: "report", Outcome: "unmatched", ReceivedAt: t0},
			&sender.NewAlert{Reason: sender.ReasonUnmatched, Message: "m2", Delivery: sender.DeliveryNoHook}); err != nil {
			t.Fatal(err)
		}
		got, err := s.ClaimAlerts(ctx, sender.ClaimParams{Owner: "A", Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 10})
		if err != nil || len(got) != 1 || got[0].Message != "m1" {
			t.Fatalf("claim alerts: %+v %v", got, err)
		}
		if again, _ := s.ClaimAlerts(ctx, sender.ClaimParams{Owner: "B", Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 10}); len(again) != 0 {
			t.Fatalf("claimed a leased alert: %+v", again)
		}
		next := t0.Add(time.Hour)
		if err := s.RecordAlertDelivery(ctx, sender.AlertDeliveryParams{ID: got[0].ID, At: t0, Error: "down", NextAttemptAt: next}); err != nil {
			t.Fatal(err)
		}
		if early, _ := s.ClaimAlerts(ctx, sender.ClaimParams{Owner: "A", Now: t0.Add(time.Minute), LeaseUntil: t0.Add(2 * time.Minute), Limit: 10}); len(early) != 0 {
			t.Fatalf("claimed before its retry time: %+v", early)
		}
		late, err := s.ClaimAlerts(ctx, sender.ClaimParams{Owner: "A", Now: next, LeaseUntil: next.Add(time.Minute), Limit: 10})
		if err != nil || len(late) != 1 || late[0].Attempts != 1 || late[0].LastError != "down" {
			t.Fatalf("retry claim: %+v %v", late, err)
		}
		if err := s.RecordAlertDelivery(ctx, sender.AlertDeliveryParams{ID: late[0].ID, At: next, Delivered: true}); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListAlerts(ctx, sender.AlertFilter{})
		if err != nil || len(all) != 2 || all[1].Delivery != sender.DeliveryDelivered || all[1].Attempts != 2 || !all[1].DeliveredAt.Equal(next) {
			t.Fatalf("alerts after delivery: %+v %v", all, err)
		}
		if err := s.RecordAlertDelivery(ctx, sender.AlertDeliveryParams{ID: 999, At: next, Delivered: true}); !errors.Is(err, sender.ErrNotFound) {
			t.Fatalf("unknown alert: got %v, want ErrNotFound", err)
		}
	})
}

func senderPtr[T any](v T) *T { return &v }
