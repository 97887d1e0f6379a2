// Package pgstoretest gives tests a real PostgreSQL store: one fresh schema
// per test, in the database GPCM_TEST_POSTGRES_URL names, dropped at cleanup,
// so tests run in parallel on one server.
//
// Without GPCM_TEST_POSTGRES_URL a test skips with a message, or fails when
// GPCM_TEST_STRICT=1 (CI, where scripts/test starts PostgreSQL).
package pgstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/gpcm/gpcm/pgstore"
)

// EnvURL is the environment variable that locates the test database.
const EnvURL = "GPCM_TEST_POSTGRES_URL"

// URL returns the test database URL, or skips (fails under
// GPCM_TEST_STRICT=1) when none is configured.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("GPCM_TEST_STRICT") == "1" {
			tb.Fatalf("%s is not set; scripts/test starts PostgreSQL and sets it", EnvURL)
		}
		tb.Skipf("%s not set: skipping PostgreSQL test (run ./scripts/test, or set it to postgres://USER@HOST:PORT/DB?sslmode=disable)", EnvURL)
	}
	return u
}

// Schema returns the name of a new, unique schema that is dropped (with
// everything in it) when the test ends. The schema itself is created by
// pgstore.Open with Options.Schema.
func Schema(tb testing.TB) string {
	tb.Helper()
	u := URL(tb)
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "gpcmtest_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := pgstore.DropSchema(ctx, u, name); err != nil {
			tb.Error(err)
		}
	})
	return name
}

// MustOpen opens a pgstore.DB on a fresh schema; it is closed, and the
// schema dropped, at cleanup.
func MustOpen(tb testing.TB) *pgstore.DB {
	tb.Helper()
	return MustOpenSchema(tb, Schema(tb))
}

// MustOpenSchema opens another pool on an existing test schema, as a second
// server process would; it is closed at cleanup.
func MustOpenSchema(tb testing.TB, schema string) *pgstore.DB {
	tb.Helper()
	db, err := pgstore.Open(tb.Context(), URL(tb), pgstore.Options{Schema: schema, MaxConns: 8})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustOpenMesh opens a pgstore.DB on a fresh schema as gpcm mesh-server
// opens its database: every connection prepares the MESH server's
// statements as it opens. It is closed, and the schema dropped, at cleanup.
func MustOpenMesh(tb testing.TB) *pgstore.DB {
	tb.Helper()
	db, err := pgstore.Open(tb.Context(), URL(tb), pgstore.Options{Schema: Schema(tb), MaxConns: 8, MinConns: 2, PrepareMesh: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustOpenTwo opens two pools on one fresh schema, as two server processes
// on one database would: the first as gpcm mesh-server opens its database
// (Options.PrepareMesh), the second plainly. Both are closed, and the
// schema dropped, at cleanup.
func MustOpenTwo(tb testing.TB) (a, b *pgstore.DB) {
	tb.Helper()
	schema := Schema(tb)
	a, err := pgstore.Open(tb.Context(), URL(tb), pgstore.Options{Schema: schema, MaxConns: 8, PrepareMesh: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return a, MustOpenSchema(tb, schema)
}
