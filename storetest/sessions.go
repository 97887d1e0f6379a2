package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"
)

// SessionStore is what RunSessions checks: the store of signed-in web
// sessions, with the methods of web.SessionStore (web's tests hold the two
// method sets equal). It is declared here, not taken from web, so that the
// contract suites depend on the services and record types alone, never on
// the UI. id is a hash of the session cookie; data is opaque to the store.
type SessionStore interface {
	SaveSession(ctx context.Context, id string, data []byte, expires time.Time) error
	// LoadSession's ok is false when there is no session or it expired
	// before now.
	LoadSession(ctx context.Context, id string, now time.Time) (data []byte, ok bool, err error)
	// DeleteSession of a missing session is not an error.
	DeleteSession(ctx context.Context, id string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// RunSessions exercises a SessionStore. open must return two handles on one
// fresh, empty store, as two processes (or one process before and after a
// restart) would open it, and arrange their cleanup.
func RunSessions(t *testing.T, open func(t *testing.T) (a, b SessionStore)) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	t.Run("save load delete", func(t *testing.T) {
		s, _ := open(t)
		ctx := t.Context()
		if _, ok, err := s.LoadSession(ctx, "nope", t0); ok || err != nil {
			t.Fatalf("unknown session: ok %v err %v, want false nil", ok, err)
		}
		data := []byte{'{', 0, 0xff, '}'}
		if err := s.SaveSession(ctx, "s1", data, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.LoadSession(ctx, "s1", t0)
		if err != nil || !ok || !bytes.Equal(got, data) {
			t.Fatalf("load: %q %v %v, want %q", got, ok, err, data)
		}
		if err := s.DeleteSession(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.LoadSession(ctx, "s1", t0); ok {
			t.Fatal("deleted session still loads")
		}
		if err := s.DeleteSession(ctx, "s1"); err != nil {
			t.Fatalf("deleting a missing session: %v, want nil", err)
		}
	})

	t.Run("save replaces", func(t *testing.T) {
		s, _ := open(t)
		ctx := t.Context()
		if err := s.SaveSession(ctx, "s", []byte("old"), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveSession(ctx, "s", []byte("new"), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.LoadSession(ctx, "s", t0.Add(30*time.Minute))
		if err != nil || !ok || string(got) != "new" {
			t.Fatalf("after replace: %q %v %v, want new", got, ok, err)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		s, _ := open(t)
		ctx := t.Context()
		for i, exp := range []time.Duration{time.Minute, time.Hour, 2 * time.Hour} {
			if err := s.SaveSession(ctx, string(rune('a'+i)), []byte("x"), t0.Add(exp)); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok, _ := s.LoadSession(ctx, "a", t0.Add(time.Minute)); ok {
			t.Fatal("a session loads at the instant it expires")
		}
		if _, ok, _ := s.LoadSession(ctx, "a", t0.Add(time.Minute-time.Microsecond)); !ok {
			t.Fatal("a session does not load just before it expires")
		}
		n, err := s.DeleteExpiredSessions(ctx, t0.Add(time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("delete expired at +1h: %d %v, want 2 (the one expiring then too)", n, err)
		}
		if _, ok, _ := s.LoadSession(ctx, "c", t0.Add(time.Hour)); !ok {
			t.Fatal("a live session was deleted")
		}
		if n, err := s.DeleteExpiredSessions(ctx, t0.Add(time.Hour)); err != nil || n != 0 {
			t.Fatalf("second delete: %d %v, want 0", n, err)
		}
	})

	t.Run("shared by two handles", func(t *testing.T) {
		a, b := open(t)
		ctx := t.Context()
		if err := a.SaveSession(ctx, "s", []byte("from a"), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := b.LoadSession(ctx, "s", t0); err != nil || !ok || string(got) != "from a" {
			t.Fatalf("b loads a's session: %q %v %v", got, ok, err)
		}
		if err := b.DeleteSession(ctx, "s"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := a.LoadSession(ctx, "s", t0); ok {
			t.Fatal("a still loads the session b deleted")
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		a, b := open(t)
		ctx := t.Context()
		var wg sync.WaitGroup
		for i, s := range []SessionStore{a, b, a, b} {
			wg.Go(func() {
				for j := range 20 {
					id := string(rune('a'+i)) + string(rune('a'+j))
					if err := s.SaveSession(ctx, id, []byte(id), t0.Add(time.Hour)); err != nil {
						t.Error(err)
						return
					}
					if got, ok, err := s.LoadSession(ctx, id, t0); err != nil || !ok || string(got) != id {
						t.Errorf("load %s: %q %v %v", id, got, ok, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if n, err := a.DeleteExpiredSessions(ctx, t0.Add(2*time.Hour)); err != nil || n != 80 {
			t.Fatalf("delete all: %d %v, want 80", n, err)
		}
	})
}
