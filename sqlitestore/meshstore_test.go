package sqlitestore_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/storetest"
)

// MustOpen opens a fresh database in t.TempDir and closes it at cleanup.
func MustOpen(tb testing.TB) *sqlitestore.DB {
	tb.Helper()
	db, err := sqlitestore.Open(tb.Context(), filepath.Join(tb.TempDir(), "gpcm.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustOpenTwo opens two handles on one fresh database in t.TempDir, as
// two server processes on one file would; both are closed at cleanup.
func MustOpenTwo(tb testing.TB) (a, b *sqlitestore.DB) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "gpcm.db")
	open := func() *sqlitestore.DB {
		db, err := sqlitestore.Open(tb.Context(), path)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	}
	return open(), open()
}

func TestMeshStoreContract(t *testing.T) {
	storetest.RunMeshServer(t, func(t *testing.T) (a, b storetest.MeshBackend) {
		da, db := MustOpenTwo(t)
		return storetest.MeshBackend{Store: da.Mesh(), Blobs: da.Blobs()}, storetest.MeshBackend{Store: db.Mesh(), Blobs: db.Blobs()}
	})
}

func TestMigrationsRecordedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gpcm.db")
	for range 2 {
		db, err := sqlitestore.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		names, err := db.Migrations(t.Context())
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(names, "mesh_0001_init.sql") {
			t.Fatalf("migrations: got %v, want mesh_0001_init.sql recorded", names)
		}
	}
}
