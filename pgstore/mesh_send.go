package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// qCreateMessage inserts a message ($1–$25) and its first chunk ($26–$28)
// in one statement: the chunk insert is a data-modifying CTE of the
// message insert.
const qCreateMessage = `WITH msg AS (INSERT INTO mesh_messages (` + meshsql.MessageColumns + `) VALUES (` + meshsql.MessageParams + `) RETURNING id)
	INSERT INTO mesh_chunks (message_id, n, size, blob_key) SELECT id, $26, $27, $28 FROM msg`

// CreateMessage inserts m and its first chunk atomically, in one statement.
func (s *MeshStore) CreateMessage(ctx context.Context, m meshserver.Message, first *meshserver.Chunk) error {
	q, args := meshsql.InsertMessage, meshsql.MessageArgs(times, m)
	if first != nil {
		q, args = qCreateMessage, append(args, first.Number, first.Size, first.BlobKey)
	}
	_, err := s.pool().Exec(ctx, q, args...)
	return meshsql.Err("pgstore", "create message "+m.ID, messageConflict(m.ID, err))
}

// messageConflict names the message of a unique violation.
func messageConflict(id string, err error) error {
	if errors.Is(err, meshserver.ErrConflict) {
		return fmt.Errorf("message %s: %w", id, meshserver.ErrConflict)
	}
	return err
}

// recipientTakesCond: recipient $4 is active and takes workflow $5.
const recipientTakesCond = `id = $4 AND active AND (cardinality(coalesce(workflows, '{}')) = 0 OR $5 = ANY(workflows))`

// sendSQL is the statement of Send: the token recorded (CTE "tok"), then
// the message ($1–$25) inserted only if its recipient, when it has one,
// takes it, its first chunk ($26–$28), with inline the chunk's body ($29)
// and with report a REPORT (the next 25 arguments), the token's arguments
// last. It returns whether it recorded the token and whether it stored the
// message.
func sendSQL(token, inline, report bool) string {
	n := 29
	var body, rep string
	if inline {
		body = `,
	b AS (INSERT INTO blobs (key, data) SELECT blob_key, $29 FROM ch ON CONFLICT (key) DO UPDATE SET data = excluded.data RETURNING 1)`
		n++
	}
	if report {
		rep = `,
	rep AS (INSERT INTO mesh_messages (` + meshsql.MessageColumns + `) SELECT ` + meshsql.Params(n, 25) + ` FROM msg RETURNING 1)`
		n += 25
	}
	return `WITH ` + tokenCTE(token, n) + `,
	ok AS (SELECT 1 WHERE EXISTS (SELECT 1 FROM tok) AND ($4 = '' OR EXISTS (SELECT 1 FROM mesh_mailboxes WHERE ` + recipientTakesCond + `))),
	msg AS (INSERT INTO mesh_messages (` + meshsql.MessageColumns + `) SELECT ` + meshsql.MessageParams + ` FROM ok RETURNING id),
	ch AS (INSERT INTO mesh_chunks (message_id, n, size, blob_key) SELECT id, $26, $27, $28 FROM msg RETURNING blob_key)` + body + rep + `
	SELECT (SELECT count(*) FROM tok), (SELECT count(*) FROM msg)`
}

// qSendSmall is the statement of a small send, the most frequent one.
var qSendSmall = sendSQL(true, true, false)

// sendQuery is Send's statement and its arguments.
func sendQuery(p meshserver.SendParams) (string, []any) {
	c := p.Chunk
	args := append(meshsql.MessageArgs(times, p.Message), c.Number, c.Size, c.BlobKey)
	if p.Body != nil {
		args = append(args, p.Body)
	}
	if p.Report != nil {
		args = append(args, meshsql.MessageArgs(times, *p.Report)...)
	}
	q := qSendSmall
	if p.Token == nil || p.Body == nil || p.Report != nil {
		q = sendSQL(p.Token != nil, p.Body != nil, p.Report != nil)
	}
	return q, append(args, tokenArgs(p.Token)...)
}

// Send stores the message, its first chunk, the chunk's body when inline
// and a report, after its token and the recipient check, in one statement.
func (s *MeshStore) Send(ctx context.Context, p meshserver.SendParams) error {
	m := p.Message
	if err := meshsql.CheckSend(p, s.InlineMax()); err != nil {
		return fmt.Errorf("pgstore: send %s: %w", m.ID, err)
	}
	q, args := sendQuery(p)
	var recorded, stored int64
	err := meshTx{s.db.pool}.QueryRow(ctx, q, args...).Scan(&recorded, &stored)
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("message %s: %w", m.ID, meshserver.ErrConflict)
	case err != nil:
		return meshsql.Err("pgstore", "send "+m.ID, err)
	case recorded == 0:
		return s.refused(ctx, *p.Token)
	case stored == 0:
		return fmt.Errorf("message %s to %s: %w", m.ID, m.Recipient, meshserver.ErrRecipient)
	}
	return nil
}

// UploadChunk records a chunk and finalises the message when all are
// present, with the message row locked: concurrent uploads of one message,
// from any process, apply one after the other.
func (s *MeshStore) UploadChunk(ctx context.Context, p meshserver.UploadChunkParams) (meshserver.UploadChunkResult, error) {
	var res meshserver.UploadChunkResult
	err := s.tx(ctx, fmt.Sprintf("upload chunk %d of %s", p.Chunk.Number, p.Chunk.MessageID), func(tx meshTx) error {
		var err error
		res, err = meshsql.UploadChunk(ctx, tx, times, meshsql.MessageByID+` FOR UPDATE`, p)
		return err
	})
	return res, err
}
