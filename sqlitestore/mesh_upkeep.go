package sqlitestore

import (
	"context"
	"time"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// qExpireDue lists the messages due to expire at $1, at most $2.
const qExpireDue = `SELECT ` + meshsql.MessageColumns + ` FROM mesh_messages
	WHERE ` + meshsql.WaitingCond + ` AND expires_at > 0 AND expires_at <= $1 ORDER BY expires_at LIMIT $2`

// deleteWhere deletes the messages a WHERE clause selects (in one
// transaction) and returns their ids and chunk blob keys.
func (s *MeshStore) deleteWhere(ctx context.Context, what, where string, args ...any) (meshserver.Deleted, error) {
	var d meshserver.Deleted
	err := s.write(ctx, what, false, func(tx meshTx) error {
		d = meshserver.Deleted{}
		rows, err := tx.Query(ctx, `SELECT id FROM mesh_messages `+where, args...)
		if err != nil {
			return err
		}
		if d.IDs, err = meshsql.Collect(rows, meshsql.ScanString); err != nil {
			return err
		}
		for _, id := range d.IDs {
			rows, err := tx.Query(ctx, `SELECT blob_key FROM mesh_chunks WHERE message_id = $1 ORDER BY n`, id)
			if err != nil {
				return err
			}
			keys, err := meshsql.Collect(rows, meshsql.ScanString)
			if err != nil {
				return err
			}
			d.BlobKeys = append(d.BlobKeys, keys...)
			if _, err := tx.Exec(ctx, `DELETE FROM mesh_messages WHERE id = $1`, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return meshserver.Deleted{}, err
	}
	return d, nil
}

// DeleteMessages removes a mailbox's messages, or all when mailbox is "".
func (s *MeshStore) DeleteMessages(ctx context.Context, mailbox string) (meshserver.Deleted, error) {
	return s.deleteWhere(ctx, "delete messages", `WHERE $1 = '' OR sender = $1 OR recipient = $1`, mailbox)
}

// PurgeMessages deletes finished messages and old reports. The two
// conditions each have a partial index (mesh_0002), which each side names
// and whose condition it repeats literally, and no order is asked for, so
// a pass reads only the rows it deletes however full the store is; the
// union removes a report listed twice.
func (s *MeshStore) PurgeMessages(ctx context.Context, before time.Time, limit int) (meshserver.Deleted, error) {
	if limit <= 0 {
		limit = 500
	}
	return s.deleteWhere(ctx, "purge messages", `WHERE id IN (
		SELECT id FROM (SELECT id FROM mesh_messages INDEXED BY mesh_messages_finished
			WHERE `+meshsql.FinishedCond+` AND status_at < $1 LIMIT $2)
		UNION
		SELECT id FROM (SELECT id FROM mesh_messages INDEXED BY mesh_messages_reports
			WHERE `+meshsql.ReportCond+` AND created_at < $1 LIMIT $2)
		LIMIT $2)`,
		toMicros(before), limit)
}
