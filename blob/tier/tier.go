package tier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gpcm/gpcm/blob"
)

// DefaultThreshold is the largest body kept in the small-object store:
// 32 KiB. Up to there a durable Put costs less CPU as a database row than as
// a file, at equal wall time; above it every byte going through the
// database's one writer, into the WAL and again at checkpoint, makes the
// row slower, and files win. BenchmarkPut measures the crossover; the
// figures are in docs/benchmarks.md ("the tier threshold").
const DefaultThreshold int64 = 32 << 10

var _ blob.Store = (*Store)(nil)

// Store puts objects up to a threshold in one store and larger objects in
// another.
type Store struct {
	small, large blob.Store
	threshold    int64
}

// New returns a Store that keeps objects of at most threshold bytes in
// small and larger ones in large. A threshold below zero stores every
// object in large.
func New(small, large blob.Store, threshold int64) *Store {
	return &Store{small: small, large: large, threshold: threshold}
}

// Threshold reports the largest size kept in the small store.
func (s *Store) Threshold() int64 { return s.threshold }

// Put stores r under key: in the small store when r ends within the
// threshold, else in the large store (the bytes read so far followed by the
// rest of r).
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := blob.ValidKey(key); err != nil {
		return 0, err
	}
	if s.threshold < 0 {
		return s.putLarge(ctx, key, r, -1)
	}
	var head bytes.Buffer
	n, err := io.CopyN(&head, r, s.threshold+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("tier: put %q: %w", key, err)
	}
	if n <= s.threshold {
		return s.small.Put(ctx, key, &head)
	}
	return s.putLarge(ctx, key, io.MultiReader(&head, r), -1)
}

var _ blob.SizedPutter = (*Store)(nil)

// PutSized is Put of a body of size bytes: the size alone picks the store,
// and the large store gets the size too (blob.PutSized).
func (s *Store) PutSized(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	if err := blob.ValidKey(key); err != nil {
		return 0, err
	}
	if s.threshold >= 0 && size <= s.threshold {
		return s.Put(ctx, key, r)
	}
	return s.putLarge(ctx, key, r, size)
}

// putLarge stores r in the large store; size is its length, or -1.
func (s *Store) putLarge(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	n, err := blob.PutSized(ctx, s.large, key, r, size)
	if err != nil {
		return n, err
	}
	// A small copy left from an earlier Put would shadow the new object.
	if _, err := s.small.Size(ctx, key); err == nil {
		if err := s.small.Delete(ctx, key); err != nil {
			return n, fmt.Errorf("tier: put %q: removing the small copy it replaces: %w", key, err)
		}
	} else if !errors.Is(err, blob.ErrNotFound) {
		return n, fmt.Errorf("tier: put %q: %w", key, err)
	}
	return n, nil
}

// Open reads the object from the small store, or else from the large one.
func (s *Store) Open(ctx context.Context, key string, off int64) (io.ReadCloser, error) {
	rc, err := s.small.Open(ctx, key, off)
	if errors.Is(err, blob.ErrNotFound) {
		return s.large.Open(ctx, key, off)
	}
	return rc, err
}

// Size reports the object's length from the small store, or else from the
// large one.
func (s *Store) Size(ctx context.Context, key string) (int64, error) {
	n, err := s.small.Size(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return s.large.Size(ctx, key)
	}
	return n, err
}

// Delete removes key from both stores.
func (s *Store) Delete(ctx context.Context, key string) error {
	return errors.Join(s.small.Delete(ctx, key), s.large.Delete(ctx, key))
}

// DeletePrefix removes every object whose key starts with prefix from both
// stores.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	return errors.Join(s.small.DeletePrefix(ctx, prefix), s.large.DeletePrefix(ctx, prefix))
}
