package pgstore_test

import (
	"errors"
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
