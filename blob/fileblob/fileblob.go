package fileblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gpcm/gpcm/blob"
)

var _ blob.Store = (*Store)(nil)

// Store keeps objects as files under a root directory. Temporary files live
// in root/.tmp and are removed by Open when left over from a crash.
type Store struct {
	root string
	tmp  string
}

// Open prepares root (creating it if needed) and returns a Store on it.
func Open(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("fileblob: root %q: %w", root, err)
	}
	tmp := filepath.Join(abs, ".tmp")
	if err := os.MkdirAll(tmp, DirMode); err != nil {
		return nil, fmt.Errorf("fileblob: create %q: %w", tmp, err)
	}
	if err := restrict(abs); err != nil {
		return nil, fmt.Errorf("fileblob: %w", err)
	}
	// Leftovers from a crash were never visible; drop them.
	if ents, err := os.ReadDir(tmp); err == nil {
		for _, e := range ents {
			_ = os.Remove(filepath.Join(tmp, e.Name()))
		}
	}
	return &Store{root: abs, tmp: tmp}, nil
}

// Modes of the store's directories and files: payloads are patient data,
// readable by their owner only.
const (
	DirMode  fs.FileMode = 0o700
	FileMode fs.FileMode = 0o600
)

// restrict gives root DirMode. If root was open to others (a store made by
// hand or by an older version), everything under it gets DirMode or
// FileMode too; otherwise nothing under it needs checking, since the
// store only ever creates directories with DirMode and files with
// os.CreateTemp (FileMode).
func restrict(root string) error {
	fi, err := os.Stat(root)
	if err != nil {
		return err
	}
	if fi.Mode().Perm() == DirMode {
		return nil
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		want := FileMode
		if d.IsDir() {
			want = DirMode
		} else if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm() != want {
			return os.Chmod(p, want)
		}
		return nil
	})
}

func (s *Store) path(key string) (string, error) {
	if err := blob.ValidKey(key); err != nil {
		return "", err
	}
	if strings.HasPrefix(key, ".tmp") {
		return "", fmt.Errorf("%w: reserved prefix in %q", blob.ErrInvalidKey, key)
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// Put writes r to a temporary file, fsyncs it, renames it to key and fsyncs
// the directory.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (n int64, err error) {
	p, err := s.path(key)
	if err != nil {
		return 0, err
	}
	dir := filepath.Dir(p)
	if err := mkdirDurable(dir); err != nil {
		return 0, fmt.Errorf("fileblob: put %q: %w", key, err)
	}
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return 0, fmt.Errorf("fileblob: put %q: %w", key, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	n, err = io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return n, fmt.Errorf("fileblob: put %q: %w", key, err)
	}
	if err = f.Sync(); err != nil {
		return n, fmt.Errorf("fileblob: put %q: sync: %w", key, err)
	}
	if err = f.Close(); err != nil {
		return n, fmt.Errorf("fileblob: put %q: %w", key, err)
	}
	if err = os.Rename(f.Name(), p); err != nil {
		return n, fmt.Errorf("fileblob: put %q: %w", key, err)
	}
	if err = syncDir(dir); err != nil {
		return n, fmt.Errorf("fileblob: put %q: sync dir: %w", key, err)
	}
	return n, nil
}

// mkdirDurable creates dir and missing parents, fsyncing the parent of
// each new directory so that the new entries survive a power cut.
func mkdirDurable(dir string) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirDurable(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, DirMode); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open opens the object at key and seeks to off.
func (s *Store) Open(_ context.Context, key string, off int64) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q", blob.ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("fileblob: open %q: %w", key, err)
	}
	if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("fileblob: open %q at %d: %w", key, off, err)
		}
	}
	return f, nil
}

// Size reports the object's length.
func (s *Store) Size(_ context.Context, key string) (int64, error) {
	p, err := s.path(key)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%w: %q", blob.ErrNotFound, key)
	}
	if err != nil {
		return 0, fmt.Errorf("fileblob: stat %q: %w", key, err)
	}
	return fi.Size(), nil
}

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(_ context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fileblob: delete %q: %w", key, err)
	}
	return nil
}

// DeletePrefix removes every object whose key starts with prefix.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	return filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if p == s.tmp {
				return filepath.SkipDir
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(filepath.ToSlash(rel), prefix) {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("fileblob: delete %q: %w", rel, err)
			}
		}
		return nil
	})
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
