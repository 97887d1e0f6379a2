package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// qExpireDue claims the messages due to expire at $1, at most $2, with
// FOR UPDATE SKIP LOCKED: several processes expiring at once each take
// different messages, and a message being acknowledged or completed right
// now is left for the next round.
const qExpireDue = `SELECT ` + meshsql.MessageColumns + ` FROM mesh_messages
	WHERE ` + meshsql.WaitingCond + ` AND expires_at IS NOT NULL AND expires_at <= $1
	ORDER BY expires_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`

// deleteWhere deletes, in one transaction, the messages that a locking
// SELECT of ids (which must end in FOR UPDATE [SKIP LOCKED]) returns, and
// reports their ids in id order and their chunks' blob keys.
func (s *MeshStore) deleteWhere(ctx context.Context, what, selectIDs string, args ...any) (meshserver.Deleted, error) {
	var d meshserver.Deleted
	err := s.tx(ctx, what, func(tx meshTx) error {
		rows, err := tx.Query(ctx, selectIDs, args...)
		if err != nil {
			return err
		}
		if d.IDs, err = meshsql.Collect(rows, meshsql.ScanString); err != nil || len(d.IDs) == 0 {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT blob_key FROM mesh_chunks WHERE message_id = ANY($1) ORDER BY message_id, n`, d.IDs)
		if err != nil {
			return err
		}
		if d.BlobKeys, err = meshsql.Collect(rows, meshsql.ScanString); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM mesh_messages WHERE id = ANY($1)`, d.IDs)
		return err
	})
	if err != nil {
		return meshserver.Deleted{}, err
	}
	return d, nil
}

// DeleteMessages removes a mailbox's messages, or all when mailbox is "".
// It waits for messages other transactions are changing, so that none is
// left behind.
func (s *MeshStore) DeleteMessages(ctx context.Context, mailbox string) (meshserver.Deleted, error) {
	return s.deleteWhere(ctx, "delete messages", `SELECT id FROM mesh_messages
		WHERE $1 = '' OR sender = $1 OR recipient = $1 ORDER BY id FOR UPDATE`, mailbox)
}

// PurgeMessages deletes finished messages and old reports. Rows another
// process is purging (or changing) are skipped. The two conditions each
// have a partial index (mesh_0002), repeated literally here, and no order
// is asked for, so a pass reads only the rows it deletes however full the
// store is. The query is planned afresh with its values each time (an
// unnamed statement): a cached generic plan cannot tell how few rows the
// time bound selects and scans the whole table.
func (s *MeshStore) PurgeMessages(ctx context.Context, before time.Time, limit int) (meshserver.Deleted, error) {
	if limit <= 0 {
		limit = 500
	}
	return s.deleteWhere(ctx, "purge messages", `SELECT id FROM mesh_messages
		WHERE (`+meshsql.FinishedCond+` AND status_at < $1) OR (`+meshsql.ReportCond+` AND created_at < $1)
		LIMIT $2 FOR UPDATE SKIP LOCKED`, pgx.QueryExecModeExec, before.UTC(), limit)
}
