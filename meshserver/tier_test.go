package meshserver_test

import (
	"bytes"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/sqlitestore"
)

// Small bodies live in the database (with the message row, as Store.Send
// keeps them) and large ones in files; purge and reset remove both kinds.
func TestPayloadTiersDeleted(t *testing.T) {
	for _, tc := range []struct {
		name  string
		clear func(t *testing.T, srv *meshtest.Server)
	}{
		{"purge after retention", func(t *testing.T, srv *meshtest.Server) {
			srv.Admin.AdvanceClock(31 * 24 * time.Hour)
			if n, err := srv.Admin.PurgeNow(t.Context()); err != nil || n != 2 {
				t.Fatalf("PurgeNow: %d, %v; want 2", n, err)
			}
		}},
		{"reset", func(t *testing.T, srv *meshtest.Server) {
			if n, err := srv.Admin.Reset(t.Context(), ""); err != nil || n != 2 {
				t.Fatalf("Reset: %d, %v; want 2", n, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db, err := sqlitestore.Open(t.Context(), filepath.Join(dir, "mesh.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			files, err := fileblob.Open(filepath.Join(dir, "blobs"))
			if err != nil {
				t.Fatal(err)
			}
			small := db.Blobs()
			srv := meshtest.NewServer(t, meshtest.Options{Store: db.Mesh(), Blobs: tier.New(small, files, tier.DefaultThreshold)})
			a, b := newClient(t, srv, "X26ABC1"), newClient(t, srv, "X26ABC2")
			bodies := map[string][]byte{"inline": bytes.Repeat([]byte("s"), 4096), "file": bytes.Repeat([]byte("L"), int(tier.DefaultThreshold)+1)}
			keys := map[string]string{}
			for name, body := range bodies {
				id := a.mustSend("X26ABC2", "WF", body, nil)
				r := b.get(id)
				wantStatus(t, "download "+name, r, http.StatusOK)
				if !bytes.Equal(r.body, body) {
					t.Fatalf("%s body: got %d bytes, want %d equal", name, len(r.body), len(body))
				}
				wantStatus(t, "ack "+name, b.ack(id), http.StatusOK)
				ch, err := srv.Store.GetChunk(t.Context(), id, 1)
				if err != nil {
					t.Fatal(err)
				}
				keys[name] = ch.BlobKey
			}
			if _, err := small.Size(t.Context(), keys["inline"]); err != nil {
				t.Fatalf("4 KiB body not in the database: %v", err)
			}
			if _, err := files.Size(t.Context(), keys["file"]); err != nil {
				t.Fatalf("body above the threshold not a file: %v", err)
			}
			tc.clear(t, srv)
			for name, key := range keys {
				for store, s := range map[string]blob.Store{"database": small, "files": files} {
					if _, err := s.Size(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
						t.Errorf("%s payload left in %s: got %v, want ErrNotFound", name, store, err)
					}
				}
			}
		})
	}
}
