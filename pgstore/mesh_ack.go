package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// ackSQL records the token ($8–$13), reads message $5 as it was and, if
// the token was recorded, the message is accepted and its recipient is
// $6, acknowledges it (status $1, code $2, event $3, description $4, at
// $7). One row: token recorded, moved, message found, the message as it
// was.
func ackSQL(token bool) string {
	return `WITH ` + tokenCTE(token, 8) + `,
	upd AS (UPDATE mesh_messages SET status = $1, status_code = $2, status_event = $3, status_description = $4,
			status_at = $7, acked_at = $7
		WHERE id = $5 AND recipient = $6 AND ` + meshsql.InboxCond + ` AND EXISTS (SELECT 1 FROM tok)
		RETURNING 1)
	SELECT (SELECT count(*) FROM tok), (SELECT count(*) FROM upd), m.id IS NOT NULL, ` + orZeroMessageCols + `
	FROM (SELECT 1) one LEFT JOIN mesh_messages m ON m.id = $5`
}

var qAcknowledge, qAcknowledgeToken = ackSQL(false), ackSQL(true)

// ackQuery is Acknowledge's statement and its arguments.
func ackQuery(p meshserver.AcknowledgeParams) (string, []any) {
	q := qAcknowledge
	if p.Token != nil {
		q = qAcknowledgeToken
	}
	args := []any{meshserver.StatusAcknowledged, p.Code, p.Event, p.Description, p.ID, p.Mailbox, p.At.UTC()}
	return q, append(args, tokenArgs(p.Token)...)
}

// Acknowledge records the token and acknowledges the message in one
// statement. Only when the message it read was accepted and its
// recipient's but the update moved nothing (another acknowledgement
// committed in between) does it read the message again.
func (s *MeshStore) Acknowledge(ctx context.Context, p meshserver.AcknowledgeParams) (meshserver.Acknowledged, error) {
	var recorded, moved int64
	var found bool
	var mr meshsql.MessageRow[*time.Time]
	q, args := ackQuery(p)
	if err := s.pool().QueryRow(ctx, q, args...).Scan(append([]any{&recorded, &moved, &found}, mr.Dest()...)...); err != nil {
		return meshserver.Acknowledged{}, meshsql.Err("pgstore", "acknowledge "+p.ID, err)
	}
	before := mr.Message(times)
	switch {
	case recorded == 0:
		return meshserver.Acknowledged{}, s.refused(ctx, *p.Token)
	case !found:
		return meshserver.Acknowledged{}, fmt.Errorf("message %s: %w", p.ID, meshserver.ErrNotFound)
	case moved == 1:
		return meshserver.Acknowledged{Message: meshsql.Acknowledged(before, p), Moved: true}, nil
	case before.Status == meshserver.StatusAccepted && before.Recipient == p.Mailbox:
		now, err := s.GetMessage(ctx, p.ID)
		if errors.Is(err, meshserver.ErrNotFound) {
			err = fmt.Errorf("message %s: %w", p.ID, meshserver.ErrNotFound)
		}
		return meshserver.Acknowledged{Message: now}, err
	}
	return meshserver.Acknowledged{Message: before}, nil
}
