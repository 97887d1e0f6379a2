package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gpcm/gpcm/meshserver"
)

var _ meshserver.Store = (*MeshStore)(nil)

// MeshStore implements meshserver.Store on a DB. It holds no state of its
// own: every process with a MeshStore on the same schema sees the same data.
type MeshStore struct{ db *DB }

// Mesh returns the MESH server's store on db.
func (db *DB) Mesh() *MeshStore { return &MeshStore{db: db} }

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// tx runs fn in a READ COMMITTED transaction; sentinel errors pass through
// unwrapped by the "pgstore:" prefix.
func (s *MeshStore) tx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	tx, err := s.db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: %s: %w", what, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		if errors.Is(err, meshserver.ErrNotFound) || errors.Is(err, meshserver.ErrConflict) || errors.Is(err, meshserver.ErrReplay) {
			return err
		}
		return fmt.Errorf("pgstore: %s: %w", what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: %s: commit: %w", what, err)
	}
	return nil
}

// PutMailbox creates or replaces a mailbox.
func (s *MeshStore) PutMailbox(ctx context.Context, mb meshserver.Mailbox) error {
	var wf []string
	if len(mb.Workflows) > 0 {
		wf = mb.Workflows
	}
	_, err := s.db.pool.Exec(ctx, `INSERT INTO mesh_mailboxes (id, password, ods_code, name, active, workflows)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET password = excluded.password, ods_code = excluded.ods_code,
			name = excluded.name, active = excluded.active, workflows = excluded.workflows`,
		mb.ID, mb.Password, mb.ODSCode, mb.Name, mb.Active, wf)
	if err != nil {
		return fmt.Errorf("pgstore: put mailbox %s: %w", mb.ID, err)
	}
	return nil
}

const mailboxCols = `id, password, ods_code, name, active, workflows`

func scanMailbox(sc pgx.Row) (meshserver.Mailbox, error) {
	var mb meshserver.Mailbox
	var wf []string
	if err := sc.Scan(&mb.ID, &mb.Password, &mb.ODSCode, &mb.Name, &mb.Active, &wf); err != nil {
		return mb, err
	}
	if len(wf) > 0 {
		mb.Workflows = wf
	}
	return mb, nil
}

// GetMailbox returns meshserver.ErrNotFound for an unknown id.
func (s *MeshStore) GetMailbox(ctx context.Context, id string) (meshserver.Mailbox, error) {
	mb, err := scanMailbox(s.db.pool.QueryRow(ctx, `SELECT `+mailboxCols+` FROM mesh_mailboxes WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return mb, fmt.Errorf("mailbox %s: %w", id, meshserver.ErrNotFound)
	}
	if err != nil {
		return mb, fmt.Errorf("pgstore: get mailbox %s: %w", id, err)
	}
	return mb, nil
}

// ListMailboxes lists mailboxes by id, optionally of one ODS code.
func (s *MeshStore) ListMailboxes(ctx context.Context, odsCode string) ([]meshserver.Mailbox, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+mailboxCols+` FROM mesh_mailboxes
		WHERE $1 = '' OR ods_code = $1 ORDER BY id`, odsCode)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list mailboxes: %w", err)
	}
	defer rows.Close()
	var out []meshserver.Mailbox
	for rows.Next() {
		mb, err := scanMailbox(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: list mailboxes: %w", err)
		}
		out = append(out, mb)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: list mailboxes: %w", err)
	}
	return out, nil
}

// SetMailboxActive enables or disables a mailbox.
func (s *MeshStore) SetMailboxActive(ctx context.Context, id string, active bool) error {
	tag, err := s.db.pool.Exec(ctx, `UPDATE mesh_mailboxes SET active = $1 WHERE id = $2`, active, id)
	if err != nil {
		return fmt.Errorf("pgstore: set mailbox %s active: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("mailbox %s: %w", id, meshserver.ErrNotFound)
	}
	return nil
}

const messageCols = `id, message_type, sender, recipient, workflow_id, subject, local_id, partner_id, file_name,
	checksum, content_type, content_encoding, encrypted, compressed, linked_msg_id, status, status_code,
	status_event, status_description, total_chunks, size, created_at, status_at, expires_at, acked_at`

func scanMessage(sc pgx.Row) (meshserver.Message, error) {
	var m meshserver.Message
	targets, finish := messageTargets(&m)
	err := sc.Scan(targets...)
	finish()
	return m, err
}

// messageTargets are the scan targets of messageCols for m; finish
// converts the time columns once scanned.
func messageTargets(m *meshserver.Message) (targets []any, finish func()) {
	var created, statusAt time.Time
	var expires, acked *time.Time
	return []any{&m.ID, &m.MessageType, &m.Sender, &m.Recipient, &m.WorkflowID, &m.Subject, &m.LocalID,
			&m.PartnerID, &m.FileName, &m.Checksum, &m.ContentType, &m.ContentEncoding, &m.Encrypted, &m.Compressed,
			&m.LinkedMsgID, &m.Status, &m.StatusCode, &m.StatusEvent, &m.StatusDescription, &m.TotalChunks, &m.Size,
			&created, &statusAt, &expires, &acked}, func() {
			m.CreatedAt, m.StatusAt = created.UTC(), statusAt.UTC()
			m.ExpiresAt, m.AckedAt = fromTS(expires), fromTS(acked)
		}
}

func collectMessages(rows pgx.Rows) ([]meshserver.Message, error) {
	defer rows.Close()
	var out []meshserver.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// messageVals are the placeholders of messageCols, messageArgs their values.
const messageVals = `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25`

func messageArgs(m meshserver.Message) []any {
	return []any{m.ID, m.MessageType, m.Sender, m.Recipient, m.WorkflowID, m.Subject, m.LocalID, m.PartnerID, m.FileName,
		m.Checksum, m.ContentType, m.ContentEncoding, m.Encrypted, m.Compressed, m.LinkedMsgID, m.Status,
		m.StatusCode, m.StatusEvent, m.StatusDescription, m.TotalChunks, m.Size, m.CreatedAt.UTC(),
		m.StatusAt.UTC(), ts(m.ExpiresAt), ts(m.AckedAt)}
}

func insertMessage(ctx context.Context, q querier, m meshserver.Message) error {
	_, err := q.Exec(ctx, `INSERT INTO mesh_messages (`+messageCols+`) VALUES (`+messageVals+`)`, messageArgs(m)...)
	if isUniqueViolation(err) {
		return fmt.Errorf("message %s: %w", m.ID, meshserver.ErrConflict)
	}
	return err
}

// CreateMessage inserts m and its first chunk atomically, in one statement
// (one round trip): the chunk insert is a data-modifying CTE of the
// message insert.
func (s *MeshStore) CreateMessage(ctx context.Context, m meshserver.Message, first *meshserver.Chunk) error {
	var err error
	if first == nil {
		err = insertMessage(ctx, s.db.pool, m)
	} else {
		_, err = s.db.pool.Exec(ctx, `WITH msg AS (INSERT INTO mesh_messages (`+messageCols+`) VALUES (`+messageVals+`) RETURNING id)
			INSERT INTO mesh_chunks (message_id, n, size, blob_key) SELECT id, $26, $27, $28 FROM msg`,
			append(messageArgs(m), first.Number, first.Size, first.BlobKey)...)
		if isUniqueViolation(err) {
			err = fmt.Errorf("message %s: %w", m.ID, meshserver.ErrConflict)
		}
	}
	if err != nil {
		if errors.Is(err, meshserver.ErrConflict) {
			return err
		}
		return fmt.Errorf("pgstore: create message %s: %w", m.ID, err)
	}
	return nil
}

var _ meshserver.InlineStore = (*MeshStore)(nil)

// CreateMessageInline inserts m, its first chunk and the chunk's body (as
// the blob first.BlobKey in the table DB.Blobs reads) in one statement.
func (s *MeshStore) CreateMessageInline(ctx context.Context, m meshserver.Message, first meshserver.Chunk, body []byte) error {
	_, err := s.createInline(ctx, qCreateInline, m, first, body)
	return err
}

var _ meshserver.CheckedInlineStore = (*MeshStore)(nil)

// CreateMessageInlineChecked is CreateMessageInline with the recipient
// checked in the message insert, in one statement: the chunk and the blob
// are inserted only if the message was.
func (s *MeshStore) CreateMessageInlineChecked(ctx context.Context, m meshserver.Message, first meshserver.Chunk, body []byte) error {
	inserted, err := s.createInline(ctx, qCreateInlineChecked, m, first, body)
	if err == nil && inserted == 0 {
		return fmt.Errorf("message %s: %w", m.ID, meshserver.ErrRecipient)
	}
	return err
}

// createInline runs one of the inline-create statements and returns how
// many blobs it inserted (0 when its recipient check refused the message).
func (s *MeshStore) createInline(ctx context.Context, q string, m meshserver.Message, first meshserver.Chunk, body []byte) (int64, error) {
	args, err := inlineArgs(m, first, body)
	if err != nil {
		return 0, err
	}
	tag, err := s.db.pool.Exec(ctx, q, args...)
	if isUniqueViolation(err) {
		return 0, fmt.Errorf("message %s: %w", m.ID, meshserver.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("pgstore: create message %s: %w", m.ID, err)
	}
	return tag.RowsAffected(), nil
}

// GetMessage returns meshserver.ErrNotFound for an unknown id.
func (s *MeshStore) GetMessage(ctx context.Context, id string) (meshserver.Message, error) {
	m, err := scanMessage(s.db.pool.QueryRow(ctx, `SELECT `+messageCols+` FROM mesh_messages WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("message %s: %w", id, meshserver.ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("pgstore: get message %s: %w", id, err)
	}
	return m, nil
}

// lockMessage reads a message and locks its row until the transaction
// ends, so that concurrent changes from any process apply one after the other.
func lockMessage(ctx context.Context, tx pgx.Tx, id string) (meshserver.Message, error) {
	m, err := scanMessage(tx.QueryRow(ctx, `SELECT `+messageCols+` FROM mesh_messages WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("message %s: %w", id, meshserver.ErrNotFound)
	}
	return m, err
}

// AddChunk records a chunk and finalises the message when all are present.
func (s *MeshStore) AddChunk(ctx context.Context, p meshserver.AddChunkParams) (meshserver.Message, error) {
	var m meshserver.Message
	c := p.Chunk
	err := s.tx(ctx, fmt.Sprintf("add chunk %d of %s", c.Number, c.MessageID), func(tx pgx.Tx) error {
		var err error
		if m, err = lockMessage(ctx, tx, c.MessageID); err != nil {
			return err
		}
		if m.Status != meshserver.StatusUploading {
			return fmt.Errorf("message %s is %s: %w", m.ID, m.Status, meshserver.ErrConflict)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO mesh_chunks (message_id, n, size, blob_key) VALUES ($1, $2, $3, $4)
			ON CONFLICT (message_id, n) DO UPDATE SET size = excluded.size, blob_key = excluded.blob_key`,
			c.MessageID, c.Number, c.Size, c.BlobKey); err != nil {
			return err
		}
		var n int
		var size int64
		if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM mesh_chunks WHERE message_id = $1`, c.MessageID).Scan(&n, &size); err != nil {
			return err
		}
		m.Size = size
		if n >= m.TotalChunks {
			m.Status, m.StatusAt, m.ExpiresAt = meshserver.StatusAccepted, p.Now.UTC(), p.ExpiresAt.UTC()
			if p.ExpiresAt.IsZero() {
				m.ExpiresAt = time.Time{}
			}
		}
		_, err = tx.Exec(ctx, `UPDATE mesh_messages SET size = $1, status = $2, status_at = $3, expires_at = $4 WHERE id = $5`,
			m.Size, m.Status, m.StatusAt.UTC(), ts(m.ExpiresAt), m.ID)
		return err
	})
	return m, err
}

// GetChunk returns a chunk record.
func (s *MeshStore) GetChunk(ctx context.Context, messageID string, n int) (meshserver.Chunk, error) {
	c := meshserver.Chunk{MessageID: messageID, Number: n}
	err := s.db.pool.QueryRow(ctx, `SELECT size, blob_key FROM mesh_chunks WHERE message_id = $1 AND n = $2`, messageID, n).Scan(&c.Size, &c.BlobKey)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("chunk %d of %s: %w", n, messageID, meshserver.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("pgstore: get chunk %d of %s: %w", n, messageID, err)
	}
	return c, nil
}

var _ meshserver.ChunkReader = (*MeshStore)(nil)

// ReadChunk reads a message, its chunk n and the chunk's body when it is in
// the blobs table, with one query.
func (s *MeshStore) ReadChunk(ctx context.Context, messageID string, n int) (meshserver.ChunkRead, error) {
	var out meshserver.ChunkRead
	cr := chunkReadTargets(&out, n)
	err := s.db.pool.QueryRow(ctx, qReadChunk, messageID, n).Scan(cr.targets...)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, fmt.Errorf("message %s: %w", messageID, meshserver.ErrNotFound)
	}
	if err != nil {
		return out, fmt.Errorf("pgstore: read chunk %d of %s: %w", n, messageID, err)
	}
	cr.finish()
	return out, nil
}

// chunkRead scans the columns of a chunk read (readChunkCols) into a
// ChunkRead.
type chunkRead struct {
	targets []any
	finish  func()
}

func chunkReadTargets(out *meshserver.ChunkRead, n int) chunkRead {
	var size *int64
	var key *string
	targets, finishMessage := messageTargets(&out.Message)
	return chunkRead{targets: append(targets, &size, &key, &out.Inline, &out.Body), finish: func() {
		finishMessage()
		if key != nil && size != nil {
			out.HasChunk = true
			out.Chunk = meshserver.Chunk{MessageID: out.Message.ID, Number: n, Size: *size, BlobKey: *key}
		}
		if out.Inline && out.Body == nil {
			out.Body = []byte{}
		}
	}}
}

// qualifiedMessageCols is messageCols with each column prefixed "m.".
var qualifiedMessageCols = func() string {
	cols := strings.Split(messageCols, ",")
	for i, c := range cols {
		cols[i] = "m." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// filterSQL returns the workflow condition with its argument numbered $n.
func filterSQL(f meshserver.WorkflowFilter, n int) (string, []any) {
	var cond, arg string
	switch f.Op {
	case meshserver.FilterEquals:
		cond, arg = fmt.Sprintf("workflow_id = $%d", n), f.Value
	case meshserver.FilterPrefix:
		cond, arg = fmt.Sprintf(`workflow_id LIKE $%d ESCAPE '\'`, n), likeEscaper.Replace(f.Value)+"%"
	case meshserver.FilterContains:
		cond, arg = fmt.Sprintf(`workflow_id LIKE $%d ESCAPE '\'`, n), "%"+likeEscaper.Replace(f.Value)+"%"
	default:
		return "", nil
	}
	if f.Negate {
		cond = "NOT (" + cond + ")"
	}
	return " AND " + cond, []any{arg}
}

// ListInbox lists accepted messages for a mailbox in id order.
func (s *MeshStore) ListInbox(ctx context.Context, p meshserver.ListInboxParams) ([]meshserver.Message, error) {
	q, args := inboxSQL(messageCols, p)
	return s.queryMessages(ctx, "list inbox", q, args...)
}

var _ meshserver.InboxPager = (*MeshStore)(nil)

// ListInboxIDs lists inbox ids and, when count is set, counts the inbox:
// both queries go in one pipelined batch.
func (s *MeshStore) ListInboxIDs(ctx context.Context, p meshserver.ListInboxParams, count bool) ([]string, int, error) {
	q, args := inboxSQL("id", p)
	b := &pgx.Batch{}
	var ids []string
	b.Queue(q, args...).Query(func(rows pgx.Rows) error {
		var err error
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	n := 0
	if count {
		b.Queue(qCountInbox, p.Mailbox).
			QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	}
	if err := s.db.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, 0, fmt.Errorf("pgstore: list inbox: %w", err)
	}
	return ids, n, nil
}

// inboxSQL is the query of an inbox page selecting cols, and its arguments.
func inboxSQL(cols string, p meshserver.ListInboxParams) (string, []any) {
	q := `SELECT ` + cols + ` FROM mesh_messages WHERE recipient = $1 AND ` + inboxCond + ` AND id > $2`
	args := []any{p.Mailbox, p.After}
	fq, fargs := filterSQL(p.Filter, 3)
	q += fq
	args = append(args, fargs...)
	q += fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args)+1)
	args = append(args, max(p.Limit, 1))
	return q, args
}

func (s *MeshStore) queryMessages(ctx context.Context, what, q string, args ...any) ([]meshserver.Message, error) {
	rows, err := s.db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %s: %w", what, err)
	}
	out, err := collectMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %s: %w", what, err)
	}
	return out, nil
}

// CountInbox counts accepted messages addressed to mailbox.
func (s *MeshStore) CountInbox(ctx context.Context, mailbox string) (int, error) {
	var n int
	err := s.db.pool.QueryRow(ctx, qCountInbox, mailbox).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pgstore: count inbox: %w", err)
	}
	return n, nil
}

// InboxUsage counts the uploading and accepted messages addressed to
// mailbox and sums their sizes, each status through its partial index
// (mesh_0002, mesh_0004).
func (s *MeshStore) InboxUsage(ctx context.Context, mailbox string) (meshserver.Usage, error) {
	var u meshserver.Usage
	err := s.db.pool.QueryRow(ctx, qInboxUsage, mailbox).Scan(&u.Messages, &u.Bytes)
	if err != nil {
		return u, fmt.Errorf("pgstore: inbox usage: %w", err)
	}
	return u, nil
}

// ListMessages lists messages newest first.
func (s *MeshStore) ListMessages(ctx context.Context, p meshserver.ListMessagesParams) ([]meshserver.Message, error) {
	q := `SELECT ` + messageCols + ` FROM mesh_messages WHERE TRUE`
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		q += fmt.Sprintf(cond, len(args))
	}
	if p.Recipient != "" {
		add(` AND recipient = $%d`, p.Recipient)
	}
	if p.Sender != "" {
		add(` AND sender = $%d`, p.Sender)
	}
	if !p.Since.IsZero() {
		add(` AND created_at >= $%d`, p.Since.UTC())
	}
	if p.Before != "" {
		add(` AND id < $%d`, p.Before)
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 1000
	}
	add(` ORDER BY id DESC LIMIT $%d`, limit)
	return s.queryMessages(ctx, "list messages", q, args...)
}

// FindByLocalID lists the sender's messages with a local id.
func (s *MeshStore) FindByLocalID(ctx context.Context, sender, localID string) ([]meshserver.Message, error) {
	return s.queryMessages(ctx, "find by local id",
		`SELECT `+messageCols+` FROM mesh_messages WHERE sender = $1 AND local_id = $2 AND message_type = $3 ORDER BY id`,
		sender, localID, meshserver.TypeData)
}

// UpdateStatus moves a message between statuses with one conditional
// UPDATE (one round trip); only when no row matches does a second query
// tell an unknown message (ErrNotFound) from one in another status
// (ErrConflict).
func (s *MeshStore) UpdateStatus(ctx context.Context, p meshserver.UpdateStatusParams) (meshserver.Message, error) {
	at := p.At.UTC()
	m, err := scanMessage(s.db.pool.QueryRow(ctx, qUpdateStatus,
		p.To, p.Code, p.Event, p.Description, at, meshserver.StatusAcknowledged, p.ID, p.From))
	if err == nil {
		return m, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("pgstore: update status of %s: %w", p.ID, err)
	}
	var status string
	err = s.db.pool.QueryRow(ctx, `SELECT status FROM mesh_messages WHERE id = $1`, p.ID).Scan(&status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return meshserver.Message{}, fmt.Errorf("message %s: %w", p.ID, meshserver.ErrNotFound)
	case err != nil:
		return meshserver.Message{}, fmt.Errorf("pgstore: update status of %s: %w", p.ID, err)
	}
	return meshserver.Message{}, fmt.Errorf("message %s is %s: %w", p.ID, status, meshserver.ErrConflict)
}

// ExpireDue expires due messages and stores their reports atomically. Rows
// are claimed with FOR UPDATE SKIP LOCKED, so several processes expiring at
// once each take different messages, and a message being acknowledged or
// completed right now is left for the next round.
func (s *MeshStore) ExpireDue(ctx context.Context, p meshserver.ExpireParams) ([]meshserver.Message, error) {
	var out []meshserver.Message
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	now := p.Now.UTC()
	err := s.tx(ctx, "expire messages", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+messageCols+` FROM mesh_messages
			WHERE `+waitingCond+` AND expires_at IS NOT NULL AND expires_at <= $1
			ORDER BY expires_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`, now, limit)
		if err != nil {
			return err
		}
		if out, err = collectMessages(rows); err != nil {
			return err
		}
		for i, m := range out {
			m.Status, m.StatusAt = meshserver.StatusUndeliverable, now
			m.StatusCode, m.StatusEvent = "14", "SEND"
			m.StatusDescription = "Message not collected by recipient after 5 days"
			if p.Report != nil {
				r := p.Report(m)
				m.StatusCode, m.StatusEvent, m.StatusDescription = r.StatusCode, r.StatusEvent, r.StatusDescription
				if err := insertMessage(ctx, tx, r); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE mesh_messages SET status = $1, status_code = $2, status_event = $3,
				status_description = $4, status_at = $5 WHERE id = $6`,
				m.Status, m.StatusCode, m.StatusEvent, m.StatusDescription, m.StatusAt, m.ID); err != nil {
				return err
			}
			out[i] = m
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CountByStatus counts messages per status.
func (s *MeshStore) CountByStatus(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT status, count(*) FROM mesh_messages GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: count by status: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("pgstore: count by status: %w", err)
		}
		out[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: count by status: %w", err)
	}
	return out, nil
}

// deleteWhere deletes, in one transaction, the messages that a locking
// SELECT of ids (which must end in FOR UPDATE [SKIP LOCKED]) returns, and
// reports their ids in id order and their chunks' blob keys.
func (s *MeshStore) deleteWhere(ctx context.Context, what, selectIDs string, args ...any) (meshserver.Deleted, error) {
	var d meshserver.Deleted
	err := s.tx(ctx, what, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, selectIDs, args...)
		if err != nil {
			return err
		}
		if d.IDs, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		if len(d.IDs) == 0 {
			return nil
		}
		rows, err = tx.Query(ctx, `SELECT blob_key FROM mesh_chunks WHERE message_id = ANY($1) ORDER BY message_id, n`, d.IDs)
		if err != nil {
			return err
		}
		if d.BlobKeys, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
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
	b := before.UTC()
	return s.deleteWhere(ctx, "purge messages", `SELECT id FROM mesh_messages
		WHERE (`+finishedCond+` AND status_at < $1) OR (`+reportCond+` AND created_at < $1)
		LIMIT $2 FOR UPDATE SKIP LOCKED`, pgx.QueryExecModeExec, b, limit)
}

// The conditions of the partial indexes of mesh_0002, spelled as there.
const (
	inboxCond = `status = '` + meshserver.StatusAccepted + `'`
	// uploadingCond is the condition of mesh_0004's index.
	uploadingCond = `status = '` + meshserver.StatusUploading + `'`
	waitingCond   = `status IN ('` + meshserver.StatusAccepted + `', '` + meshserver.StatusUploading + `')`
	finishedCond  = `status IN ('` + meshserver.StatusAcknowledged + `', '` + meshserver.StatusUndeliverable + `', '` + meshserver.StatusError + `')`
	reportCond    = `message_type = '` + meshserver.TypeReport + `'`
)

// UseNonce records a token; meshserver.ErrReplay if seen before, by this
// or any other process on the database. Of two concurrent inserts of one
// token, PostgreSQL makes the second wait for the first to commit and then
// skip it, so exactly one caller succeeds.
//
// As in sqlitestore, the insert does not wait for its WAL flush
// (synchronous_commit off for this transaction only; BEGIN, SET, INSERT and
// COMMIT go in one round trip): it is visible to every process at once and
// survives their crashes, and a crash of PostgreSQL itself can at worst
// forget the last few tokens, which their 2-hour window then bounds.
// Messages are always committed with the database's full durability.
func (s *MeshStore) UseNonce(ctx context.Context, p meshserver.UseNonceParams) error {
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL synchronous_commit = off`)
	ins := b.Queue(`INSERT INTO mesh_nonces (mailbox, nonce, count, used_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, p.Mailbox, p.Nonce, p.Count, p.At.UTC())
	b.Queue(`COMMIT`)
	var inserted int64
	ins.Exec(func(tag pgconn.CommandTag) error {
		inserted = tag.RowsAffected()
		return nil
	})
	// Close runs the callbacks and reports the first error; a connection
	// left inside the failed transaction is discarded by the pool.
	if err := s.db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("pgstore: use nonce: %w", err)
	}
	if inserted == 0 {
		return meshserver.ErrReplay
	}
	return nil
}

var _ meshserver.TokenStore = (*MeshStore)(nil)

// UseToken records a token and reads its mailbox, inserting the token only
// when the mailbox is active with the given password. Tokens of concurrent
// requests are recorded together (see tokenBatcher): one statement and one
// round trip per batch, committed without waiting for the WAL flush as in
// UseNonce. Two concurrent uses of one token behave as in UseNonce, in one
// process or several: exactly one succeeds.
func (s *MeshStore) UseToken(ctx context.Context, p meshserver.UseNonceParams, password string) (meshserver.Mailbox, error) {
	tb := s.db.tokenBatcher()
	if tb == nil {
		return meshserver.Mailbox{}, errClosed
	}
	res, err := tb.use(ctx, p, password)
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

// PruneNonces forgets tokens used before the given time.
func (s *MeshStore) PruneNonces(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM mesh_nonces WHERE used_at < $1`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("pgstore: prune nonces: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// PutPatient creates or replaces a patient register row.
func (s *MeshStore) PutPatient(ctx context.Context, p meshserver.Patient) error {
	_, err := s.db.pool.Exec(ctx, `INSERT INTO mesh_patients (nhs_number, birth_date, surname, practice_ods)
		VALUES ($1, $2, $3, $4) ON CONFLICT (nhs_number) DO UPDATE SET birth_date = excluded.birth_date,
		surname = excluded.surname, practice_ods = excluded.practice_ods`,
		p.NHSNumber, p.BirthDate, p.Surname, p.PracticeODS)
	if err != nil {
		return fmt.Errorf("pgstore: put patient: %w", err)
	}
	return nil
}

// GetPatient returns meshserver.ErrNotFound for an unknown NHS number. The
// error never carries the number itself.
func (s *MeshStore) GetPatient(ctx context.Context, nhsNumber string) (meshserver.Patient, error) {
	p := meshserver.Patient{NHSNumber: nhsNumber}
	err := s.db.pool.QueryRow(ctx, `SELECT birth_date, surname, practice_ods FROM mesh_patients WHERE nhs_number = $1`, nhsNumber).
		Scan(&p.BirthDate, &p.Surname, &p.PracticeODS)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("patient: %w", meshserver.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("pgstore: get patient: %w", err)
	}
	return p, nil
}

// qReadChunk reads a message, one chunk's record and, when the chunk's
// body is a blob in the database, the body: a download in one query.
var qReadChunk = `SELECT ` + qualifiedMessageCols + `, ` + chunkCols + `
	FROM mesh_messages m ` + chunkJoins + `
	WHERE m.id = $1`

// chunkCols and chunkJoins add chunk $2 of message m and its body, when
// it is in the blobs table, to a read of m.
const (
	chunkCols  = `c.size, c.blob_key, b.key IS NOT NULL, b.data`
	chunkJoins = `LEFT JOIN mesh_chunks c ON c.message_id = m.id AND c.n = $2
	LEFT JOIN blobs b ON b.key = c.blob_key`
)

// qUpdateStatus moves a message from one of the statuses $8 to $1.
const qUpdateStatus = `UPDATE mesh_messages SET status = $1, status_code = $2, status_event = $3,
	status_description = $4, status_at = $5, acked_at = CASE WHEN $1 = $6 THEN $5 ELSE acked_at END
	WHERE id = $7 AND status = ANY($8) RETURNING ` + messageCols

// qCreateInlineChecked inserts a message whose recipient is active and
// may receive its workflow, its first chunk and the chunk's body.
const qCreateInlineChecked = `WITH ok AS (SELECT 1 FROM mesh_mailboxes WHERE ` + recipientTakesCond + `),
	` + checkedMessageCTE + `, ` + inlineChunkCTE + `
	` + inlineBlobInsert

// qCreateInline inserts a message, its first chunk and the chunk's body.
const qCreateInline = `WITH msg AS (INSERT INTO mesh_messages (` + messageCols + `) VALUES (` + messageVals + `) RETURNING id),
	` + inlineChunkCTE + `
	` + inlineBlobInsert

// The parts of the inline-create statements (arguments: inlineArgs):
// recipient $4 is active and takes workflow $5; the message inserted only
// if CTE "ok" has a row; its first chunk; the chunk's body.
const (
	recipientTakesCond = `id = $4 AND active AND (cardinality(coalesce(workflows, '{}')) = 0 OR $5 = ANY(workflows))`
	checkedMessageCTE  = `msg AS (INSERT INTO mesh_messages (` + messageCols + `) SELECT ` + messageVals + ` FROM ok RETURNING id)`
	inlineChunkCTE     = `ch AS (INSERT INTO mesh_chunks (message_id, n, size, blob_key) SELECT id, $26, $27, $28 FROM msg RETURNING blob_key)`
	inlineBlobInsert   = `INSERT INTO blobs (key, data) SELECT blob_key, $29 FROM ch ON CONFLICT (key) DO UPDATE SET data = excluded.data`
)

// qInboxUsage counts and sums what waits for a mailbox (InboxUsage).
const qInboxUsage = `SELECT count(*), coalesce(sum(size), 0) FROM (
	SELECT size FROM mesh_messages WHERE recipient = $1 AND ` + inboxCond + `
	UNION ALL
	SELECT size FROM mesh_messages WHERE recipient = $1 AND ` + uploadingCond + `) waiting`

// qCountInbox counts a mailbox's inbox.
const qCountInbox = `SELECT count(*) FROM mesh_messages WHERE recipient = $1 AND ` + inboxCond

// meshHotSQL lists the statements of the MESH server's requests (see
// Options.PrepareMesh): the four that record a request's token with its
// work (a small send, an inbox page with its count, a download, an
// acknowledgement; tokenops.go) and the token batch of the others.
func meshHotSQL() []string {
	inboxToken, _ := inboxTokenSQL(meshserver.ListInboxParams{}, true)
	return []string{`BEGIN`, `SET LOCAL synchronous_commit = off`, qUseTokens, `COMMIT`,
		qCreateInlineCheckedToken, qReadChunkToken, qAcknowledgeToken, inboxToken}
}
