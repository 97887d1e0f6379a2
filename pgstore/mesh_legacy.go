package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

var (
	_ meshserver.InlineStore        = (*MeshStore)(nil)
	_ meshserver.CheckedInlineStore = (*MeshStore)(nil)
	_ meshserver.ChunkReader        = (*MeshStore)(nil)
	_ meshserver.InboxPager         = (*MeshStore)(nil)
	_ meshserver.TokenStore         = (*MeshStore)(nil)
	_ meshserver.TokenOpStore       = (*MeshStore)(nil)
)

func legacyToken(t meshserver.PendingToken) *meshserver.Token {
	return &meshserver.Token{Nonce: t.Nonce, Count: t.Count, At: t.At, Seen: t.Mailbox}
}

func legacyRefused(err error) error {
	if errors.Is(err, meshserver.ErrReplay) || errors.Is(err, meshserver.ErrMailboxChanged) {
		return fmt.Errorf("%v: %w", err, meshserver.ErrTokenRefused)
	}
	return err
}

func (s *MeshStore) CreateMessageInline(ctx context.Context, m meshserver.Message, first meshserver.Chunk, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	if err := meshsql.CheckSend(meshserver.SendParams{Chunk: first, Body: body}, s.InlineMax()); err != nil {
		return err
	}
	return s.tx(ctx, "create message "+m.ID, func(tx meshTx) error {
		if _, err := tx.Exec(ctx, qCreateMessage, append(meshsql.MessageArgs(times, m), first.Number, first.Size, first.BlobKey)...); err != nil {
			return messageConflict(m.ID, err)
		}
		_, err := tx.Exec(ctx, qPutBlob, first.BlobKey, body)
		return err
	})
}

func (s *MeshStore) CreateMessageInlineChecked(ctx context.Context, m meshserver.Message, first meshserver.Chunk, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	return s.Send(ctx, meshserver.SendParams{Message: m, Chunk: first, Body: body})
}

func (s *MeshStore) CreateMessageInlineCheckedToken(ctx context.Context, tok meshserver.PendingToken, m meshserver.Message, first meshserver.Chunk, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	return legacyRefused(s.Send(ctx, meshserver.SendParams{Token: legacyToken(tok), Message: m, Chunk: first, Body: body}))
}

func (s *MeshStore) ReadChunk(ctx context.Context, messageID string, n int) (meshserver.ChunkRead, error) {
	return s.Download(ctx, meshserver.DownloadParams{ID: messageID, Chunk: n})
}

func (s *MeshStore) ReadChunkToken(ctx context.Context, tok meshserver.PendingToken, messageID string, n int) (meshserver.ChunkRead, error) {
	d, err := s.Download(ctx, meshserver.DownloadParams{Token: legacyToken(tok), ID: messageID, Chunk: n})
	return d, legacyRefused(err)
}

func (s *MeshStore) AcknowledgeToken(ctx context.Context, tok meshserver.PendingToken, p meshserver.UpdateStatusParams) (meshserver.Message, bool, error) {
	a, err := s.Acknowledge(ctx, meshserver.AcknowledgeParams{Token: legacyToken(tok), Mailbox: tok.Mailbox.ID, ID: p.ID,
		Code: p.Code, Event: p.Event, Description: p.Description, At: p.At})
	return a.Message, a.Moved, legacyRefused(err)
}

func (s *MeshStore) ListInboxIDs(ctx context.Context, p meshserver.ListInboxParams, count bool) ([]string, int, error) {
	page, err := s.InboxPage(ctx, meshserver.InboxPageParams{Mailbox: p.Mailbox, After: p.After, Limit: max(p.Limit, 1), Filter: p.Filter, Count: count})
	return page.IDs, page.Count, err
}

func (s *MeshStore) ListInboxIDsToken(ctx context.Context, tok meshserver.PendingToken, p meshserver.ListInboxParams, count bool) ([]string, int, error) {
	page, err := s.InboxPage(ctx, meshserver.InboxPageParams{Token: legacyToken(tok), Mailbox: p.Mailbox, After: p.After, Limit: max(p.Limit, 1), Filter: p.Filter, Count: count})
	return page.IDs, page.Count, legacyRefused(err)
}

func (s *MeshStore) UseToken(ctx context.Context, p meshserver.UseNonceParams, password string) (meshserver.Mailbox, error) {
	tb := s.db.tokenBatcher()
	if tb == nil {
		return meshserver.Mailbox{}, errClosed
	}
	res, err := tb.use(ctx, tokenReq{mailbox: p.Mailbox, nonce: p.Nonce, count: p.Count, at: p.At.UTC(), password: password})
	mb := res.mb
	switch {
	case err != nil:
		return meshserver.Mailbox{}, err
	case !res.found:
		return mb, fmt.Errorf("mailbox %s: %w", p.Mailbox, meshserver.ErrNotFound)
	case res.inserted:
		return mb, nil
	case mb.Active && mb.Password == password:
		return mb, meshserver.ErrReplay
	}
	return mb, fmt.Errorf("mailbox %s changed: %w", p.Mailbox, meshserver.ErrConflict)
}

func (s *MeshStore) UseNonce(ctx context.Context, p meshserver.UseNonceParams) error {
	n, err := s.pool().Exec(ctx, meshsql.InsertNonce, p.Mailbox, p.Nonce, p.Count, p.At.UTC())
	if err == nil && n == 0 {
		return meshserver.ErrReplay
	}
	return err
}

func (s *MeshStore) AddChunk(ctx context.Context, p meshserver.AddChunkParams) (meshserver.Message, error) {
	m, err := s.GetMessage(ctx, p.Chunk.MessageID)
	if err != nil {
		return m, err
	}
	res, err := s.UploadChunk(ctx, meshserver.UploadChunkParams{Sender: m.Sender, Chunk: p.Chunk, Now: p.Now, ExpiresAt: p.ExpiresAt})
	return res.Message, err
}

func (s *MeshStore) ListInbox(ctx context.Context, p meshserver.ListInboxParams) ([]meshserver.Message, error) {
	q := `SELECT ` + meshsql.MessageColumns + ` FROM mesh_messages WHERE recipient = $1 AND ` + meshsql.InboxCond + ` AND id > $2`
	fq, fargs := meshsql.Filter(p.Filter, 3)
	args := append([]any{p.Mailbox, p.After}, fargs...)
	q += fq + fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args)+1)
	return s.queryMessages(ctx, "list inbox", q, append(args, max(p.Limit, 1))...)
}

func (s *MeshStore) FindByLocalID(ctx context.Context, sender, localID string) ([]meshserver.Message, error) {
	t, err := s.Track(ctx, meshserver.TrackParams{Sender: sender, LocalID: localID})
	var out []meshserver.Message
	for _, m := range t {
		out = append(out, m.Message)
	}
	return out, err
}

func (s *MeshStore) UpdateStatus(ctx context.Context, p meshserver.UpdateStatusParams) (meshserver.Message, error) {
	m, err := scanMessage(s.pool().QueryRow(ctx, `UPDATE mesh_messages SET status = $1, status_code = $2, status_event = $3,
	status_description = $4, status_at = $5, acked_at = CASE WHEN $1 = $6 THEN $5 ELSE acked_at END
	WHERE id = $7 AND status = ANY($8) RETURNING `+meshsql.MessageColumns,
		p.To, p.Code, p.Event, p.Description, p.At.UTC(), meshserver.StatusAcknowledged, p.ID, p.From))
	if err == nil {
		return m, nil
	}
	if !errors.Is(err, meshsql.ErrNoRows) {
		return m, fmt.Errorf("pgstore: update status of %s: %w", p.ID, err)
	}
	got, err := s.GetMessage(ctx, p.ID)
	if err != nil {
		return meshserver.Message{}, err
	}
	return meshserver.Message{}, fmt.Errorf("message %s is %s: %w", p.ID, got.Status, meshserver.ErrConflict)
}
