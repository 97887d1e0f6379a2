package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/gpcm/gpcm/blob"
)

// MaxBlobSize bounds one object in the database's blob store: Put reads the
// whole object into memory. It is meant for small objects behind a
// tier.Store; larger bodies belong in files or S3.
const MaxBlobSize = 64 << 20

const (
	qPutBlob = `INSERT INTO blobs (key, data) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET data = excluded.data`
	qDeleteBlob = `DELETE FROM blobs WHERE key = ?`
)

// BlobStore is a blob.Store whose objects are rows of the database (table
// blobs). A Put goes through the same group-commit writer as the MESH
// store's writes, so concurrent Puts share one transaction and one fsync,
// and returns only once its commit is durable (synchronous FULL).
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
			return int64(len(data)), fmt.Errorf("sqlitestore: put blob %q: %w", key, err)
		}
		if len(data) > MaxBlobSize {
			return int64(len(data)), fmt.Errorf("sqlitestore: put blob %q: larger than %d bytes (keep large objects in files or S3, see package tier)", key, MaxBlobSize)
		}
	}
	err := s.db.batch.do(ctx, func(tx *sql.Tx) error {
		_, err := s.db.txExec(ctx, tx, qPutBlob, key, data)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: put blob %q: %w", key, err)
	}
	return int64(len(data)), nil
}

// Open returns the object's bytes from offset off.
func (s *BlobStore) Open(ctx context.Context, key string, off int64) (io.ReadCloser, error) {
	if err := blob.ValidKey(key); err != nil {
		return nil, err
	}
	var data []byte
	err := s.db.queryRow(ctx, `SELECT data FROM blobs WHERE key = ?`, key).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", blob.ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open blob %q: %w", key, err)
	}
	if off < 0 {
		return nil, fmt.Errorf("sqlitestore: open blob %q at %d: negative offset", key, off)
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
	err := s.db.queryRow(ctx, `SELECT length(data) FROM blobs WHERE key = ?`, key).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: %q", blob.ErrNotFound, key)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: size of blob %q: %w", key, err)
	}
	return n, nil
}

// Delete removes the object; a missing key is not an error. Like Put it
// shares a group commit and is durable when it returns.
func (s *BlobStore) Delete(ctx context.Context, key string) error {
	if err := blob.ValidKey(key); err != nil {
		return err
	}
	err := s.db.batch.do(ctx, func(tx *sql.Tx) error {
		_, err := s.db.txExec(ctx, tx, qDeleteBlob, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: delete blob %q: %w", key, err)
	}
	return nil
}

// DeletePrefix removes every object whose key starts with prefix.
func (s *BlobStore) DeletePrefix(ctx context.Context, prefix string) error {
	lo, hi := prefixRange(prefix)
	err := s.db.batch.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE key >= ? AND key < ?`, lo, hi)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: delete blobs under %q: %w", prefix, err)
	}
	return nil
}

// prefixRange returns the key range [lo, hi) holding the keys that start
// with prefix: valid keys use only characters below '{', so prefix+"{" is
// above every such key.
func prefixRange(prefix string) (lo, hi string) { return prefix, prefix + "{" }
