package sqlitestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// qAcknowledge moves message $6 from accepted to status $1 (code $2,
// event $3, description $4) at $5.
const qAcknowledge = `UPDATE mesh_messages SET status = $1, status_code = $2, status_event = $3,
	status_description = $4, status_at = $5, acked_at = $5 WHERE id = $6 AND ` + meshsql.InboxCond

// Acknowledge records the token, reads the message and acknowledges it, in
// one savepoint of the group commit: the one writer runs it alone, so what
// it read is what it changes.
func (s *MeshStore) Acknowledge(ctx context.Context, p meshserver.AcknowledgeParams) (meshserver.Acknowledged, error) {
	var a meshserver.Acknowledged
	var found bool
	err := s.write(ctx, "acknowledge "+p.ID, false, func(tx meshTx) error {
		a, found = meshserver.Acknowledged{}, false
		if p.Token != nil {
			if _, err := useToken(ctx, tx, *p.Token); err != nil {
				return err
			}
		}
		m, err := scanMessage(tx.QueryRow(ctx, meshsql.MessageByID, p.ID))
		if errors.Is(err, meshsql.ErrNoRows) {
			return nil // the token stays recorded
		}
		if err != nil {
			return err
		}
		found, a.Message = true, m
		if m.Recipient != p.Mailbox || m.Status != meshserver.StatusAccepted {
			return nil
		}
		at := p.At.UTC()
		if _, err := tx.Exec(ctx, qAcknowledge, meshserver.StatusAcknowledged, p.Code, p.Event, p.Description, toMicros(at), p.ID); err != nil {
			return err
		}
		a.Moved = true
		a.Message = meshsql.Acknowledged(m, p)
		return nil
	})
	switch {
	case err != nil:
		return meshserver.Acknowledged{}, err
	case !found:
		return a, fmt.Errorf("message %s: %w", p.ID, meshserver.ErrNotFound)
	}
	return a, nil
}
