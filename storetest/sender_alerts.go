package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gpcm/gpcm/sender"
)

// senderAlerts checks alert claims and delivery records.
func senderAlerts(t *testing.T, open func(t *testing.T) sender.Store) {
	t0 := senderT0
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
