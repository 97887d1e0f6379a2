package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// The TokenOpStore methods do their work only when they record the token
// as the caller saw its mailbox, in one statement, and otherwise change
// nothing; two pools stand for two server processes.
func TestTokenOps(t *testing.T) {
	schema := pgstoretest.Schema(t)
	a := pgstoretest.MustOpenSchema(t, schema).Mesh()
	b := pgstoretest.MustOpenSchema(t, schema).Mesh()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	snd := meshserver.Mailbox{ID: "X26SND1", Password: "pw", ODSCode: "X26", Active: true, Workflows: []string{"WF"}}
	rcv := meshserver.Mailbox{ID: "X26RCV1", Password: "pw", ODSCode: "X26", Active: true}
	off := meshserver.Mailbox{ID: "X26OFF1", Password: "pw", ODSCode: "X26", Active: false}
	putMailboxes(t, a, snd, rcv, off)
	pending := tokens(now)
	msg := func(id string) (meshserver.Message, meshserver.Chunk) {
		m := meshserver.Message{ID: id, MessageType: meshserver.TypeData, Sender: snd.ID, Recipient: rcv.ID, WorkflowID: "WF",
			Status: meshserver.StatusAccepted, TotalChunks: 1, Size: 5, CreatedAt: now, StatusAt: now, ExpiresAt: now.Add(time.Hour)}
		return m, meshserver.Chunk{MessageID: id, Number: 1, Size: 5, BlobKey: "mesh/t/" + id}
	}
	stale := func(mb meshserver.Mailbox, change func(*meshserver.Mailbox)) meshserver.Mailbox {
		change(&mb)
		return mb
	}
	ack := func(id string) meshserver.UpdateStatusParams {
		return meshserver.UpdateStatusParams{ID: id, Code: "00", Event: "ACK", Description: "Message acknowledged", At: now}
	}
	m1, c1 := msg("20260101000000000000_AAAAAA")
	m2, c2 := msg("20260101000000000000_BBBBBB")
	used := pending(snd)
	usedRcv := pending(rcv)
	usedList := pending(rcv)

	tests := []struct {
		name string
		// op runs one method with tok on st.
		op   func(st tokenOps, tok meshserver.PendingToken) error
		tok  meshserver.PendingToken
		want error
	}{
		{"send: first use of a token stores the message", create(m1, c1), used, nil},
		{"send: the same token again (another process) stores nothing", create(m2, c2), used, meshserver.ErrTokenRefused},
		{"send: stale password", create(m2, c2), tokenFor(pending(snd), stale(snd, func(m *meshserver.Mailbox) { m.Password = "old" })), meshserver.ErrTokenRefused},
		{"send: workflows changed since seen", create(m2, c2), tokenFor(pending(snd), stale(snd, func(m *meshserver.Mailbox) { m.Workflows = nil })), meshserver.ErrTokenRefused},
		{"send: inactive sender", create(m2, c2), tokenFor(pending(off), off), meshserver.ErrTokenRefused},
		{"send: unknown sender", create(m2, c2), tokenFor(pending(snd), stale(snd, func(m *meshserver.Mailbox) { m.ID = "X26ZZZ9" })), meshserver.ErrTokenRefused},
		{"send: recipient refused, token spent", create(withRecipient(m2, off.ID), c2), pending(snd), meshserver.ErrRecipient},
		{"download", read(m1.ID, "hello"), usedRcv, nil},
		{"download: the same token again", read(m1.ID, ""), usedRcv, meshserver.ErrTokenRefused},
		{"download: unknown message, token spent", read("20260101000000000000_ZZZZZZ", ""), pending(rcv), meshserver.ErrNotFound},
		{"download: stale password", read(m1.ID, ""), tokenFor(pending(rcv), stale(rcv, func(m *meshserver.Mailbox) { m.Password = "old" })), meshserver.ErrTokenRefused},
		{"inbox page with count", list(rcv.ID, []string{m1.ID}, true), usedList, nil},
		{"inbox page: the same token again", list(rcv.ID, nil, true), usedList, meshserver.ErrTokenRefused},
		{"inbox page without count", list(rcv.ID, []string{m1.ID}, false), pending(rcv), nil},
		{"inbox page: inactive mailbox", list(off.ID, nil, false), tokenFor(pending(off), off), meshserver.ErrTokenRefused},
		{"acknowledge by another mailbox moves nothing", acknowledge(m1.ID, ack, false), pending(snd), nil},
		{"acknowledge: replayed token moves nothing", acknowledge(m1.ID, ack, false), usedRcv, meshserver.ErrTokenRefused},
		{"acknowledge", acknowledge(m1.ID, ack, true), pending(rcv), nil},
		{"acknowledge again moves nothing", acknowledge(m1.ID, ack, false), pending(rcv), nil},
		{"acknowledge an unknown message", acknowledge("20260101000000000000_ZZZZZZ", ack, false), pending(rcv), meshserver.ErrNotFound},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := a
			if i%2 == 1 {
				st = b
			}
			err := tt.op(st, tt.tok)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			// Whatever happened, the token is spent now unless refused.
			_, uerr := a.UseToken(ctx, tt.tok.UseNonceParams, tt.tok.Mailbox.Password)
			switch {
			case errors.Is(tt.want, meshserver.ErrTokenRefused) && tt.tok.Mailbox.Password == "old":
				if !errors.Is(uerr, meshserver.ErrConflict) {
					t.Fatalf("UseToken after a stale password: got %v, want ErrConflict", uerr)
				}
			case errors.Is(tt.want, meshserver.ErrTokenRefused):
				// Refused for a replay or a changed mailbox: UseToken decides.
			default:
				if !errors.Is(uerr, meshserver.ErrReplay) {
					t.Fatalf("UseToken after the call: got %v, want ErrReplay (token recorded)", uerr)
				}
			}
		})
	}
	if _, err := a.GetMessage(ctx, m2.ID); !errors.Is(err, meshserver.ErrNotFound) {
		t.Fatalf("message of refused sends: got %v, want ErrNotFound", err)
	}
	if got, err := a.GetMessage(ctx, m1.ID); err != nil || got.Status != meshserver.StatusAcknowledged || !got.AckedAt.Equal(now) {
		t.Fatalf("acknowledged message: got %+v, %v", got, err)
	}
}

// Concurrent uses of one token through the TokenOpStore methods of two
// pools: exactly one does its work.
func TestTokenOpsConcurrentReplay(t *testing.T) {
	schema := pgstoretest.Schema(t)
	pools := []tokenOps{pgstoretest.MustOpenSchema(t, schema).Mesh(), pgstoretest.MustOpenSchema(t, schema).Mesh()}
	ctx := t.Context()
	now := time.Now().UTC()
	mb := meshserver.Mailbox{ID: "X26SND1", Password: "pw", Active: true}
	if err := pools[0].PutMailbox(ctx, mb); err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		tok := meshserver.PendingToken{Mailbox: mb,
			UseNonceParams: meshserver.UseNonceParams{Mailbox: mb.ID, Nonce: fmt.Sprint("r", round), Count: "0", At: now}}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				id := fmt.Sprintf("20260101000000%06d_%06d", round, i)
				m := meshserver.Message{ID: id, MessageType: meshserver.TypeData, Sender: mb.ID, Recipient: mb.ID, WorkflowID: "WF",
					Status: meshserver.StatusAccepted, TotalChunks: 1, Size: 1, CreatedAt: now, StatusAt: now}
				errs[i] = pools[i%2].CreateMessageInlineCheckedToken(ctx, tok, m, meshserver.Chunk{MessageID: id, Number: 1, Size: 1, BlobKey: "mesh/c/" + id}, []byte("x"))
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, meshserver.ErrTokenRefused):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d sends with one token succeeded, want 1", round, ok)
		}
	}
}

type tokenOps interface {
	meshserver.TokenOpStore
	meshserver.TokenStore
	GetMessage(ctx context.Context, id string) (meshserver.Message, error)
	PutMailbox(ctx context.Context, mb meshserver.Mailbox) error
}

// putMailboxes stores mbs in st.
func putMailboxes(t *testing.T, st tokenOps, mbs ...meshserver.Mailbox) {
	t.Helper()
	for _, mb := range mbs {
		if err := st.PutMailbox(t.Context(), mb); err != nil {
			t.Fatal(err)
		}
	}
}

// tokens returns a source of pending tokens at now, each with a nonce of
// its own.
func tokens(now time.Time) func(meshserver.Mailbox) meshserver.PendingToken {
	nonce := 0
	return func(mb meshserver.Mailbox) meshserver.PendingToken {
		nonce++
		return meshserver.PendingToken{Mailbox: mb,
			UseNonceParams: meshserver.UseNonceParams{Mailbox: mb.ID, Nonce: fmt.Sprint("n", nonce), Count: "0", At: now}}
	}
}

func tokenFor(p meshserver.PendingToken, mb meshserver.Mailbox) meshserver.PendingToken {
	p.Mailbox, p.UseNonceParams.Mailbox = mb, mb.ID
	return p
}

func withRecipient(m meshserver.Message, to string) meshserver.Message {
	m.Recipient = to
	return m
}

func create(m meshserver.Message, c meshserver.Chunk) func(tokenOps, meshserver.PendingToken) error {
	return func(st tokenOps, tok meshserver.PendingToken) error {
		return st.CreateMessageInlineCheckedToken(context.Background(), tok, m, c, []byte("hello"))
	}
}

func read(id, want string) func(tokenOps, meshserver.PendingToken) error {
	return func(st tokenOps, tok meshserver.PendingToken) error {
		got, err := st.ReadChunkToken(context.Background(), tok, id, 1)
		if err == nil && (!got.Inline || string(got.Body) != want || got.Message.ID != id || !got.HasChunk) {
			return fmt.Errorf("read %s: got inline %v body %q message %s chunk %v", id, got.Inline, got.Body, got.Message.ID, got.HasChunk)
		}
		return err
	}
}

func acknowledge(id string, p func(string) meshserver.UpdateStatusParams, wantMoved bool) func(tokenOps, meshserver.PendingToken) error {
	return func(st tokenOps, tok meshserver.PendingToken) error {
		before, moved, err := st.AcknowledgeToken(context.Background(), tok, p(id))
		if err == nil && (moved != wantMoved || before.ID != id) {
			return fmt.Errorf("acknowledge %s: moved %v (want %v), before %+v", id, moved, wantMoved, before)
		}
		return err
	}
}

func list(mailbox string, want []string, count bool) func(tokenOps, meshserver.PendingToken) error {
	return func(st tokenOps, tok meshserver.PendingToken) error {
		ids, n, err := st.ListInboxIDsToken(context.Background(), tok, meshserver.ListInboxParams{Mailbox: mailbox, Limit: 10}, count)
		wantN := 0
		if count {
			wantN = len(want)
		}
		if err == nil && (fmt.Sprint(ids) != fmt.Sprint(want) || n != wantN) {
			return fmt.Errorf("inbox of %s: got %v (count %d), want %v (count %d)", mailbox, ids, n, want, wantN)
		}
		return err
	}
}

// A request whose only write is its token (a download, an inbox page)
// commits without waiting for the WAL flush; a send and an acknowledgement
// wait, their token with them. Each statement runs in a transaction of the
// test's own, where the setting it leaves for its commit can be read.
func TestTokenOpsCommitWait(t *testing.T) {
	db := pgstoretest.MustOpen(t)
	st := db.Mesh()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	snd := meshserver.Mailbox{ID: "X26SND1", Password: "pw", ODSCode: "X26", Active: true}
	rcv := meshserver.Mailbox{ID: "X26RCV1", Password: "pw", ODSCode: "X26", Active: true}
	putMailboxes(t, st, snd, rcv)
	pending := tokens(now)
	const id = "20260101000000000000_WAITAA"
	m := meshserver.Message{ID: id, MessageType: meshserver.TypeData, Sender: snd.ID, Recipient: rcv.ID, WorkflowID: "WF",
		Status: meshserver.StatusAccepted, TotalChunks: 1, Size: 5, CreatedAt: now, StatusAt: now, ExpiresAt: now.Add(time.Hour)}
	c := meshserver.Chunk{MessageID: id, Number: 1, Size: 5, BlobKey: "mesh/t/" + id}
	tests := []struct {
		name  string
		query func() (string, []any, error)
		want  string // synchronous_commit at the end of the statement
	}{
		{"small send waits", func() (string, []any, error) {
			return pgstore.CreateInlineTokenQuery(pending(snd), m, c, []byte("hello"))
		}, "on"},
		{"download does not wait", func() (string, []any, error) {
			q, args := pgstore.ReadChunkTokenQuery(pending(rcv), id, 1)
			return q, args, nil
		}, "off"},
		{"inbox page does not wait", func() (string, []any, error) {
			q, args := pgstore.ListInboxTokenQuery(pending(rcv), meshserver.ListInboxParams{Mailbox: rcv.ID, Limit: 10}, true)
			return q, args, nil
		}, "off"},
		{"acknowledgement waits", func() (string, []any, error) {
			q, args := pgstore.AcknowledgeTokenQuery(pending(rcv), meshserver.UpdateStatusParams{ID: id, Code: "00", Event: "ACK", At: now})
			return q, args, nil
		}, "on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, args, err := tt.query()
			if err != nil {
				t.Fatal(err)
			}
			tx, err := db.Pool().Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(context.WithoutCancel(ctx))
			// As on a server with the default (the test server may run
			// without waiting at all).
			if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
				t.Fatal(err)
			}
			rows, err := tx.Query(ctx, q, args...)
			if err != nil {
				t.Fatal(err)
			}
			var recorded int64
			for rows.Next() {
				if err := rows.Scan(append([]any{&recorded}, make([]any, len(rows.FieldDescriptions())-1)...)...); err != nil {
					t.Fatal(err)
				}
			}
			if rows.Close(); rows.Err() != nil {
				t.Fatal(rows.Err())
			}
			if recorded != 1 {
				t.Fatalf("token recorded %d times, want once", recorded)
			}
			var got string
			if err := tx.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("synchronous_commit = %s for the commit, want %s", got, tt.want)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
