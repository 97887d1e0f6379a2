package sqlitestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

var _ meshserver.InlineStore = (*MeshStore)(nil)

// CreateMessageInline inserts m, its first chunk and the chunk's body.
func (s *MeshStore) CreateMessageInline(ctx context.Context, m meshserver.Message, first meshserver.Chunk, body []byte) error {
	if err := meshsql.CheckSend(meshserver.SendParams{Chunk: first, Body: body}, s.InlineMax()); err != nil {
		return fmt.Errorf("sqlitestore: create message %s: %w", m.ID, err)
	}
	if body == nil {
		body = []byte{}
	}
	return s.write(ctx, "create message "+m.ID, false, func(tx meshTx) error {
		if err := insertMessage(ctx, tx, m, &first); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, qPutBlob, first.BlobKey, body)
		return err
	})
}

// AddChunk records a chunk and finalises the message when all are present.
func (s *MeshStore) AddChunk(ctx context.Context, p meshserver.AddChunkParams) (meshserver.Message, error) {
	m, err := s.GetMessage(ctx, p.Chunk.MessageID)
	if err != nil {
		return m, err
	}
	res, err := s.UploadChunk(ctx, meshserver.UploadChunkParams{Sender: m.Sender, Chunk: p.Chunk, Now: p.Now, ExpiresAt: p.ExpiresAt})
	return res.Message, err
}

// ListInbox lists accepted messages for a mailbox in id order.
func (s *MeshStore) ListInbox(ctx context.Context, p meshserver.ListInboxParams) ([]meshserver.Message, error) {
	q := `SELECT ` + meshsql.MessageColumns + ` FROM mesh_messages WHERE recipient = $1 AND ` + meshsql.InboxCond + ` AND id > $2`
	fq, fargs := meshsql.Filter(p.Filter, 3)
	args := append([]any{p.Mailbox, p.After}, fargs...)
	q += fq + fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args)+1)
	return s.queryMessages(ctx, "list inbox", q, append(args, max(p.Limit, 1))...)
}

// FindByLocalID lists the sender's messages with a local id.
func (s *MeshStore) FindByLocalID(ctx context.Context, sender, localID string) ([]meshserver.Message, error) {
	t, err := s.Track(ctx, meshserver.TrackParams{Sender: sender, LocalID: localID})
	var out []meshserver.Message
	for _, m := range t {
		out = append(out, m.Message)
	}
	return out, err
}

// UpdateStatus moves a message between statuses.
func (s *MeshStore) UpdateStatus(ctx context.Context, p meshserver.UpdateStatusParams) (meshserver.Message, error) {
	var m meshserver.Message
	err := s.write(ctx, "update status of "+p.ID, false, func(tx meshTx) error {
		var err error
		m, err = scanMessage(tx.QueryRow(ctx, meshsql.MessageByID, p.ID))
		if errors.Is(err, meshsql.ErrNoRows) {
			return fmt.Errorf("message %s: %w", p.ID, meshserver.ErrNotFound)
		}
		if err != nil {
			return err
		}
		ok := false
		for _, f := range p.From {
			ok = ok || f == m.Status
		}
		if !ok {
			return fmt.Errorf("message %s is %s: %w", p.ID, m.Status, meshserver.ErrConflict)
		}
		m.Status, m.StatusCode, m.StatusEvent, m.StatusDescription, m.StatusAt = p.To, p.Code, p.Event, p.Description, p.At
		if p.To == meshserver.StatusAcknowledged {
			m.AckedAt = p.At
		}
		_, err = tx.Exec(ctx, `UPDATE mesh_messages SET status = $1, status_code = $2, status_event = $3,
			status_description = $4, status_at = $5, acked_at = $6 WHERE id = $7`,
			m.Status, m.StatusCode, m.StatusEvent, m.StatusDescription, toMicros(m.StatusAt), toMicros(m.AckedAt), m.ID)
		return err
	})
	return m, err
}

// UseNonce records a token; meshserver.ErrReplay if seen before.
func (s *MeshStore) UseNonce(ctx context.Context, p meshserver.UseNonceParams) error {
	return s.write(ctx, "use nonce", true, func(tx meshTx) error {
		n, err := tx.Exec(ctx, meshsql.InsertNonce, p.Mailbox, p.Nonce, p.Count, toMicros(p.At))
		if err == nil && n == 0 {
			return meshserver.ErrReplay
		}
		return err
	})
}
