package pgstore_test

import (
	"testing"

	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// With PrepareMesh every connection arrives with the MESH server's
// statements prepared, on a schema migrated by the same Open.
func TestPrepareMesh(t *testing.T) {
	db := pgstoretest.MustOpenMesh(t)
	ctx := t.Context()
	for range 3 {
		c, err := db.Pool().Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = c.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%mesh_%'`).Scan(&n)
		c.Release()
		if err != nil {
			t.Fatal(err)
		}
		if n < 5 {
			t.Fatalf("%d MESH statements prepared on a connection, want at least 5", n)
		}
	}
}

// Open returns with MinConns connections open, each prepared: a service's
// first requests do not wait for PostgreSQL to start backends.
func TestOpenWarmsMinConns(t *testing.T) {
	db := pgstoretest.MustOpenMesh(t) // MinConns 2
	if n := db.Pool().Stat().TotalConns(); n < 2 {
		t.Fatalf("%d connections open when Open returned, want MinConns = 2", n)
	}
}
