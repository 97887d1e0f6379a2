package sqlitestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// insertMessage inserts m and, when first is not nil, its first chunk.
func insertMessage(ctx context.Context, tx meshTx, m meshserver.Message, first *meshserver.Chunk) error {
	if _, err := tx.Exec(ctx, meshsql.InsertMessage, meshsql.MessageArgs(times, m)...); err != nil {
		if errors.Is(err, meshserver.ErrConflict) {
			return fmt.Errorf("message %s: %w", m.ID, meshserver.ErrConflict)
		}
		return err
	}
	if first == nil {
		return nil
	}
	_, err := tx.Exec(ctx, meshsql.InsertChunk, m.ID, first.Number, first.Size, first.BlobKey)
	return err
}

// CreateMessage inserts m and its first chunk in one transaction.
func (s *MeshStore) CreateMessage(ctx context.Context, m meshserver.Message, first *meshserver.Chunk) error {
	return s.write(ctx, "create message "+m.ID, false, func(tx meshTx) error {
		return insertMessage(ctx, tx, m, first)
	})
}

// Send stores a message, its first chunk, the chunk's body when inline and
// a report, after its token and the recipient check, in one savepoint of
// the group commit: a small send costs one durable commit, shared.
func (s *MeshStore) Send(ctx context.Context, p meshserver.SendParams) error {
	m := p.Message
	if err := meshsql.CheckSend(p, s.InlineMax()); err != nil {
		return fmt.Errorf("sqlitestore: send %s: %w", m.ID, err)
	}
	var refused error
	err := s.write(ctx, "send "+m.ID, false, func(tx meshTx) error {
		refused = nil
		if p.Token != nil {
			if _, err := useToken(ctx, tx, *p.Token); err != nil {
				return err
			}
		}
		if m.Recipient != "" {
			rcpt, err := scanMailbox(tx.QueryRow(ctx, meshsql.MailboxByID, m.Recipient))
			if err != nil && !errors.Is(err, meshsql.ErrNoRows) {
				return err
			}
			if err != nil || !rcpt.Takes(m.WorkflowID) {
				// The token stays recorded; nothing else is stored.
				refused = fmt.Errorf("message %s to %s: %w", m.ID, m.Recipient, meshserver.ErrRecipient)
				return nil
			}
		}
		if err := insertMessage(ctx, tx, m, &p.Chunk); err != nil {
			return err
		}
		if p.Body != nil {
			if _, err := tx.Exec(ctx, qPutBlob, p.Chunk.BlobKey, p.Body); err != nil {
				return err
			}
		}
		if p.Report != nil {
			return insertMessage(ctx, tx, *p.Report, nil)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return refused
}

// UploadChunk records a chunk and finalises the message when all are
// present.
func (s *MeshStore) UploadChunk(ctx context.Context, p meshserver.UploadChunkParams) (meshserver.UploadChunkResult, error) {
	var res meshserver.UploadChunkResult
	err := s.write(ctx, fmt.Sprintf("upload chunk %d of %s", p.Chunk.Number, p.Chunk.MessageID), false, func(tx meshTx) error {
		var err error
		// The one writer runs this transaction alone: reading the
		// message is enough to hold it.
		res, err = meshsql.UploadChunk(ctx, tx, times, meshsql.MessageByID, p)
		return err
	})
	return res, err
}
