package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// downloadSQL records the token ($3–$8) and reads message $1, its chunk
// $2 and the chunk's body when it is a row of the blobs table. It always
// returns one row: whether it recorded the token, whether the message
// exists, the message (zero values when not), the chunk's columns.
func downloadSQL(token bool) string {
	return `WITH ` + tokenCTE(token, 3) + `
	SELECT ` + recordedNoWait + `, m.id IS NOT NULL, ` + orZeroMessageCols + `, ` + meshsql.DownloadColumns + `
	FROM (SELECT 1) one
	LEFT JOIN mesh_messages m ON m.id = $1 ` + meshsql.DownloadJoins
}

var qDownload, qDownloadToken = downloadSQL(false), downloadSQL(true)

// downloadQuery is Download's statement and its arguments.
func downloadQuery(p meshserver.DownloadParams) (string, []any) {
	q := qDownload
	if p.Token != nil {
		q = qDownloadToken
	}
	return q, append([]any{p.ID, p.Chunk}, tokenArgs(p.Token)...)
}

// Download records the token and reads message, chunk record and inline
// body, in one statement.
func (s *MeshStore) Download(ctx context.Context, p meshserver.DownloadParams) (meshserver.Download, error) {
	var recorded int64
	var found bool
	var mr meshsql.MessageRow[*time.Time]
	var dr meshsql.DownloadRow
	q, args := downloadQuery(p)
	dest := append(append([]any{&recorded, &found}, mr.Dest()...), dr.Dest()...)
	if err := s.pool().QueryRow(ctx, q, args...).Scan(dest...); err != nil {
		return meshserver.Download{}, meshsql.Err("pgstore", fmt.Sprintf("download chunk %d of %s", p.Chunk, p.ID), err)
	}
	switch {
	case recorded == 0:
		return meshserver.Download{}, s.refused(ctx, *p.Token)
	case !found:
		return meshserver.Download{}, fmt.Errorf("message %s: %w", p.ID, meshserver.ErrNotFound)
	}
	return dr.Download(mr.Message(times), p.Chunk), nil
}
