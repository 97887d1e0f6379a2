// Package blobtest is the contract suite every blob.Store implementation
// runs from its own tests: Run(t, open).
package blobtest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/blob"
)

// Run exercises a blob.Store; open returns a fresh, empty store per call.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	t.Run("put open round trip", func(t *testing.T) {
		s := open(t)
		body := bytes.Repeat([]byte("0123456789"), 100_000)
		n, err := s.Put(t.Context(), "msg/A/1", bytes.NewReader(body))
		if err != nil || n != int64(len(body)) {
			t.Fatalf("Put: got %d, %v; want %d, nil", n, err, len(body))
		}
		rc, err := s.Open(t.Context(), "msg/A/1", 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("read back %d bytes, err %v; want %d bytes equal", len(got), err, len(body))
		}
		size, err := s.Size(t.Context(), "msg/A/1")
		if err != nil || size != int64(len(body)) {
			t.Fatalf("Size: got %d, %v; want %d", size, err, len(body))
		}
	})
	t.Run("open at offset", func(t *testing.T) {
		s := open(t)
		if _, err := s.Put(t.Context(), "k", strings.NewReader("hello world")); err != nil {
			t.Fatal(err)
		}
		rc, err := s.Open(t.Context(), "k", 6)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		got, _ := io.ReadAll(rc)
		if string(got) != "world" {
			t.Fatalf("got %q, want %q", got, "world")
		}
	})
	t.Run("overwrite replaces", func(t *testing.T) {
		s := open(t)
		for _, v := range []string{"first version", "second"} {
			if _, err := s.Put(t.Context(), "k", strings.NewReader(v)); err != nil {
				t.Fatal(err)
			}
		}
		rc, err := s.Open(t.Context(), "k", 0)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		got, _ := io.ReadAll(rc)
		if string(got) != "second" {
			t.Fatalf("got %q, want %q", got, "second")
		}
	})
	t.Run("missing is not found", func(t *testing.T) {
		s := open(t)
		if _, err := s.Open(t.Context(), "nope", 0); !errors.Is(err, blob.ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open missing: got %v, want ErrNotFound", err)
		}
		if _, err := s.Size(t.Context(), "nope"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Size missing: got %v, want ErrNotFound", err)
		}
		if err := s.Delete(t.Context(), "nope"); err != nil {
			t.Fatalf("Delete missing: got %v, want nil", err)
		}
	})
	t.Run("failed put leaves nothing", func(t *testing.T) {
		s := open(t)
		_, err := s.Put(t.Context(), "k", io.MultiReader(strings.NewReader("part"), errReader{}))
		if err == nil {
			t.Fatal("Put with failing reader: got nil error")
		}
		if _, err := s.Open(t.Context(), "k", 0); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("after failed Put: got %v, want ErrNotFound", err)
		}
	})
	t.Run("delete and delete prefix", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"msg/A/1", "msg/A/2", "msg/B/1"} {
			if _, err := s.Put(t.Context(), k, strings.NewReader(k)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Delete(t.Context(), "msg/B/1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeletePrefix(t.Context(), "msg/A/"); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"msg/A/1", "msg/A/2", "msg/B/1"} {
			if _, err := s.Size(t.Context(), k); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("%s after delete: got %v, want ErrNotFound", k, err)
			}
		}
	})
	t.Run("invalid keys rejected", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"", "../x", "a/../b", "a//b", "a b", "/abs"} {
			if _, err := s.Put(t.Context(), k, strings.NewReader("x")); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Put(%q): got %v, want ErrInvalidKey", k, err)
			}
		}
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }
