package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/gpcm/gpcm/blob"
)

// MaxBlobSize bounds one object in the database's blob store: Put reads the
// whole object into memory. It is meant for small objects behind a
// tier.Store; larger bodies belong in S3 or files.
const MaxBlobSize = 64 << 20

const qPutBlob = `INSERT INTO blobs (key, data) VALUES ($1, $2)
	ON CONFLICT (key) DO UPDATE SET data = excluded.data`

// BlobStore is a blob.Store whose objects are rows of the database (table
// blobs, bytea). Put commits before it returns, with the server's
// synchronous_commit (by default on: flushed to the WAL on disk), so a
// stored object is as durable as the message row that will point to it.
type BlobStore struct{ db *DB }

var _ blob.Store = (*BlobStore)(nil)

// Blobs returns the blob store on db.
func (db *DB) Blobs() *BlobStore { return &BlobStore{db: db} }

// Put stores the whole of r under key, replacing any object there.
func (s *BlobStore) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := blob.ValidKey(key); err != nil {
		return 0, err
	}
	var data []byte
	if b, ok := r.(*bytes.Buffer); ok && b.Len() <= MaxBlobSize {
		data = b.Bytes()
	} else {
		var err error
		data, err = io.ReadAll(io.LimitReader(r, MaxBlobSize+1))
		if err != nil {
			return int64(len(data)), fmt.Errorf("pgstore: put blob %q: %w", key, err)
		}
		if len(data) > MaxBlobSize {
			return int64(len(data)), fmt.Errorf("pgstore: put blob %q: larger than %d bytes (keep large objects in S3 or files, see package tier)", key, MaxBlobSize)
		}
	}
	if _, err := s.db.pool.Exec(ctx, qPutBlob, key, data); err != nil {
		return 0, fmt.Errorf("pgstore: put blob %q: %w", key, err)
	}
	return int64(len(data)), nil
}

// Open returns the object's bytes from offset off.
func (s *BlobStore) Open(ctx context.Context, key string, off int64) (io.ReadCloser, error) {
	if err := blob.ValidKey(key); err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("pgstore: open blob %q at %d: negative offset", key, off)
	}
	var data []byte
	err := s.db.pool.QueryRow(ctx, `SELECT data FROM blobs WHERE key = $1`, key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", blob.ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: open blob %q: %w", key, err)
	}
	off = min(off, int64(len(data)))
	return io.NopCloser(bytes.NewReader(data[off:])), nil
}

// Size reports the object's length.
func (s *BlobStore) Size(ctx context.Context, key string) (int64, error) {
	if err := blob.ValidKey(key); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.pool.QueryRow(ctx, `SELECT octet_length(data) FROM blobs WHERE key = $1`, key).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("%w: %q", blob.ErrNotFound, key)
	}
	if err != nil {
		return 0, fmt.Errorf("pgstore: size of blob %q: %w", key, err)
	}
	return n, nil
}

// Delete removes the object; a missing key is not an error.
func (s *BlobStore) Delete(ctx context.Context, key string) error {
	if err := blob.ValidKey(key); err != nil {
		return err
	}
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM blobs WHERE key = $1`, key); err != nil {
		return fmt.Errorf("pgstore: delete blob %q: %w", key, err)
	}
	return nil
}

// DeletePrefix removes every object whose key starts with prefix. Valid
// keys use only characters below '{', so [prefix, prefix+"{") is exactly
// the keys that start with prefix.
func (s *BlobStore) DeletePrefix(ctx context.Context, prefix string) error {
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM blobs WHERE key >= $1 AND key < $2`, prefix, prefix+"{"); err != nil {
		return fmt.Errorf("pgstore: delete blobs under %q: %w", prefix, err)
	}
	return nil
}
