package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// ErrNotFound is returned (wrapped) when a key holds no object. It matches
// fs.ErrNotExist with errors.Is.
var ErrNotFound = fmt.Errorf("blob: object not found: %w", fs.ErrNotExist)

// ErrInvalidKey is returned when a key is empty or uses characters outside
// the portable set [A-Za-z0-9._-/], or a path element is "." or "..".
var ErrInvalidKey = errors.New("blob: invalid key")

// Store holds payload objects. Implementations are safe for concurrent use.
type Store interface {
	// Put stores r under key, replacing any object there, and returns the
	// number of bytes written. The object is visible only once Put returns
	// nil, and is then durable.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns a reader for the object under key from byte offset off.
	Open(ctx context.Context, key string, off int64) (io.ReadCloser, error)
	// Size reports the object's length in bytes.
	Size(ctx context.Context, key string) (int64, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every object whose key starts with prefix.
	DeletePrefix(ctx context.Context, prefix string) error
}

// SizedPutter is an optional capability of a Store: PutSized stores a body
// whose length the caller knows, which lets a store send it in one request
// without holding parts of it in memory. A body that is not size bytes
// long fails the call and leaves nothing stored.
type SizedPutter interface {
	PutSized(ctx context.Context, key string, r io.Reader, size int64) (int64, error)
}

// PutSized stores r, of size bytes, under key: with s.PutSized when s is a
// SizedPutter and size is known (not negative), else with s.Put.
func PutSized(ctx context.Context, s Store, key string, r io.Reader, size int64) (int64, error) {
	if sp, ok := s.(SizedPutter); ok && size >= 0 {
		return sp.PutSized(ctx, key, r, size)
	}
	return s.Put(ctx, key, r)
}

// ValidKey reports whether key is acceptable to every Store: non-empty, at
// most 512 bytes, characters from [A-Za-z0-9._-/], no empty, "." or ".."
// path elements.
func ValidKey(key string) error {
	if key == "" || len(key) > 512 {
		return fmt.Errorf("%w: length %d", ErrInvalidKey, len(key))
	}
	for _, c := range key {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-', c == '/':
		default:
			return fmt.Errorf("%w: character %q in %q", ErrInvalidKey, c, key)
		}
	}
	for _, el := range strings.Split(key, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("%w: path element %q in %q", ErrInvalidKey, el, key)
		}
	}
	return nil
}
