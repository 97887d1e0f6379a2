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
