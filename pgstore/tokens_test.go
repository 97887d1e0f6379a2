package pgstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// The tokens of many concurrent requests (Authenticate, and the requests
// that record theirs before reading) are recorded in shared batches; each
// request still gets its own answer, and a token used twice in one batch
// succeeds once.
func TestTokenBatches(t *testing.T) {
	schema := pgstoretest.Schema(t)
	st := pgstoretest.MustOpenSchema(t, schema).Mesh()
	ctx := t.Context()
	one := meshserver.Mailbox{ID: "X26ABC1", Password: "pw1", Active: true, Workflows: []string{"WF"}}
	off := meshserver.Mailbox{ID: "X26ABC2", Password: "pw2", Active: false}
	for _, mb := range []meshserver.Mailbox{one, off} {
		if err := st.PutMailbox(ctx, mb); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	type call struct {
		name string
		tok  meshserver.Token
	}
	tok := func(mb meshserver.Mailbox, nonce string) meshserver.Token {
		return meshserver.Token{Nonce: nonce, Count: "1", At: now, Seen: mb}
	}
	stale, noWorkflows, active, unknown := one, one, off, one
	stale.Password, noWorkflows.Workflows, active.Active, unknown.ID = "old", nil, true, "X26ZZZ9"
	var calls []call
	for i := range 300 {
		calls = append(calls, call{"distinct", tok(one, fmt.Sprint("n", i))})
	}
	for range 20 {
		calls = append(calls, call{"same token", tok(one, "dup")})
	}
	for i := range 10 {
		calls = append(calls,
			call{"stale password", tok(stale, fmt.Sprint("s", i))},
			call{"workflows changed", tok(noWorkflows, fmt.Sprint("w", i))},
			call{"inactive", tok(active, fmt.Sprint("i", i))},
			call{"unknown", tok(unknown, fmt.Sprint("u", i))})
	}
	errs := make([]error, len(calls))
	mbs := make([]meshserver.Mailbox, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() { mbs[i], errs[i] = st.Authenticate(ctx, c.tok) })
	}
	wg.Wait()
	dupOK := 0
	for i, c := range calls {
		err := errs[i]
		switch c.name {
		case "distinct":
			if err != nil || fmt.Sprint(mbs[i]) != fmt.Sprint(one) {
				t.Fatalf("%s %s: got %+v, %v", c.name, c.tok.Nonce, mbs[i], err)
			}
		case "same token":
			if err == nil {
				dupOK++
			} else if !errors.Is(err, meshserver.ErrReplay) {
				t.Fatalf("same token: got %v, want nil or ErrReplay", err)
			}
		default:
			var changed *meshserver.MailboxChangedError
			if !errors.As(err, &changed) || changed.Found != (c.name != "unknown") {
				t.Fatalf("%s: got %v, want a *MailboxChangedError", c.name, err)
			}
		}
	}
	if dupOK != 1 {
		t.Fatalf("%d of 20 uses of one token succeeded, want 1", dupOK)
	}
	// Exactly the accepted tokens were recorded: 300 distinct + 1.
	var n int
	db := pgstoretest.MustOpenSchema(t, schema)
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM mesh_nonces`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 301 {
		t.Fatalf("mesh_nonces holds %d tokens, want 301", n)
	}
}

// Close answers requests still waiting instead of leaving them hanging,
// and later requests get an error.
func TestTokenBatchesAfterClose(t *testing.T) {
	schema := pgstoretest.Schema(t)
	db := pgstoretest.MustOpenSchema(t, schema)
	st := db.Mesh()
	ctx := t.Context()
	mb := meshserver.Mailbox{ID: "X26ABC1", Password: "pw", Active: true}
	if err := st.PutMailbox(ctx, mb); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			_, _ = st.Authenticate(ctx, meshserver.Token{Nonce: fmt.Sprint("c", i), Count: "1", At: time.Now().UTC(), Seen: mb})
		})
	}
	db.Close()
	wg.Wait()
	if _, err := st.Authenticate(ctx, meshserver.Token{Nonce: "late", Count: "1", At: time.Now().UTC(), Seen: mb}); err == nil {
		t.Fatal("Authenticate after Close succeeded")
	}
}
