package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
)

// runMeshTokens checks the token every RequestStore method records with
// its work: recorded once across two handles on one database, refused
// (and nothing done) when it was recorded before or its mailbox changed
// since the server verified it.
func runMeshTokens(t *testing.T, open func(t *testing.T) (a, b MeshBackend)) {
	// Each op does one request as the token's mailbox and reports, by
	// reading back on the other handle, whether its work happened.
	type op struct {
		name string
		run  func(t *testing.T, st, other meshserver.Store, tok *meshserver.Token, n int) (did bool, err error)
	}
	ops := []op{
		{"authenticate", func(t *testing.T, st, _ meshserver.Store, tok *meshserver.Token, _ int) (bool, error) {
			if tok == nil {
				return true, nil // no request authenticates without a token
			}
			mb, err := st.Authenticate(t.Context(), *tok)
			if err == nil && fmt.Sprint(mb) != fmt.Sprint(tok.Seen) {
				t.Fatalf("Authenticate: got %+v, want the mailbox as stored, %+v", mb, tok.Seen)
			}
			return err == nil, err
		}},
		{"send", func(t *testing.T, st, other meshserver.Store, tok *meshserver.Token, n int) (bool, error) {
			m := message(msgID(1000+n), actor(tok), rcvMailbox.ID, "WF")
			err := st.Send(t.Context(), meshserver.SendParams{Token: tok, Message: m, Chunk: chunk1(m), Body: []byte("abc")})
			_, gerr := other.GetMessage(t.Context(), m.ID)
			return gerr == nil, err
		}},
		{"inbox page", func(t *testing.T, st, _ meshserver.Store, tok *meshserver.Token, _ int) (bool, error) {
			page, err := st.InboxPage(t.Context(), meshserver.InboxPageParams{Token: tok, Mailbox: actor(tok), Limit: 10, Count: true})
			if err == nil && (len(page.IDs) != 1 || page.Count < 1) {
				t.Fatalf("InboxPage: got %+v, want the fixture and a count", page)
			}
			return err == nil, err
		}},
		{"rich", func(t *testing.T, st, _ meshserver.Store, tok *meshserver.Token, _ int) (bool, error) {
			_, err := st.Rich(t.Context(), meshserver.RichParams{Token: tok, ListMessagesParams: meshserver.ListMessagesParams{Recipient: actor(tok)}})
			return err == nil, err
		}},
		{"download", func(t *testing.T, st, _ meshserver.Store, tok *meshserver.Token, _ int) (bool, error) {
			d, err := st.Download(t.Context(), meshserver.DownloadParams{Token: tok, ID: msgID(1), Chunk: 1})
			if err == nil && !d.HasChunk {
				t.Fatalf("Download: got %+v, want the fixture's chunk", d)
			}
			return err == nil, err
		}},
		{"acknowledge", func(t *testing.T, st, other meshserver.Store, tok *meshserver.Token, n int) (bool, error) {
			m := message(msgID(2000+n), rcvMailbox.ID, actor(tok), "WF")
			createMessages(t, other, m)
			_, err := st.Acknowledge(t.Context(), meshserver.AcknowledgeParams{Token: tok, Mailbox: actor(tok), ID: m.ID, Code: "00", Event: "ACK", At: t0})
			got, _ := other.GetMessage(t.Context(), m.ID)
			return got.Status == meshserver.StatusAcknowledged, err
		}},
		{"track", func(t *testing.T, st, _ meshserver.Store, tok *meshserver.Token, _ int) (bool, error) {
			_, err := st.Track(t.Context(), meshserver.TrackParams{Token: tok, Sender: actor(tok), ID: msgID(1)})
			return err == nil, err
		}},
	}
	changed := func(mb meshserver.Mailbox, change func(*meshserver.Mailbox)) meshserver.Mailbox {
		change(&mb)
		return mb
	}
	// disabled is active as the server saw it, inactive as stored.
	disabled := meshserver.Mailbox{ID: "X26DIS1", Password: "pw", ODSCode: "X26", Active: true}
	cases := []struct {
		name   string
		seen   meshserver.Mailbox // the mailbox as the server verified the token with
		replay bool               // the token was recorded before
		nilTok bool
		// want: nil, ErrReplay, or ErrMailboxChanged with the mailbox as
		// stored (found false: gone).
		want  error
		found bool
	}{
		{name: "fresh token", seen: sndMailbox},
		{name: "no token", seen: sndMailbox, nilTok: true},
		{name: "replayed (recorded by the other handle)", seen: sndMailbox, replay: true, want: meshserver.ErrReplay},
		{name: "password changed", seen: changed(sndMailbox, func(m *meshserver.Mailbox) { m.Password = "old" }), want: meshserver.ErrMailboxChanged, found: true},
		{name: "workflows changed", seen: changed(sndMailbox, func(m *meshserver.Mailbox) { m.Workflows = nil }), want: meshserver.ErrMailboxChanged, found: true},
		{name: "mailbox disabled", seen: disabled, want: meshserver.ErrMailboxChanged, found: true},
		{name: "mailbox unknown", seen: changed(sndMailbox, func(m *meshserver.Mailbox) { m.ID = "X26ZZZ9" }), want: meshserver.ErrMailboxChanged},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			a, b := open(t)
			putMailboxes(t, a.Store, sndMailbox, rcvMailbox, offMailbox, changed(disabled, func(m *meshserver.Mailbox) { m.Active = false }))
			createMessages(t, a.Store, message(msgID(1), rcvMailbox.ID, sndMailbox.ID, "WF"))
			var toks tokens
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					// Alternate the handles: the other one always reads back.
					st, other := a.Store, b.Store
					if i%2 == 1 {
						st, other = b.Store, a.Store
					}
					tok := toks.next(c.seen)
					if c.replay {
						if _, err := other.Authenticate(t.Context(), *tok); err != nil {
							t.Fatal(err)
						}
					}
					if c.nilTok {
						tok = nil
					}
					did, err := o.run(t, st, other, tok, i)
					wantErr(t, o.name, err, c.want)
					if did != (c.want == nil) {
						t.Fatalf("work done: %v, want %v", did, c.want == nil)
					}
					var changedErr *meshserver.MailboxChangedError
					if errors.Is(c.want, meshserver.ErrMailboxChanged) {
						if !errors.As(err, &changedErr) || changedErr.Found != c.found || changedErr.Mailbox.ID != c.seen.ID {
							t.Fatalf("got %#v, want a *MailboxChangedError of %s (found %v)", err, c.seen.ID, c.found)
						}
						if c.found && changedErr.Mailbox.Password != "pw" {
							t.Fatalf("MailboxChangedError carries %+v, want the mailbox as stored", changedErr.Mailbox)
						}
					}
					switch {
					case tok == nil:
					case c.want == nil || c.replay:
						wantRecorded(t, other, tok)
					default:
						if meshserver.TokenRecorded(err) {
							t.Fatalf("TokenRecorded(%v) is true, want false", err)
						}
						wantNotRecorded(t, other, tok)
					}
				})
			}
		})
	}

	t.Run("one token from two handles at once: one request", func(t *testing.T) {
		a, b := open(t)
		ctx := t.Context()
		putMailboxes(t, a.Store)
		var toks tokens
		for round := range 3 {
			tok := toks.next(sndMailbox)
			errs := make([]error, 8)
			var wg sync.WaitGroup
			for i := range errs {
				st := []meshserver.Store{a.Store, b.Store}[i%2]
				m := message(msgID(round*100+i), sndMailbox.ID, rcvMailbox.ID, "WF")
				wg.Go(func() {
					if i < 4 {
						errs[i] = st.Send(ctx, meshserver.SendParams{Token: tok, Message: m, Chunk: chunk1(m), Body: []byte("abc")})
					} else {
						_, errs[i] = st.Authenticate(ctx, *tok)
					}
				})
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, meshserver.ErrReplay):
					t.Fatalf("round %d: got %v, want nil or ErrReplay", round, err)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %d requests with one token succeeded, want 1", round, ok)
			}
		}
	})

	t.Run("prune forgets old tokens", func(t *testing.T) {
		a, b := open(t)
		ctx := t.Context()
		putMailboxes(t, a.Store)
		old := &meshserver.Token{Nonce: "n1", Count: "0", At: t0, Seen: sndMailbox}
		next := &meshserver.Token{Nonce: "n1", Count: "1", At: t0, Seen: sndMailbox}
		recent := &meshserver.Token{Nonce: "n2", Count: "0", At: t0.Add(time.Minute), Seen: sndMailbox}
		for _, tok := range []*meshserver.Token{old, next, recent} {
			if _, err := a.Store.Authenticate(ctx, *tok); err != nil {
				t.Fatalf("token %s/%s: %v", tok.Nonce, tok.Count, err)
			}
		}
		if n, err := b.Store.PruneNonces(ctx, t0.Add(time.Second)); err != nil || n != 2 {
			t.Fatalf("PruneNonces: got %d, %v; want 2", n, err)
		}
		if _, err := b.Store.Authenticate(ctx, *old); err != nil {
			t.Fatalf("a pruned token again: got %v, want it recorded", err)
		}
		wantRecorded(t, a.Store, recent)
	})
}

// actor is the mailbox a request is made as: its token's.
func actor(tok *meshserver.Token) string {
	if tok == nil {
		return sndMailbox.ID
	}
	return tok.Seen.ID
}
