package sqlitestore_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/sqlitestore"
)

// Issue 23 §6: the database and its -wal and -shm files are 0600, whether
// Open creates them or finds them with a looser mode.
func TestFileModes(t *testing.T) {
	wantModes := func(t *testing.T, path string) {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", filepath.Base(p), err)
			}
			if got := fi.Mode().Perm(); got != sqlitestore.FileMode {
				t.Errorf("%s: mode %04o, want %04o", filepath.Base(p), got, sqlitestore.FileMode)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "mesh.db")
	first, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := first.Mesh().PutMailbox(t.Context(), meshserver.Mailbox{ID: "X26ABC1", Password: "secret", Active: true}); err != nil {
		t.Fatal(err)
	}
	t.Run("created", func(t *testing.T) { wantModes(t, path) })

	// Files an older version (or a hand) left readable by others; the
	// first connection keeps -wal and -shm in place.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	second, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	t.Run("existing 0644", func(t *testing.T) { wantModes(t, path) })
}
