package pgstore_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/blobtest"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

func TestBlobStoreContract(t *testing.T) {
	pgstoretest.URL(t)
	blobtest.Run(t, func(t *testing.T) blob.Store { return pgstoretest.MustOpen(t).Blobs() })
}

// Small payloads stay whole in their row: no pglz attempt and no TOAST
// chunks for a 4 KiB incompressible MESH body, while a compressible body
// over the threshold is still compressed.
func TestBlobStorage(t *testing.T) {
	db := pgstoretest.MustOpen(t)
	ctx := t.Context()
	random := make([]byte, 4<<10)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		data       []byte
		compressed bool // stored smaller than the data
	}{
		{"4KiB random stays whole in the row", random, false},
		{"20KiB of one byte is compressed", bytes.Repeat([]byte("a"), 20<<10), true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("storage/%d", i)
			if _, err := db.Blobs().Put(ctx, key, bytes.NewReader(tc.data)); err != nil {
				t.Fatal(err)
			}
			var stored int
			if err := db.Pool().QueryRow(ctx, `SELECT pg_column_size(data) FROM blobs WHERE key = $1`, key).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if got := stored < len(tc.data); got != tc.compressed {
				t.Fatalf("stored in %d bytes for %d bytes of data; compressed = %v, want %v", stored, len(tc.data), got, tc.compressed)
			}
		})
	}
	var toast int64
	if err := db.Pool().QueryRow(ctx, `SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'blobs'::regclass`).Scan(&toast); err != nil {
		t.Fatal(err)
	}
	if toast != 0 {
		t.Fatalf("TOAST table of blobs holds %d bytes, want none", toast)
	}
}
