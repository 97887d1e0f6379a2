package pgstore_test

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/storetest"
)

func TestMeshStoreContract(t *testing.T) {
	pgstoretest.URL(t)
	storetest.RunMeshServer(t, func(t *testing.T) meshserver.Store { return pgstoretest.MustOpen(t).Mesh() })
}

// TestMigrateConcurrently starts several pools on one new schema at once, as
// several server processes starting together do: the advisory lock lets one
// migrate and the others find the migrations recorded, once each.
func TestMigrateConcurrently(t *testing.T) {
	schema := pgstoretest.Schema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	dbs := make([]*pgstore.DB, len(errs))
	for i := range errs {
		wg.Go(func() {
			dbs[i], errs[i] = pgstore.Open(t.Context(), pgstoretest.URL(t), pgstore.Options{Schema: schema, MaxConns: 2})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	if err := dbs[1].Ping(t.Context()); err != nil {
		t.Fatalf("Ping: got %v, want nil", err)
	}
	names, err := dbs[0].Migrations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Every embedded migration recorded once, in order.
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(files))
	for i, f := range files {
		want[i] = filepath.Base(f)
	}
	slices.Sort(want)
	if !slices.Equal(names, want) || !slices.Contains(want, "receiver_0001_init.sql") {
		t.Fatalf("migrations: got %v, want %v recorded once", names, want)
	}
}

// TestNonceSharedAcrossPools checks that a token used through one pool is a
// replay through another pool on the same schema (two server processes).
func TestNonceSharedAcrossPools(t *testing.T) {
	schema := pgstoretest.Schema(t)
	a := pgstoretest.MustOpenSchema(t, schema).Mesh()
	b := pgstoretest.MustOpenSchema(t, schema).Mesh()
	p := meshserver.UseNonceParams{Mailbox: "X26ABC1", Nonce: "6d5f7c1e", Count: "1"}
	if err := a.UseNonce(t.Context(), p); err != nil {
		t.Fatalf("first use: got %v, want nil", err)
	}
	if err := b.UseNonce(t.Context(), p); err != meshserver.ErrReplay {
		t.Fatalf("second use via another pool: got %v, want ErrReplay", err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		opts    pgstore.Options
		wantErr string
	}{
		{"empty URL", "", pgstore.Options{}, "empty database URL"},
		{"not a URL", "postgres://u:secretpw@host:notaport/db", pgstore.Options{}, "not a valid PostgreSQL connection string"},
		{"bad schema", "postgres://u@127.0.0.1:1/db", pgstore.Options{Schema: "Bad-Schema"}, "lower-case identifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pgstore.Open(t.Context(), tt.url, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secretpw") {
				t.Fatalf("error reveals the password: %v", err)
			}
		})
	}
}
