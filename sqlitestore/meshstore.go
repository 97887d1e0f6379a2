package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/meshserver"
)

var _ meshserver.Store = (*MeshStore)(nil)

// MeshStore implements meshserver.Store on a DB.
type MeshStore struct{ db *DB }

// Mesh returns the MESH server's store on db.
func (db *DB) Mesh() *MeshStore { return &MeshStore{db: db} }

// PutMailbox creates or replaces a mailbox.
func (s *MeshStore) PutMailbox(ctx context.Context, mb meshserver.Mailbox) error {
	wf := ""
	if len(mb.Workflows) > 0 {
		b, err := json.Marshal(mb.Workflows)
		if err != nil {
			return fmt.Errorf("sqlitestore: put mailbox %s: %w", mb.ID, err)
		}
		wf = string(b)
	}
	_, err := s.db.write.ExecContext(ctx, `INSERT INTO mesh_mailboxes (id, password, ods_code, name, active, workflows)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET password = excluded.password, ods_code = excluded.ods_code,
			name = excluded.name, active = excluded.active, workflows = excluded.workflows`,
		mb.ID, mb.Password, mb.ODSCode, mb.Name, boolInt(mb.Active), wf)
	if err != nil {
		return fmt.Errorf("sqlitestore: put mailbox %s: %w", mb.ID, err)
	}
	return nil
}

const mailboxCols = `id, password, ods_code, name, active, workflows`

func scanMailbox(sc interface{ Scan(...any) error }) (meshserver.Mailbox, error) {
	var mb meshserver.Mailbox
	var active int
	var wf string
	if err := sc.Scan(&mb.ID, &mb.Password, &mb.ODSCode, &mb.Name, &active, &wf); err != nil {
		return mb, err
	}
	mb.Active = active != 0
	if wf != "" {
		if err := json.Unmarshal([]byte(wf), &mb.Workflows); err != nil {
			return mb, fmt.Errorf("workflows of mailbox %s: %w", mb.ID, err)
		}
	}
	return mb, nil
}

// GetMailbox returns meshserver.ErrNotFound for an unknown id.
func (s *MeshStore) GetMailbox(ctx context.Context, id string) (meshserver.Mailbox, error) {
	mb, err := scanMailbox(s.db.queryRow(ctx, qMailboxByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return mb, fmt.Errorf("mailbox %s: %w", id, meshserver.ErrNotFound)
	}
	if err != nil {
		return mb, fmt.Errorf("sqlitestore: get mailbox %s: %w", id, err)
	}
	return mb, nil
}

// ListMailboxes lists mailboxes by id, optionally of one ODS code.
func (s *MeshStore) ListMailboxes(ctx context.Context, odsCode string) ([]meshserver.Mailbox, error) {
	q := `SELECT ` + mailboxCols + ` FROM mesh_mailboxes`
	var args []any
	if odsCode != "" {
		q += ` WHERE ods_code = ?`
		args = append(args, odsCode)
	}
	rows, err := s.db.read.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list mailboxes: %w", err)
	}
	defer rows.Close()
	var out []meshserver.Mailbox
	for rows.Next() {
		mb, err := scanMailbox(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list mailboxes: %w", err)
		}
		out = append(out, mb)
	}
	return out, rows.Err()
}

// SetMailboxActive enables or disables a mailbox.
func (s *MeshStore) SetMailboxActive(ctx context.Context, id string, active bool) error {
	res, err := s.db.write.ExecContext(ctx, `UPDATE mesh_mailboxes SET active = ? WHERE id = ?`, boolInt(active), id)
	if err != nil {
		return fmt.Errorf("sqlitestore: set mailbox %s active: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("mailbox %s: %w", id, meshserver.ErrNotFound)
	}
	return nil
}

const messageCols = `id, message_type, sender, recipient, workflow_id, subject, local_id, partner_id, file_name,
	checksum, content_type, content_encoding, encrypted, compressed, linked_msg_id, status, status_code,
	status_event, status_description, total_chunks, size, created_at, status_at, expires_at, acked_at`

func scanMessage(sc interface{ Scan(...any) error }) (meshserver.Message, error) {
	var m meshserver.Message
	var created, statusAt, expires, acked int64
	err := sc.Scan(&m.ID, &m.MessageType, &m.Sender, &m.Recipient, &m.WorkflowID, &m.Subject, &m.LocalID,
		&m.PartnerID, &m.FileName, &m.Checksum, &m.ContentType, &m.ContentEncoding, &m.Encrypted, &m.Compressed,
		&m.LinkedMsgID, &m.Status, &m.StatusCode, &m.StatusEvent, &m.StatusDescription, &m.TotalChunks, &m.Size,
		&created, &statusAt, &expires, &acked)
	m.CreatedAt, m.StatusAt, m.ExpiresAt, m.AckedAt = fromMicros(created), fromMicros(statusAt), fromMicros(expires), fromMicros(acked)
	return m, err
}

// Query texts of the hot path, prepared once (see stmts.go).
const (
	qInsertMessage = `INSERT INTO mesh_messages (` + messageCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertFirstChunk = `INSERT INTO mesh_chunks (message_id, n, size, blob_key) VALUES (?, ?, ?, ?)`
	qMessageByID      = `SELECT ` + messageCols + ` FROM mesh_messages WHERE id = ?`
	qMailboxByID      = `SELECT ` + mailboxCols + ` FROM mesh_mailboxes WHERE id = ?`
	qChunk            = `SELECT size, blob_key FROM mesh_chunks WHERE message_id = ? AND n = ?`
	qUpdateStatus     = `UPDATE mesh_messages SET status = ?, status_code = ?, status_event = ?,
			status_description = ?, status_at = ?, acked_at = ? WHERE id = ?`
	qInsertNonce = `INSERT INTO mesh_nonces (mailbox, nonce, count, used_at) VALUES (?, ?, ?, ?)`
)

func (s *MeshStore) insertMessage(ctx context.Context, tx *sql.Tx, m meshserver.Message) error {
	_, err := s.db.txExec(ctx, tx, qInsertMessage,
		m.ID, m.MessageType, m.Sender, m.Recipient, m.WorkflowID, m.Subject, m.LocalID, m.PartnerID, m.FileName,
		m.Checksum, m.ContentType, m.ContentEncoding, m.Encrypted, m.Compressed, m.LinkedMsgID, m.Status,
		m.StatusCode, m.StatusEvent, m.StatusDescription, m.TotalChunks, m.Size, toMicros(m.CreatedAt),
		toMicros(m.StatusAt), toMicros(m.ExpiresAt), toMicros(m.AckedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("message %s: %w", m.ID, meshserver.ErrConflict)
	}
	return err
}

// CreateMessage inserts m and its first chunk in one transaction.
func (s *MeshStore) CreateMessage(ctx context.Context, m meshserver.Message, first *meshserver.Chunk) error {
	return s.tx(ctx, "create message "+m.ID, func(tx *sql.Tx) error {
		if err := s.insertMessage(ctx, tx, m); err != nil {
			return err
		}
		if first != nil {
			_, err := s.db.txExec(ctx, tx, qInsertFirstChunk, m.ID, first.Number, first.Size, first.BlobKey)
			return err
		}
		return nil
	})
}

var _ meshserver.InlineStore = (*MeshStore)(nil)

// CreateMessageInline inserts m, its first chunk and the chunk's body (as
// the blob first.BlobKey in the table DB.Blobs reads) in one transaction,
// so a small send costs one durable commit.
func (s *MeshStore) CreateMessageInline(ctx context.Context, m meshserver.Message, first meshserver.Chunk, body []byte) error {
	if err := blob.ValidKey(first.BlobKey); err != nil {
		return fmt.Errorf("sqlitestore: create message %s: %w", m.ID, err)
	}
	if body == nil {
		body = []byte{}
	}
	return s.tx(ctx, "create message "+m.ID, func(tx *sql.Tx) error {
		if err := s.insertMessage(ctx, tx, m); err != nil {
			return err
		}
		if _, err := s.db.txExec(ctx, tx, qInsertFirstChunk, m.ID, first.Number, first.Size, first.BlobKey); err != nil {
			return err
		}
		_, err := s.db.txExec(ctx, tx, qPutBlob, first.BlobKey, body)
		return err
	})
}

// tx runs fn in a write transaction shared with other concurrent writes
// (group commit); fn's changes are committed, or rolled back alone.
func (s *MeshStore) tx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	err := s.db.batch.do(ctx, fn)
	if err == nil || errors.Is(err, meshserver.ErrNotFound) || errors.Is(err, meshserver.ErrConflict) || errors.Is(err, meshserver.ErrReplay) {
		return err
	}
	return fmt.Errorf("sqlitestore: %s: %w", what, err)
}

// GetMessage returns meshserver.ErrNotFound for an unknown id.
func (s *MeshStore) GetMessage(ctx context.Context, id string) (meshserver.Message, error) {
	m, err := scanMessage(s.db.queryRow(ctx, qMessageByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("message %s: %w", id, meshserver.ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("sqlitestore: get message %s: %w", id, err)
	}
	return m, nil
}

// AddChunk records a chunk and finalises the message when all are present.
func (s *MeshStore) AddChunk(ctx context.Context, p meshserver.AddChunkParams) (meshserver.Message, error) {
	var m meshserver.Message
	c := p.Chunk
	err := s.tx(ctx, fmt.Sprintf("add chunk %d of %s", c.Number, c.MessageID), func(tx *sql.Tx) error {
		var err error
		m, err = scanMessage(s.db.txQueryRow(ctx, tx, qMessageByID, c.MessageID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("message %s: %w", c.MessageID, meshserver.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if m.Status != meshserver.StatusUploading {
			return fmt.Errorf("message %s is %s: %w", m.ID, m.Status, meshserver.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO mesh_chunks (message_id, n, size, blob_key) VALUES (?, ?, ?, ?)
			ON CONFLICT (message_id, n) DO UPDATE SET size = excluded.size, blob_key = excluded.blob_key`,
			c.MessageID, c.Number, c.Size, c.BlobKey); err != nil {
			return err
		}
		var n int
		var size int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM mesh_chunks WHERE message_id = ?`, c.MessageID).Scan(&n, &size); err != nil {
			return err
		}
		m.Size = size
		if n >= m.TotalChunks {
			m.Status, m.StatusAt, m.ExpiresAt = meshserver.StatusAccepted, p.Now, p.ExpiresAt
		}
		_, err = tx.ExecContext(ctx, `UPDATE mesh_messages SET size = ?, status = ?, status_at = ?, expires_at = ? WHERE id = ?`,
			m.Size, m.Status, toMicros(m.StatusAt), toMicros(m.ExpiresAt), m.ID)
		return err
	})
	return m, err
}

// GetChunk returns a chunk record.
func (s *MeshStore) GetChunk(ctx context.Context, messageID string, n int) (meshserver.Chunk, error) {
	c := meshserver.Chunk{MessageID: messageID, Number: n}
	err := s.db.queryRow(ctx, qChunk, messageID, n).Scan(&c.Size, &c.BlobKey)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("chunk %d of %s: %w", n, messageID, meshserver.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("sqlitestore: get chunk %d of %s: %w", n, messageID, err)
	}
	return c, nil
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func filterSQL(f meshserver.WorkflowFilter) (string, []any) {
	var cond string
	var arg string
	switch f.Op {
	case meshserver.FilterEquals:
		cond, arg = "workflow_id = ?", f.Value
	case meshserver.FilterPrefix:
		cond, arg = `workflow_id LIKE ? ESCAPE '\'`, likeEscape(f.Value)+"%"
	case meshserver.FilterContains:
		cond, arg = `workflow_id LIKE ? ESCAPE '\'`, "%"+likeEscape(f.Value)+"%"
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
	q := `SELECT ` + messageCols + ` FROM mesh_messages WHERE recipient = ? AND status = ? AND id > ?`
	args := []any{p.Mailbox, meshserver.StatusAccepted, p.After}
	fq, fargs := filterSQL(p.Filter)
	q += fq
	args = append(args, fargs...)
	q += ` ORDER BY id LIMIT ?`
	args = append(args, max(p.Limit, 1))
	return s.queryMessages(ctx, "list inbox", q, args...)
}

func (s *MeshStore) queryMessages(ctx context.Context, what, q string, args ...any) ([]meshserver.Message, error) {
	rows, err := s.db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: %s: %w", what, err)
	}
	defer rows.Close()
	var out []meshserver.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: %s: %w", what, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: %s: %w", what, err)
	}
	return out, nil
}

// CountInbox counts accepted messages addressed to mailbox.
func (s *MeshStore) CountInbox(ctx context.Context, mailbox string) (int, error) {
	var n int
	err := s.db.queryRow(ctx, `SELECT count(*) FROM mesh_messages WHERE recipient = ? AND status = ?`, mailbox, meshserver.StatusAccepted).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: count inbox: %w", err)
	}
	return n, nil
}

// InboxUsage counts the uploading and accepted messages addressed to
// mailbox and sums their sizes (index mesh_messages_inbox on recipient,
// status).
func (s *MeshStore) InboxUsage(ctx context.Context, mailbox string) (meshserver.Usage, error) {
	var u meshserver.Usage
	err := s.db.queryRow(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM mesh_messages WHERE recipient = ? AND status IN (?, ?)`,
		mailbox, meshserver.StatusAccepted, meshserver.StatusUploading).Scan(&u.Messages, &u.Bytes)
	if err != nil {
		return u, fmt.Errorf("sqlitestore: inbox usage: %w", err)
	}
	return u, nil
}

// ListMessages lists messages newest first.
func (s *MeshStore) ListMessages(ctx context.Context, p meshserver.ListMessagesParams) ([]meshserver.Message, error) {
	q := `SELECT ` + messageCols + ` FROM mesh_messages WHERE 1 = 1`
	var args []any
	if p.Recipient != "" {
		q += ` AND recipient = ?`
		args = append(args, p.Recipient)
	}
	if p.Sender != "" {
		q += ` AND sender = ?`
		args = append(args, p.Sender)
	}
	if !p.Since.IsZero() {
		q += ` AND created_at >= ?`
		args = append(args, toMicros(p.Since))
	}
	if p.Before != "" {
		q += ` AND id < ?`
		args = append(args, p.Before)
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 1000
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	return s.queryMessages(ctx, "list messages", q, args...)
}

// FindByLocalID lists the sender's messages with a local id.
func (s *MeshStore) FindByLocalID(ctx context.Context, sender, localID string) ([]meshserver.Message, error) {
	return s.queryMessages(ctx, "find by local id",
		`SELECT `+messageCols+` FROM mesh_messages WHERE sender = ? AND local_id = ? AND message_type = ? ORDER BY id`,
		sender, localID, meshserver.TypeData)
}

// UpdateStatus moves a message between statuses.
func (s *MeshStore) UpdateStatus(ctx context.Context, p meshserver.UpdateStatusParams) (meshserver.Message, error) {
	var m meshserver.Message
	err := s.tx(ctx, "update status of "+p.ID, func(tx *sql.Tx) error {
		var err error
		m, err = scanMessage(s.db.txQueryRow(ctx, tx, qMessageByID, p.ID))
		if errors.Is(err, sql.ErrNoRows) {
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
		_, err = s.db.txExec(ctx, tx, qUpdateStatus,
			m.Status, m.StatusCode, m.StatusEvent, m.StatusDescription, toMicros(m.StatusAt), toMicros(m.AckedAt), m.ID)
		return err
	})
	return m, err
}

// ExpireDue expires due messages and stores their reports atomically.
func (s *MeshStore) ExpireDue(ctx context.Context, p meshserver.ExpireParams) ([]meshserver.Message, error) {
	var out []meshserver.Message
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	err := s.tx(ctx, "expire messages", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+messageCols+` FROM mesh_messages
			WHERE status IN (?, ?) AND expires_at > 0 AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
			meshserver.StatusAccepted, meshserver.StatusUploading, toMicros(p.Now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, m := range out {
			m.Status, m.StatusAt = meshserver.StatusUndeliverable, p.Now
			m.StatusCode, m.StatusEvent = "14", "SEND"
			m.StatusDescription = "Message not collected by recipient after 5 days"
			if p.Report != nil {
				r := p.Report(m)
				m.StatusCode, m.StatusEvent, m.StatusDescription = r.StatusCode, r.StatusEvent, r.StatusDescription
				if err := s.insertMessage(ctx, tx, r); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE mesh_messages SET status = ?, status_code = ?, status_event = ?,
				status_description = ?, status_at = ? WHERE id = ?`,
				m.Status, m.StatusCode, m.StatusEvent, m.StatusDescription, toMicros(m.StatusAt), m.ID); err != nil {
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
	rows, err := s.db.read.QueryContext(ctx, `SELECT status, count(*) FROM mesh_messages GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: count by status: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("sqlitestore: count by status: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// deleteWhere deletes the messages a WHERE clause selects (in one
// transaction) and returns their ids and chunk blob keys.
func (s *MeshStore) deleteWhere(ctx context.Context, what, where string, args ...any) (meshserver.Deleted, error) {
	var d meshserver.Deleted
	err := s.tx(ctx, what, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM mesh_messages `+where, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			d.IDs = append(d.IDs, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range d.IDs {
			krows, err := tx.QueryContext(ctx, `SELECT blob_key FROM mesh_chunks WHERE message_id = ? ORDER BY n`, id)
			if err != nil {
				return err
			}
			for krows.Next() {
				var k string
				if err := krows.Scan(&k); err != nil {
					krows.Close()
					return err
				}
				d.BlobKeys = append(d.BlobKeys, k)
			}
			krows.Close()
			if err := krows.Err(); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM mesh_messages WHERE id = ?`, id); err != nil {
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
	if mailbox == "" {
		return s.deleteWhere(ctx, "delete messages", ``)
	}
	return s.deleteWhere(ctx, "delete messages", `WHERE sender = ? OR recipient = ?`, mailbox, mailbox)
}

// PurgeMessages deletes finished messages and old reports. The two
// conditions each have an index (mesh_0002) and no order is asked for, so
// a pass reads only the rows it deletes however full the store is.
func (s *MeshStore) PurgeMessages(ctx context.Context, before time.Time, limit int) (meshserver.Deleted, error) {
	if limit <= 0 {
		limit = 500
	}
	// Each side names its partial index (mesh_0002), whose condition it
	// repeats literally; the union removes a report listed twice.
	return s.deleteWhere(ctx, "purge messages", `WHERE id IN (
		SELECT id FROM (SELECT id FROM mesh_messages INDEXED BY mesh_messages_finished
			WHERE `+finishedCond+` AND status_at < ? LIMIT ?)
		UNION
		SELECT id FROM (SELECT id FROM mesh_messages INDEXED BY mesh_messages_reports
			WHERE `+reportCond+` AND created_at < ? LIMIT ?)
		LIMIT ?)`,
		toMicros(before), limit, toMicros(before), limit, limit)
}

// The conditions of the partial indexes of mesh_0002, spelled as there.
const (
	finishedCond = `status IN ('` + meshserver.StatusAcknowledged + `', '` + meshserver.StatusUndeliverable + `', '` + meshserver.StatusError + `')`
	reportCond   = `message_type = '` + meshserver.TypeReport + `'`
)

// UseNonce records a token; meshserver.ErrReplay if seen before. It is
// committed with the other writes of its batch; a batch of tokens alone is
// committed without an fsync (a power cut may forget the last few tokens,
// whose 2-hour window then bounds any replay; a process crash loses none).
func (s *MeshStore) UseNonce(ctx context.Context, p meshserver.UseNonceParams) error {
	err := s.db.batch.doLazy(ctx, func(tx *sql.Tx) error {
		_, err := s.db.txExec(ctx, tx, qInsertNonce, p.Mailbox, p.Nonce, p.Count, toMicros(p.At))
		if isUniqueViolation(err) {
			return meshserver.ErrReplay
		}
		return err
	})
	if err == nil || errors.Is(err, meshserver.ErrReplay) {
		return err
	}
	return fmt.Errorf("sqlitestore: use nonce: %w", err)
}

// PruneNonces forgets tokens used before the given time.
func (s *MeshStore) PruneNonces(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.write.ExecContext(ctx, `DELETE FROM mesh_nonces WHERE used_at < ?`, toMicros(before))
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: prune nonces: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PutPatient creates or replaces a patient register row.
func (s *MeshStore) PutPatient(ctx context.Context, p meshserver.Patient) error {
	_, err := s.db.write.ExecContext(ctx, `INSERT INTO mesh_patients (nhs_number, birth_date, surname, practice_ods)
		VALUES (?, ?, ?, ?) ON CONFLICT (nhs_number) DO UPDATE SET birth_date = excluded.birth_date,
		surname = excluded.surname, practice_ods = excluded.practice_ods`,
		p.NHSNumber, p.BirthDate, p.Surname, p.PracticeODS)
	if err != nil {
		return fmt.Errorf("sqlitestore: put patient: %w", err)
	}
	return nil
}

// GetPatient returns meshserver.ErrNotFound for an unknown NHS number. The
// error never carries the number itself.
func (s *MeshStore) GetPatient(ctx context.Context, nhsNumber string) (meshserver.Patient, error) {
	p := meshserver.Patient{NHSNumber: nhsNumber}
	err := s.db.read.QueryRowContext(ctx, `SELECT birth_date, surname, practice_ods FROM mesh_patients WHERE nhs_number = ?`, nhsNumber).
		Scan(&p.BirthDate, &p.Surname, &p.PracticeODS)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("patient: %w", meshserver.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("sqlitestore: get patient: %w", err)
	}
	return p, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
