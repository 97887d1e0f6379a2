package sender_test

import (
	"errors"
	"testing"

	"github.com/gpcm/gpcm/internal/uuid"
	"github.com/gpcm/gpcm/sender"
)

// TestReplaceOnlyWhatWasSent holds the one rule for sending a corrected
// version (GPCM-SD-038/039) where Replace enforces it, for every caller:
// the original must have reached the practice or been judged by it, and
// no other version may replace it already.
func TestReplaceOnlyWhatWasSent(t *testing.T) {
	e := mustEnv(t, envOptions{})
	ctx := t.Context()
	tests := []struct {
		name   string
		state  sender.State // "" leaves it queued
		busAck int
		twice  bool // replace it once first
		want   bool
	}{
		{"GPCM-SD-038 queued: not yet sent", "", 0, false, false},
		{"GPCM-SD-038 sent", sender.StateSent, 0, false, true},
		{"GPCM-SD-038 delivered", sender.StateDelivered, 0, false, true},
		{"GPCM-SD-038 infack", sender.StateInfAck, 0, false, true},
		{"GPCM-SD-038 complete", sender.StateComplete, 0, false, true},
		{"GPCM-SD-039 failed with a business ack", sender.StateFailed, 10002, false, true},
		{"GPCM-SD-038 failed before the practice had it", sender.StateFailed, 0, false, false},
		{"GPCM-SD-038 overdue", sender.StateOverdue, 0, false, false},
		{"GPCM-SD-038 cancelled", sender.StateCancelled, 0, false, false},
		{"GPCM-SD-039 replaced already", sender.StateComplete, 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := exampleInput()
			in.Encounter.ID = uuid.New()
			tr := e.submit(t, in)
			if tt.state != "" {
				p := sender.TransitionParams{ID: tr.ID, To: tt.state, At: e.clock.Now(), Note: "test"}
				if tt.busAck != 0 {
					p.Set.BusAckCode = &tt.busAck
				}
				if _, err := e.store.Transition(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			if tt.twice {
				if _, err := e.svc.Replace(ctx, tr.ID, in, "test"); err != nil {
					t.Fatal(err)
				}
			}
			d, err := e.svc.Detail(ctx, tr.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d.CanReplace != tt.want || (d.NotReplaceable == "") != tt.want {
				t.Errorf("Detail: CanReplace %v (%q), want %v", d.CanReplace, d.NotReplaceable, tt.want)
			}
			_, err = e.svc.ReplacementDraft(ctx, tr.ID)
			if (err == nil) != tt.want {
				t.Fatalf("ReplacementDraft: got %v, want refused %v", err, !tt.want)
			}
			_, err = e.svc.Replace(ctx, tr.ID, in, "test")
			var nr *sender.NotReplaceableError
			switch {
			case tt.want && err != nil:
				t.Fatalf("Replace: %v", err)
			case !tt.want && (!errors.As(err, &nr) || !errors.Is(err, sender.ErrConflict) || nr.Why != d.NotReplaceable):
				t.Fatalf("Replace: got %v, want *NotReplaceableError matching ErrConflict saying %q", err, d.NotReplaceable)
			}
		})
	}
}
