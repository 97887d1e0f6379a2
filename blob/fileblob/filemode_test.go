package fileblob_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/blob/fileblob"
)

// Issue 23 §6: payload directories are 0700 and payload files 0600, also
// when Open finds a store left readable by others.
func TestFileModes(t *testing.T) {
	wantModes := func(t *testing.T, root string) {
		t.Helper()
		n := 0
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			want := fileblob.FileMode
			if d.IsDir() {
				want = fileblob.DirMode
			} else {
				n++
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("%s: mode %04o, want %04o", p, got, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("no payload file under the root")
		}
	}
	t.Run("created", func(t *testing.T) {
		root := filepath.Join(t.TempDir(), "blobs")
		s, err := fileblob.Open(root)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(t.Context(), "mesh/2026120418/one", strings.NewReader("payload")); err != nil {
			t.Fatal(err)
		}
		wantModes(t, root)
	})
	t.Run("existing open to others", func(t *testing.T) {
		root := filepath.Join(t.TempDir(), "blobs")
		sub := filepath.Join(root, "mesh", "2026120418")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "old"), []byte("payload"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{root, filepath.Join(root, "mesh"), sub} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := fileblob.Open(root); err != nil {
			t.Fatal(err)
		}
		wantModes(t, root)
	})
}
