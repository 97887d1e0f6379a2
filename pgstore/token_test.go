package pgstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// UseToken records a token only for an active mailbox whose password is
// still the one given, and tells the cases apart.
func TestUseToken(t *testing.T) {
	schema := pgstoretest.Schema(t)
	a := pgstoretest.MustOpenSchema(t, schema).Mesh()
	b := pgstoretest.MustOpenSchema(t, schema).Mesh()
	ctx := t.Context()
	now := time.Now().UTC()
	for _, mb := range []meshserver.Mailbox{
		{ID: "X26ABC1", Password: "pw1", ODSCode: "X26", Active: true, Workflows: []string{"WF"}},
		{ID: "X26ABC2", Password: "pw2", ODSCode: "X26", Active: false},
	} {
		if err := a.PutMailbox(ctx, mb); err != nil {
			t.Fatal(err)
		}
	}
	tok := func(mailbox, nonce string) meshserver.UseNonceParams {
		return meshserver.UseNonceParams{Mailbox: mailbox, Nonce: nonce, Count: "1", At: now}
	}
	tests := []struct {
		name     string
		p        meshserver.UseNonceParams
		password string
		want     error
	}{
		{name: "unknown mailbox", p: tok("X26ZZZ9", "n1"), password: "pw1", want: meshserver.ErrNotFound},
		{name: "first use", p: tok("X26ABC1", "n1"), password: "pw1"},
		{name: "replay via another pool", p: tok("X26ABC1", "n1"), password: "pw1", want: meshserver.ErrReplay},
		{name: "stale password records nothing", p: tok("X26ABC1", "n2"), password: "old", want: meshserver.ErrConflict},
		{name: "same token with the right password afterwards", p: tok("X26ABC1", "n2"), password: "pw1"},
		{name: "inactive mailbox records nothing", p: tok("X26ABC2", "n3"), password: "pw2", want: meshserver.ErrConflict},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := a
			if i%2 == 0 {
				st = b
			}
			mb, err := st.UseToken(ctx, tt.p, tt.password)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("UseToken: got %v, want %v", err, tt.want)
			}
			if tt.want == nil && (mb.ID != tt.p.Mailbox || mb.Password != tt.password || !mb.Active) {
				t.Fatalf("UseToken mailbox: got %+v", mb)
			}
		})
	}
	// The inactive mailbox's token was not recorded.
	if err := a.UseNonce(ctx, tok("X26ABC2", "n3")); err != nil {
		t.Fatalf("UseNonce after refused UseToken: got %v, want nil", err)
	}
	// And UseToken sees tokens UseNonce recorded.
	if _, err := a.UseToken(ctx, tok("X26ABC2", "n3"), "pw2"); !errors.Is(err, meshserver.ErrConflict) {
		t.Fatalf("UseToken inactive: got %v, want ErrConflict", err)
	}
	if err := a.UseNonce(ctx, tok("X26ABC1", "n4")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.UseToken(ctx, tok("X26ABC1", "n4"), "pw1"); !errors.Is(err, meshserver.ErrReplay) {
		t.Fatalf("UseToken after UseNonce: got %v, want ErrReplay", err)
	}
}

// Of concurrent uses of one token through two pools exactly one succeeds.
func TestUseTokenConcurrent(t *testing.T) {
	schema := pgstoretest.Schema(t)
	stores := []*pgstore.MeshStore{pgstoretest.MustOpenSchema(t, schema).Mesh(), pgstoretest.MustOpenSchema(t, schema).Mesh()}
	ctx := t.Context()
	if err := stores[0].PutMailbox(ctx, meshserver.Mailbox{ID: "X26ABC1", Password: "pw", Active: true}); err != nil {
		t.Fatal(err)
	}
	p := meshserver.UseNonceParams{Mailbox: "X26ABC1", Nonce: "race", Count: "1", At: time.Now().UTC()}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = stores[i%2].UseToken(ctx, p, "pw") })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, meshserver.ErrReplay):
			t.Fatalf("UseToken: got %v, want nil or ErrReplay", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent uses succeeded, want 1", ok, n)
	}
}

// Tokens of many concurrent requests are recorded in shared batches; each
// request still gets its own answer, and a token used twice in one batch
// succeeds once.
func TestUseTokenBatched(t *testing.T) {
	schema := pgstoretest.Schema(t)
	st := pgstoretest.MustOpenSchema(t, schema).Mesh()
	ctx := t.Context()
	for _, mb := range []meshserver.Mailbox{
		{ID: "X26ABC1", Password: "pw1", Active: true},
		{ID: "X26ABC2", Password: "pw2", Active: false},
	} {
		if err := st.PutMailbox(ctx, mb); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	type call struct {
		name     string
		p        meshserver.UseNonceParams
		password string
	}
	var calls []call
	for i := range 300 {
		calls = append(calls, call{name: "distinct", p: meshserver.UseNonceParams{Mailbox: "X26ABC1", Nonce: fmt.Sprint("n", i), Count: "1", At: now}, password: "pw1"})
	}
	for range 20 {
		calls = append(calls, call{name: "same token", p: meshserver.UseNonceParams{Mailbox: "X26ABC1", Nonce: "dup", Count: "1", At: now}, password: "pw1"})
	}
	for i := range 10 {
		calls = append(calls,
			call{name: "stale password", p: meshserver.UseNonceParams{Mailbox: "X26ABC1", Nonce: fmt.Sprint("s", i), Count: "1", At: now}, password: "old"},
			call{name: "inactive", p: meshserver.UseNonceParams{Mailbox: "X26ABC2", Nonce: fmt.Sprint("i", i), Count: "1", At: now}, password: "pw2"},
			call{name: "unknown", p: meshserver.UseNonceParams{Mailbox: "X26ZZZ9", Nonce: fmt.Sprint("u", i), Count: "1", At: now}, password: "pw1"})
	}
	errs := make([]error, len(calls))
	mbs := make([]meshserver.Mailbox, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() { mbs[i], errs[i] = st.UseToken(ctx, c.p, c.password) })
	}
	wg.Wait()
	dupOK := 0
	for i, c := range calls {
		err := errs[i]
		switch c.name {
		case "distinct":
			if err != nil || mbs[i].ID != "X26ABC1" || !mbs[i].Active {
				t.Fatalf("%s %s: got %+v, %v", c.name, c.p.Nonce, mbs[i], err)
			}
		case "same token":
			if err == nil {
				dupOK++
			} else if !errors.Is(err, meshserver.ErrReplay) {
				t.Fatalf("same token: got %v, want nil or ErrReplay", err)
			}
		case "stale password", "inactive":
			if !errors.Is(err, meshserver.ErrConflict) {
				t.Fatalf("%s: got %v, want ErrConflict", c.name, err)
			}
		case "unknown":
			if !errors.Is(err, meshserver.ErrNotFound) {
				t.Fatalf("unknown mailbox: got %v, want ErrNotFound", err)
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
func TestUseTokenAfterClose(t *testing.T) {
	schema := pgstoretest.Schema(t)
	db := pgstoretest.MustOpenSchema(t, schema)
	st := db.Mesh()
	ctx := t.Context()
	if err := st.PutMailbox(ctx, meshserver.Mailbox{ID: "X26ABC1", Password: "pw", Active: true}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			_, _ = st.UseToken(ctx, meshserver.UseNonceParams{Mailbox: "X26ABC1", Nonce: fmt.Sprint("c", i), Count: "1", At: time.Now().UTC()}, "pw")
		})
	}
	db.Close()
	wg.Wait()
	if _, err := st.UseToken(ctx, meshserver.UseNonceParams{Mailbox: "X26ABC1", Nonce: "late", Count: "1", At: time.Now().UTC()}, "pw"); err == nil {
		t.Fatal("UseToken after Close succeeded")
	}
}
