package pgstore_test

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/storetest"
)

func TestMeshStoreContract(t *testing.T) {
	pgstoretest.URL(t)
	storetest.RunMeshServer(t, func(t *testing.T) (a, b storetest.MeshBackend) {
		da, db := pgstoretest.MustOpenTwo(t)
		return storetest.MeshBackend{Store: da.Mesh(), Blobs: da.Blobs()}, storetest.MeshBackend{Store: db.Mesh(), Blobs: db.Blobs()}
	})
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
