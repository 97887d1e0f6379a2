package sqlitestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// Download records the token, then reads message, chunk record and inline
// body with one query on the read pool.
func (s *MeshStore) Download(ctx context.Context, p meshserver.DownloadParams) (meshserver.Download, error) {
	if err := s.record(ctx, p.Token); err != nil {
		return meshserver.Download{}, err
	}
	var mr meshsql.MessageRow[int64]
	var dr meshsql.DownloadRow
	err := reads{s.db}.QueryRow(ctx, meshsql.Download, p.ID, p.Chunk).Scan(append(mr.Dest(), dr.Dest()...)...)
	if errors.Is(err, meshsql.ErrNoRows) {
		return meshserver.Download{}, fmt.Errorf("message %s: %w", p.ID, meshserver.ErrNotFound)
	}
	if err != nil {
		return meshserver.Download{}, meshsql.Err("sqlitestore", fmt.Sprintf("download chunk %d of %s", p.Chunk, p.ID), err)
	}
	return dr.Download(mr.Message(times), p.Chunk), nil
}

// GetMessage returns meshserver.ErrNotFound for an unknown id.
func (s *MeshStore) GetMessage(ctx context.Context, id string) (meshserver.Message, error) {
	m, err := scanMessage(reads{s.db}.QueryRow(ctx, meshsql.MessageByID, id))
	if errors.Is(err, meshsql.ErrNoRows) {
		return m, fmt.Errorf("message %s: %w", id, meshserver.ErrNotFound)
	}
	return m, meshsql.Err("sqlitestore", "get message "+id, err)
}

// GetChunk returns a chunk record.
func (s *MeshStore) GetChunk(ctx context.Context, messageID string, n int) (meshserver.Chunk, error) {
	c := meshserver.Chunk{MessageID: messageID, Number: n}
	err := reads{s.db}.QueryRow(ctx, meshsql.ChunkByNumber, messageID, n).Scan(&c.Size, &c.BlobKey)
	if errors.Is(err, meshsql.ErrNoRows) {
		return c, fmt.Errorf("chunk %d of %s: %w", n, messageID, meshserver.ErrNotFound)
	}
	return c, meshsql.Err("sqlitestore", fmt.Sprintf("get chunk %d of %s", n, messageID), err)
}
