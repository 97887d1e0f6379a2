package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/meshserver"
)

// A MESH message costs its sender and its recipient three requests (a small
// send, a download, an acknowledgement) and a share of the recipient's
// inbox pages, and each request spends a token.
// Recording the token on its own (UseToken) and then doing the work took
// two or three statements per request; measured on two cores, the token
// statements alone were a third of PostgreSQL's CPU per message. The
// methods below record the token in a data-modifying CTE of the statement
// that does the work, which runs only if the token was recorded.

var _ meshserver.TokenOpStore = (*MeshStore)(nil)

// tokenCTE is the CTE "tok" recording a pending token (its six arguments
// numbered from $n, see tokenArgs): one row if the token was recorded,
// none if it was used before or the mailbox is gone, inactive or no longer
// as the caller saw it.
func tokenCTE(n int) string {
	p := func(i int) string { return "$" + strconv.Itoa(n+i) }
	return `tok AS (INSERT INTO mesh_nonces (mailbox, nonce, count, used_at)
		SELECT id, ` + p(1) + `, ` + p(2) + `, ` + p(3) + ` FROM mesh_mailboxes
		WHERE id = ` + p(0) + ` AND active AND password = ` + p(4) + `
			AND coalesce(workflows, '{}') = coalesce(` + p(5) + `::text[], '{}')
		ON CONFLICT DO NOTHING RETURNING 1)`
}

// recordedNoWait is the first column of the statements whose only write
// is their token (a download, an inbox page): whether the token was
// recorded. When it was, the statement's commit does not wait for the WAL
// flush, as UseToken's never did. Should PostgreSQL crash within the WAL
// writer's delay (200 ms by default, at most three times that), such a
// token may be forgotten and the same signed request accepted once more:
// it only reads what its caller was already given, and its header travels
// only inside TLS. Sends and acknowledgements commit their token with
// their work, waiting for the flush. Not waiting spares downloads and
// listings a share of the WAL flushes, and the disk stalls that come
// with them.
const recordedNoWait = `(SELECT count(*) FROM tok WHERE set_config('synchronous_commit', 'off', true) = 'off')`

func tokenArgs(t meshserver.PendingToken) []any {
	var wf []string
	if len(t.Mailbox.Workflows) > 0 {
		wf = t.Mailbox.Workflows
	}
	return []any{t.Mailbox.ID, t.Nonce, t.Count, t.At.UTC(), t.Mailbox.Password, wf}
}

// tokenRefused is the error of a token the statement did not record.
func tokenRefused(t meshserver.PendingToken) error {
	return fmt.Errorf("token of mailbox %s: %w", t.Mailbox.ID, meshserver.ErrTokenRefused)
}

// orZeroMessageCols is qualifiedMessageCols with a value of the column's
// type in place of NULL, for a LEFT JOIN that may find no message.
var orZeroMessageCols = func() string {
	zero := map[string]string{"total_chunks": "0", "size": "0",
		"created_at": "'epoch'", "status_at": "'epoch'", "expires_at": "", "acked_at": ""}
	cols := strings.Split(messageCols, ",")
	for i, c := range cols {
		c = strings.TrimSpace(c)
		z, ok := zero[c]
		switch {
		case !ok:
			cols[i] = "coalesce(m." + c + ", '')"
		case z == "":
			cols[i] = "m." + c
		default:
			cols[i] = "coalesce(m." + c + ", " + z + ")"
		}
	}
	return strings.Join(cols, ", ")
}()

// qCreateInlineCheckedToken is qCreateInlineChecked after recording the
// token ($30–$35); it returns whether it recorded the token and whether it
// stored the message.
var qCreateInlineCheckedToken = `WITH ` + tokenCTE(30) + `,
	ok AS (SELECT 1 FROM mesh_mailboxes WHERE ` + recipientTakesCond + ` AND EXISTS (SELECT 1 FROM tok)),
	` + checkedMessageCTE + `, ` + inlineChunkCTE + `,
	b AS (` + inlineBlobInsert + ` RETURNING 1)
	SELECT (SELECT count(*) FROM tok), (SELECT count(*) FROM b)`

// CreateMessageInlineCheckedToken is CreateMessageInlineChecked after
// recording tok, in one statement.
func (s *MeshStore) CreateMessageInlineCheckedToken(ctx context.Context, tok meshserver.PendingToken, m meshserver.Message, first meshserver.Chunk, body []byte) error {
	q, args, err := createInlineTokenQuery(tok, m, first, body)
	if err != nil {
		return err
	}
	var recorded, stored int64
	err = s.db.pool.QueryRow(ctx, q, args...).Scan(&recorded, &stored)
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("message %s: %w", m.ID, meshserver.ErrConflict)
	case err != nil:
		return fmt.Errorf("pgstore: create message %s: %w", m.ID, err)
	case recorded == 0:
		return tokenRefused(tok)
	case stored == 0:
		return fmt.Errorf("message %s: %w", m.ID, meshserver.ErrRecipient)
	}
	return nil
}

// createInlineTokenQuery is CreateMessageInlineCheckedToken's statement
// and its arguments.
func createInlineTokenQuery(tok meshserver.PendingToken, m meshserver.Message, first meshserver.Chunk, body []byte) (string, []any, error) {
	args, err := inlineArgs(m, first, body)
	if err != nil {
		return "", nil, err
	}
	return qCreateInlineCheckedToken, append(args, tokenArgs(tok)...), nil
}

// qReadChunkToken is qReadChunk after recording the token ($3–$8); it
// always returns one row: whether it recorded the token, whether the
// message exists, then qReadChunk's columns.
var qReadChunkToken = `WITH ` + tokenCTE(3) + `
	SELECT ` + recordedNoWait + `, m.id IS NOT NULL, ` + orZeroMessageCols + `, ` + chunkCols + `
	FROM (SELECT 1) one
	LEFT JOIN mesh_messages m ON m.id = $1 ` + chunkJoins

// ReadChunkToken is ReadChunk after recording tok, in one statement.
func (s *MeshStore) ReadChunkToken(ctx context.Context, tok meshserver.PendingToken, messageID string, n int) (meshserver.ChunkRead, error) {
	var out meshserver.ChunkRead
	var recorded int64
	var found bool
	cr := chunkReadTargets(&out, n)
	q, args := readChunkTokenQuery(tok, messageID, n)
	if err := s.db.pool.QueryRow(ctx, q, args...).Scan(append([]any{&recorded, &found}, cr.targets...)...); err != nil {
		return meshserver.ChunkRead{}, fmt.Errorf("pgstore: read chunk %d of %s: %w", n, messageID, err)
	}
	switch {
	case recorded == 0:
		return meshserver.ChunkRead{}, tokenRefused(tok)
	case !found:
		return meshserver.ChunkRead{}, fmt.Errorf("message %s: %w", messageID, meshserver.ErrNotFound)
	}
	cr.finish()
	return out, nil
}

// readChunkTokenQuery is ReadChunkToken's statement and its arguments.
func readChunkTokenQuery(tok meshserver.PendingToken, messageID string, n int) (string, []any) {
	return qReadChunkToken, append([]any{messageID, n}, tokenArgs(tok)...)
}

// qAcknowledgeToken records the token ($7–$12), reads message $5 as it was
// and, if the token was recorded, the message is accepted and its
// recipient is $6, acknowledges it. One row: token recorded, moved,
// message found, the message as it was.
var qAcknowledgeToken = `WITH ` + tokenCTE(7) + `,
	upd AS (UPDATE mesh_messages SET status = $1, status_code = $2, status_event = $3, status_description = $4,
			status_at = $13, acked_at = $13
		WHERE id = $5 AND recipient = $6 AND status = '` + meshserver.StatusAccepted + `' AND EXISTS (SELECT 1 FROM tok)
		RETURNING 1)
	SELECT (SELECT count(*) FROM tok), (SELECT count(*) FROM upd), m.id IS NOT NULL, ` + orZeroMessageCols + `
	FROM (SELECT 1) one LEFT JOIN mesh_messages m ON m.id = $5`

// AcknowledgeToken records tok and acknowledges message p.ID for
// recipient tok.Mailbox.ID, in one statement.
func (s *MeshStore) AcknowledgeToken(ctx context.Context, tok meshserver.PendingToken, p meshserver.UpdateStatusParams) (meshserver.Message, bool, error) {
	var before meshserver.Message
	var recorded, moved int64
	var found bool
	targets, finish := messageTargets(&before)
	dest := append([]any{&recorded, &moved, &found}, targets...)
	q, args := acknowledgeTokenQuery(tok, p)
	if err := s.db.pool.QueryRow(ctx, q, args...).Scan(dest...); err != nil {
		return meshserver.Message{}, false, fmt.Errorf("pgstore: acknowledge %s: %w", p.ID, err)
	}
	switch {
	case recorded == 0:
		return meshserver.Message{}, false, tokenRefused(tok)
	case !found:
		return meshserver.Message{}, false, fmt.Errorf("message %s: %w", p.ID, meshserver.ErrNotFound)
	}
	finish()
	return before, moved == 1, nil
}

// acknowledgeTokenQuery is AcknowledgeToken's statement and its arguments.
func acknowledgeTokenQuery(tok meshserver.PendingToken, p meshserver.UpdateStatusParams) (string, []any) {
	args := append([]any{meshserver.StatusAcknowledged, p.Code, p.Event, p.Description, p.ID, tok.Mailbox.ID}, tokenArgs(tok)...)
	return qAcknowledgeToken, append(args, p.At.UTC())
}

// inlineArgs are the arguments $1–$29 of the inline-create statements.
func inlineArgs(m meshserver.Message, first meshserver.Chunk, body []byte) ([]any, error) {
	if err := blob.ValidKey(first.BlobKey); err != nil {
		return nil, fmt.Errorf("pgstore: create message %s: %w", m.ID, err)
	}
	if body == nil {
		body = []byte{}
	}
	return append(messageArgs(m), first.Number, first.Size, first.BlobKey, body), nil
}

// ListInboxIDsToken is ListInboxIDs after recording tok, in one statement.
func (s *MeshStore) ListInboxIDsToken(ctx context.Context, tok meshserver.PendingToken, p meshserver.ListInboxParams, count bool) ([]string, int, error) {
	q, args := listInboxTokenQuery(tok, p, count)
	var recorded int64
	var ids []string
	var total int
	if err := s.db.pool.QueryRow(ctx, q, args...).Scan(&recorded, &ids, &total); err != nil {
		return nil, 0, fmt.Errorf("pgstore: list inbox: %w", err)
	}
	if recorded == 0 {
		return nil, 0, tokenRefused(tok)
	}
	return ids, total, nil
}

// listInboxTokenQuery is ListInboxIDsToken's statement and its arguments.
func listInboxTokenQuery(tok meshserver.PendingToken, p meshserver.ListInboxParams, count bool) (string, []any) {
	q, args := inboxTokenSQL(p, count)
	return q, append(args, tokenArgs(tok)...)
}

// inboxTokenSQL is the statement of ListInboxIDsToken and its arguments
// before the token's: whether it recorded the token, the page of ids as an
// array and, when count is true, the inbox count (else 0).
func inboxTokenSQL(p meshserver.ListInboxParams, count bool) (string, []any) {
	list, args := inboxSQL("id", p)
	countSQL := "0"
	if count {
		countSQL = "(" + qCountInbox + ")" // its $1 is the mailbox, as in list
	}
	return `WITH ` + tokenCTE(len(args)+1) + `
		SELECT ` + recordedNoWait + `, ARRAY(` + list + `), ` + countSQL, args
}
