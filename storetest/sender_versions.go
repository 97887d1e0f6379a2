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

// senderVersions checks that only the latest version of a consultation is
// sent (GPCM-SD-CS-076).
func senderVersions(t *testing.T, open func(t *testing.T) sender.Store) {
	t0, newTx := senderT0, newSenderTx
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

}
