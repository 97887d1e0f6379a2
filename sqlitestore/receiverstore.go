package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gpcm/gpcm/receiver"
)

var _ receiver.Store = (*ReceiverStore)(nil)

// ReceiverStore implements receiver.Store on a DB. Claims are single
// UPDATE … RETURNING statements, so several processes could share the work
// (on SQLite they serialise on the one writer).
type ReceiverStore struct{ db *DB }

// Receiver returns the Generic FHIR Receiver's store on db.
func (db *DB) Receiver() *ReceiverStore { return &ReceiverStore{db: db} }

type rcvScanner interface{ Scan(...any) error }

const rmsgCols = `id, mesh_id, workflow_id, sender, recipient, subject, local_id, blob_key, size, received_at, mesh_acked,
	state, attempts, last_error, header_id, bundle_identifier, sender_reference, busack_requested, infack_code, processed_at`

func scanRMsg(sc rcvScanner) (receiver.Message, error) {
	var m receiver.Message
	var recv, proc int64
	var acked, busreq int
	var state string
	err := sc.Scan(&m.ID, &m.MeshID, &m.WorkflowID, &m.From, &m.To, &m.Subject, &m.LocalID, &m.BlobKey, &m.Size, &recv, &acked,
		&state, &m.Attempts, &m.LastError, &m.HeaderID, &m.BundleIdentifier, &m.SenderReference, &busreq, &m.InfAckCode, &proc)
	m.ReceivedAt, m.ProcessedAt = fromMicros(recv), fromMicros(proc)
	m.MeshAcked, m.BusAckRequested, m.State = acked != 0, busreq != 0, receiver.MessageState(state)
	return m, err
}

// RecordMessages stores downloaded messages once per MESH id, in one
// transaction.
func (s *ReceiverStore) RecordMessages(ctx context.Context, ps []receiver.RecordMessageParams) (out []receiver.Recorded, err error) {
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: record messages: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, p := range ps {
		var res sql.Result
		res, err = tx.ExecContext(ctx, `INSERT INTO receiver_messages (mesh_id, workflow_id, sender, recipient, subject, local_id,
			blob_key, size, received_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mesh_id) DO NOTHING`,
			p.MeshID, p.WorkflowID, p.From, p.To, p.Subject, p.LocalID, p.BlobKey, p.Size, toMicros(p.ReceivedAt), string(receiver.MessageReceived))
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: record message %s: %w", p.MeshID, err)
		}
		n, _ := res.RowsAffected()
		var m receiver.Message
		if m, err = s.getMsg(ctx, tx, `mesh_id = ?`, p.MeshID); err != nil {
			return nil, err
		}
		out = append(out, receiver.Recorded{Message: m, Created: n == 1})
	}
	if err = tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlitestore: record messages: %w", err)
	}
	return out, nil
}

type rcvQuerier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (s *ReceiverStore) getMsg(ctx context.Context, q rcvQuerier, where string, arg any) (receiver.Message, error) {
	m, err := scanRMsg(q.QueryRowContext(ctx, `SELECT `+rmsgCols+` FROM receiver_messages WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("message %v: %w", arg, receiver.ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("sqlitestore: get message %v: %w", arg, err)
	}
	return m, nil
}

// MarkMeshAcked records MESH acknowledgements in one statement.
func (s *ReceiverStore) MarkMeshAcked(ctx context.Context, meshIDs ...string) error {
	if len(meshIDs) == 0 {
		return nil
	}
	args := make([]any, len(meshIDs))
	for i, id := range meshIDs {
		args[i] = id
	}
	q := `UPDATE receiver_messages SET mesh_acked = 1 WHERE mesh_acked = 0 AND mesh_id IN (?` + strings.Repeat(", ?", len(meshIDs)-1) + `)`
	if _, err := s.db.write.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("sqlitestore: mark %d messages acknowledged: %w", len(meshIDs), err)
	}
	return nil
}

func (s *ReceiverStore) listMsgs(ctx context.Context, q string, args ...any) ([]receiver.Message, error) {
	rows, err := s.db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list messages: %w", err)
	}
	defer rows.Close()
	var out []receiver.Message
	for rows.Next() {
		m, err := scanRMsg(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list messages: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// PendingMeshAcks lists stored messages not yet acknowledged on MESH.
func (s *ReceiverStore) PendingMeshAcks(ctx context.Context, limit int) ([]receiver.Message, error) {
	return s.listMsgs(ctx, `SELECT `+rmsgCols+` FROM receiver_messages WHERE mesh_acked = 0 ORDER BY id LIMIT ?`, limit)
}

// GetMessage returns receiver.ErrNotFound for an unknown id.
func (s *ReceiverStore) GetMessage(ctx context.Context, id int64) (receiver.Message, error) {
	return s.getMsg(ctx, s.db.read, `id = ?`, id)
}

// GetMessageByMeshID returns receiver.ErrNotFound for an unknown MESH id.
func (s *ReceiverStore) GetMessageByMeshID(ctx context.Context, meshID string) (receiver.Message, error) {
	return s.getMsg(ctx, s.db.read, `mesh_id = ?`, meshID)
}

// ClaimMessages leases received messages with a free or expired lease.
func (s *ReceiverStore) ClaimMessages(ctx context.Context, p receiver.ClaimParams) ([]receiver.Message, error) {
	now := toMicros(p.Now)
	rows, err := s.db.write.QueryContext(ctx, `UPDATE receiver_messages SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM receiver_messages WHERE state = ? AND lease_until < ? AND next_attempt_at <= ? ORDER BY id LIMIT ?)
		RETURNING `+rmsgCols, p.Owner, toMicros(p.Now.Add(p.Lease)), string(receiver.MessageReceived), now, now, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: claim messages: %w", err)
	}
	defer rows.Close()
	var out []receiver.Message
	for rows.Next() {
		m, err := scanRMsg(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: claim messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: claim messages: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ReleaseMessage ends a claim and schedules a retry.
func (s *ReceiverStore) ReleaseMessage(ctx context.Context, p receiver.ReleaseParams) error {
	res, err := s.db.write.ExecContext(ctx, `UPDATE receiver_messages SET lease_owner = '', lease_until = 0, last_error = ?, next_attempt_at = ?
		WHERE id = ? AND lease_owner = ? AND state = ?`, p.Error, toMicros(p.RetryAt), p.ID, p.Owner, string(receiver.MessageReceived))
	if err != nil {
		return fmt.Errorf("sqlitestore: release message %d: %w", p.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("release message %d: %w", p.ID, receiver.ErrConflict)
	}
	return nil
}

// CompleteMessage records a message's outcome, its duplicate keys, its
// document and its acks in one transaction.
func (s *ReceiverStore) CompleteMessage(ctx context.Context, p receiver.CompleteParams) (doc receiver.Document, err error) {
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var state, owner string
	err = tx.QueryRowContext(ctx, `SELECT state, lease_owner FROM receiver_messages WHERE id = ?`, p.ID).Scan(&state, &owner)
	if errors.Is(err, sql.ErrNoRows) {
		return doc, fmt.Errorf("complete message %d: %w", p.ID, receiver.ErrNotFound)
	}
	if err != nil {
		return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
	}
	if state != string(receiver.MessageReceived) || owner != p.Owner {
		return doc, fmt.Errorf("complete message %d: not claimed by this worker: %w", p.ID, receiver.ErrConflict)
	}
	for _, k := range p.Keys {
		if _, err = tx.ExecContext(ctx, `INSERT INTO receiver_message_keys (key, message_id) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, k, p.ID); err != nil {
			return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
		}
		var holder int64
		if err = tx.QueryRowContext(ctx, `SELECT message_id FROM receiver_message_keys WHERE key = ?`, k).Scan(&holder); err != nil {
			return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
		}
		if holder != p.ID {
			err = fmt.Errorf("message %d repeats message %d: %w", p.ID, holder, receiver.ErrDuplicateMessage)
			return doc, err
		}
	}
	now := toMicros(p.Now)
	if d := p.Document; d != nil {
		if d.DocumentID != "" {
			var n int
			if err = tx.QueryRowContext(ctx, `SELECT count(*) FROM receiver_documents WHERE document_id = ?`, d.DocumentID).Scan(&n); err != nil {
				return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
			}
			if n > 0 {
				err = fmt.Errorf("message %d: %w", p.ID, receiver.ErrDuplicateDocument)
				return doc, err
			}
		}
		var replaces int64
		if t := d.ReplacesIdentifier; t != "" {
			err = tx.QueryRowContext(ctx, `SELECT id FROM receiver_documents WHERE document_id = ? OR doc_bundle_id = ? OR message_bundle_id = ?
				ORDER BY id DESC LIMIT 1`, t, t, t).Scan(&replaces)
			if errors.Is(err, sql.ErrNoRows) {
				err = fmt.Errorf("message %d: %w", p.ID, receiver.ErrReplacementTarget)
				return doc, err
			}
			if err != nil {
				return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
			}
		}
		findings, _ := json.Marshal(rcvNonNil(d.Findings))
		atts, _ := json.Marshal(rcvStoredAtts(d.Attachments))
		var res sql.Result
		res, err = tx.ExecContext(ctx, `INSERT INTO receiver_documents (message_id, document_id, doc_bundle_id, message_bundle_id, state,
			subject, type_label, recipient_type, nhs_number, birth_date, family, given, version, sender_reference, sender, replacement,
			replaces_id, match_reason, busack_code, confirmed_ack_code, hold_until, findings, attachments, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, d.DocumentID, d.DocBundleID, d.MessageBundleID, string(d.State), d.Subject, d.TypeLabel, d.RecipientType,
			d.Patient.NHSNumber, d.Patient.BirthDate, d.Patient.Family, d.Patient.Given, d.Version, d.SenderReference, d.From,
			boolInt(replaces != 0), replaces, d.MatchReason, d.BusAckCode, d.ConfirmedAckCode, toMicros(d.HoldUntil),
			string(findings), string(atts), now, now)
		if isUniqueViolation(err) {
			err = fmt.Errorf("message %d: %w", p.ID, receiver.ErrDuplicateDocument)
			return doc, err
		}
		if err != nil {
			return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
		}
		doc.ID, _ = res.LastInsertId()
		if replaces != 0 {
			if _, err = tx.ExecContext(ctx, `UPDATE receiver_documents SET replaced_by_id = ?, updated_at = ? WHERE id = ?`, doc.ID, now, replaces); err != nil {
				return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
			}
			if err = rcvArchiveReplaced(ctx, tx, d.State, replaces, doc.ID, now); err != nil {
				return doc, err
			}
		}
	}
	if err = rcvInsertAcks(ctx, tx, p.ID, p.Acks, now); err != nil {
		return doc, err
	}
	if _, err = tx.ExecContext(ctx, `UPDATE receiver_messages SET state = ?, lease_owner = '', lease_until = 0, header_id = ?,
		bundle_identifier = ?, sender_reference = ?, busack_requested = ?, infack_code = ?, processed_at = ?, last_error = '' WHERE id = ?`,
		string(p.State), p.HeaderID, p.BundleIdentifier, p.SenderReference, boolInt(p.BusAckRequested), p.InfAckCode, now, p.ID); err != nil {
		return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
	}
	if doc.ID != 0 {
		if doc, err = rcvGetDoc(ctx, tx, doc.ID); err != nil {
			return doc, err
		}
	}
	if err = tx.Commit(); err != nil {
		return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
	}
	return doc, nil
}

// rcvArchiveReplaced archives the replaced document once its replacement is
// in the workflow (awaiting filing or filed).
func rcvArchiveReplaced(ctx context.Context, tx *sql.Tx, newState receiver.DocumentState, oldID, newID, now int64) error {
	if newState != receiver.DocAwaitingFiling && newState != receiver.DocFiled {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE receiver_documents SET state = ?, replaced_by_id = ?, updated_at = ? WHERE id = ? AND state <> ?`,
		string(receiver.DocReplaced), newID, now, oldID, string(receiver.DocReplaced))
	if err != nil {
		return fmt.Errorf("sqlitestore: archive document %d: %w", oldID, err)
	}
	return nil
}

func rcvInsertAcks(ctx context.Context, tx *sql.Tx, msgID int64, acks []receiver.NewAck, now int64) error {
	for _, a := range acks {
		_, err := tx.ExecContext(ctx, `INSERT INTO receiver_acks (message_id, kind, code, recipient, workflow_id, header_id, body, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, msgID, string(a.Kind), a.Code, a.To, a.WorkflowID, a.HeaderID, a.Body, now)
		if isUniqueViolation(err) {
			return fmt.Errorf("message %d already has a %s ack: %w", msgID, a.Kind, receiver.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("sqlitestore: enqueue ack for message %d: %w", msgID, err)
		}
	}
	return nil
}

// CountMessages counts messages per state.
func (s *ReceiverStore) CountMessages(ctx context.Context) (map[receiver.MessageState]int, error) {
	out := map[receiver.MessageState]int{}
	err := s.countBy(ctx, `SELECT state, count(*) FROM receiver_messages GROUP BY state`, func(k string, n int) { out[receiver.MessageState(k)] = n })
	return out, err
}

func (s *ReceiverStore) countBy(ctx context.Context, q string, f func(string, int)) error {
	rows, err := s.db.read.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("sqlitestore: count: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return fmt.Errorf("sqlitestore: count: %w", err)
		}
		f(k, n)
	}
	return rows.Err()
}

func rcvNonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type rcvStoredAtt struct {
	Index       int    `json:"index"`
	Title       string `json:"title"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	BlobKey     string `json:"blobKey"`
}

func rcvStoredAtts(as []receiver.Attachment) []rcvStoredAtt {
	out := make([]rcvStoredAtt, 0, len(as))
	for _, a := range as {
		out = append(out, rcvStoredAtt(a))
	}
	return out
}
