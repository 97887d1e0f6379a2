package sender_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
)

// editEnv is a sender with the default edit and send windows (3 hours each,
// the process map's wait and GPCM-SD-CS-075's limit).
func editEnv(t *testing.T, tweak func(*sender.Config)) *env {
	t.Helper()
	return mustEnv(t, envOptions{tweak: func(c *sender.Config) {
		c.EditWindow = 0 // the default
		if tweak != nil {
			tweak(c)
		}
	}})
}

// sent reports how many reports reached the practice.
func (e *env) sent(t *testing.T) int {
	t.Helper()
	e.sendDue(t)
	return len(e.practiceInbox(t))
}

// TestEditWindow: a consultation report waits for its edit window, a newer
// version of the consultation replaces the waiting one, an older one is
// refused, and a person may send it at once or withdraw it (issue 20
// item 6).
func TestEditWindow(t *testing.T) {
	edited := func(in senddoc.Input, note string) senddoc.Input {
		in.Sections = append([]senddoc.Section(nil), in.Sections...)
		in.Sections = append(in.Sections, senddoc.Section{Title: "Addendum", Text: note})
		in.PDF = nil
		return in
	}
	render := func(c *sender.Config) { c.RenderPDF = senddoc.RenderReport }
	tests := []struct {
		name string
		cfg  func(*sender.Config)
		run  func(t *testing.T, e *env)
	}{
		{"1.5.2:GPCM-SD-CS-075 waits for the edit window, then goes within the send window", nil, func(t *testing.T, e *env) {
			now := e.clock.Now()
			tr := e.submit(t, exampleInput())
			if !tr.HoldUntil.Equal(now.Add(3*time.Hour)) || !tr.SendBy.Equal(now.Add(3*time.Hour)) {
				t.Fatalf("hold until %v, send by %v; want both 3 hours after the submission", tr.HoldUntil, tr.SendBy)
			}
			if n := e.sent(t); n != 0 {
				t.Fatalf("%d reports sent inside the edit window, want 0", n)
			}
			e.clock.Advance(3 * time.Hour)
			if n := e.sent(t); n != 1 {
				t.Fatalf("%d reports sent when the window closed, want 1", n)
			}
			if as := e.alerts(t, tr.ID); len(as) != 0 {
				t.Fatalf("alerts %+v, want none: it went inside the send window", as)
			}
		}},
		{"1.5.2:GPCM-SD-CS-076 a newer version of the consultation replaces the waiting one", render, func(t *testing.T, e *env) {
			first := e.submit(t, exampleInput())
			e.clock.Advance(time.Hour)
			second := e.submit(t, edited(exampleInput(), "Blood test booked."))
			if len(second.Superseded) != 1 || second.Superseded[0] != first.ID {
				t.Fatalf("second version superseded %v, want [%s]", second.Superseded, first.ID)
			}
			if got := e.mustState(t, first.ID, sender.StateSuperseded); got.SupersededBy != second.ID {
				t.Fatalf("first version superseded by %q, want %s", got.SupersededBy, second.ID)
			}
			e.clock.Advance(2 * time.Hour) // the first version's window would close now
			if n := e.sent(t); n != 0 {
				t.Fatalf("%d reports sent, want 0: the edit restarted the window", n)
			}
			e.clock.Advance(time.Hour)
			e.sendDue(t)
			got := e.practiceInbox(t)
			if len(got) != 1 || got[0].headerID != second.HeaderID {
				t.Fatalf("practice got %+v, want only the second version (%s)", got, second.HeaderID)
			}
		}},
		{"1.5.2:GPCM-SD-CS-076 an older version is stale and not queued", render, func(t *testing.T, e *env) {
			in := exampleInput()
			in.Version = 2
			newer := e.submit(t, in)
			old := edited(exampleInput(), "typed before version 2")
			_, _, err := e.svc.Submit(t.Context(), sender.Submission{Input: &old})
			se, ok := errors.AsType[*sender.StaleError](err)
			if !ok || !errors.Is(err, sender.ErrStale) || se.Newer.ID != newer.ID {
				t.Fatalf("got %v, want *StaleError naming %s", err, newer.ID)
			}
			if counts, _ := e.store.CountByState(t.Context()); counts[sender.StateQueued] != 1 || len(counts) != 1 {
				t.Fatalf("outbox %v, want only the newer version queued", counts)
			}
		}},
		{"1.5.2:GPCM-SD-CS-075 send now closes the window early", nil, func(t *testing.T, e *env) {
			tr := e.submit(t, exampleInput())
			if _, err := e.svc.SendNow(t.Context(), tr.ID, "test"); err != nil {
				t.Fatal(err)
			}
			if n := e.sent(t); n != 1 {
				t.Fatalf("%d reports sent after send now, want 1", n)
			}
			if _, err := e.svc.SendNow(t.Context(), tr.ID, "test"); !errors.Is(err, sender.ErrConflict) {
				t.Fatalf("send now of a sent report: got %v, want ErrConflict", err)
			}
			if _, err := e.svc.Cancel(t.Context(), tr.ID, "test"); !errors.Is(err, sender.ErrConflict) {
				t.Fatalf("cancel of a sent report: got %v, want ErrConflict", err)
			}
		}},
		{"1.5.2:GPCM-SD-CS-076 cancel withdraws a waiting report", nil, func(t *testing.T, e *env) {
			tr := e.submit(t, exampleInput())
			if _, err := e.svc.Cancel(t.Context(), tr.ID, "test"); err != nil {
				t.Fatal(err)
			}
			e.mustState(t, tr.ID, sender.StateCancelled)
			e.clock.Advance(4 * time.Hour)
			if n := e.sent(t); n != 0 {
				t.Fatalf("%d cancelled reports sent, want 0", n)
			}
			if _, err := e.svc.SendNow(t.Context(), tr.ID, "test"); !errors.Is(err, sender.ErrConflict) {
				t.Fatalf("send now of a cancelled report: got %v, want ErrConflict", err)
			}
			// A later version of the withdrawn consultation may still go.
			e.submit(t, exampleInput2())
		}},
		{"1.5.2:GPCM-SD-CS-075 the window runs from the consultation's last edit", nil, func(t *testing.T, e *env) {
			in := exampleInput()
			tr, _, err := e.svc.Submit(t.Context(), sender.Submission{Input: &in, EditedAt: e.clock.Now().Add(-170 * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			if want := e.clock.Now().Add(10 * time.Minute); !tr.HoldUntil.Equal(want) {
				t.Fatalf("hold until %v, want %v", tr.HoldUntil, want)
			}
		}},
		{"1.5.2:GPCM-SD-CS-075 a report past its send window goes at once and alerts a person", nil, func(t *testing.T, e *env) {
			in := exampleInput()
			tr, _, err := e.svc.Submit(t.Context(), sender.Submission{Input: &in, EditedAt: e.clock.Now().Add(-4 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if !tr.HoldUntil.IsZero() {
				t.Fatalf("hold until %v, want none", tr.HoldUntil)
			}
			if n := e.sent(t); n != 1 {
				t.Fatalf("%d reports sent, want 1", n)
			}
			as := e.alerts(t, tr.ID)
			if len(as) != 1 || as[0].Reason != sender.ReasonSendLate {
				t.Fatalf("alerts %+v, want one %s", as, sender.ReasonSendLate)
			}
		}},
		{"1.5.2:GPCM-SD-CS-075 the edit window is configurable", func(c *sender.Config) { c.EditWindow = 30 * time.Minute }, func(t *testing.T, e *env) {
			tr := e.submit(t, exampleInput())
			if want := e.clock.Now().Add(30 * time.Minute); !tr.HoldUntil.Equal(want) {
				t.Fatalf("hold until %v, want %v", tr.HoldUntil, want)
			}
		}},
		{"1.5.2:GPCM-SD-CS-076 the same encounter ID for another patient is another consultation", func(c *sender.Config) {
			c.Routing, c.Mailbox = sender.RouteMailbox, practiceMailbox
		}, func(t *testing.T, e *env) {
			a := e.submit(t, exampleInput())
			other := exampleInput()
			other.Patient.NHSNumber = "9000000009"
			b := e.submit(t, other)
			if len(b.Superseded) != 0 {
				t.Fatalf("another patient's report superseded %v", b.Superseded)
			}
			e.mustState(t, a.ID, sender.StateQueued)
		}},
		{"1.5.2:GPCM-SD-OC-160 online consultation reports are not held", nil, func(t *testing.T, e *env) {
			in := senddoc.Example(senddoc.UseCaseOnline, senddoc.GenerationV1)
			in.SenderMailbox, in.PDF = senderMailbox, senddoc.ExamplePDF()
			tr := e.submit(t, in)
			if !tr.HoldUntil.IsZero() || !tr.SendBy.IsZero() {
				t.Fatalf("hold until %v, send by %v; want neither", tr.HoldUntil, tr.SendBy)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, editEnv(t, tt.cfg)) })
	}
	if _, err := sender.New(sender.Config{Store: mustEnv(t, envOptions{}).store, EditWindow: 4 * time.Hour}); err == nil {
		t.Error("an edit window longer than the 3-hour send window was accepted")
	}
}

// exampleInput2 is exampleInput for another encounter.
func exampleInput2() senddoc.Input {
	in := exampleInput()
	in.Encounter.ID = "0c8e4a3b-2f1d-4e6a-9b7c-5d4e3f2a1b0c"
	return in
}
