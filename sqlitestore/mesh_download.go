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
