package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gpcm/gpcm/receiver"
)

// txStmts prepares each distinct statement once per transaction: a batch
// runs the same few statements for every item, and parsing them again each
// time was a large part of a completion's cost.
type txStmts struct {
	tx *sql.Tx
	m  map[string]*sql.Stmt
}

func newTxStmts(tx *sql.Tx) *txStmts { return &txStmts{tx: tx, m: map[string]*sql.Stmt{}} }

func (c *txStmts) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	st, err := c.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.m[q] = st
	return st, nil
}

// ExecContext runs q as a prepared statement of the transaction.
func (c *txStmts) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryRowContext runs q as a prepared statement of the transaction; a
// failed prepare is reported by the row's Scan.
func (c *txStmts) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, q)
	if err != nil {
		// Let the transaction report the same error through a Row.
		return c.tx.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (c *txStmts) closeAll() {
	for _, st := range c.m {
		_ = st.Close()
	}
}

// refused reports an error CompleteMessage returns for one item whose
// outcome cannot be recorded as given (the caller decides again).
func refused(err error) bool {
	for _, s := range []error{receiver.ErrNotFound, receiver.ErrConflict, receiver.ErrDuplicateMessage,
		receiver.ErrDuplicateDocument, receiver.ErrReplacementTarget} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// CompleteMessages records several outcomes in order in one transaction;
// each item runs inside a savepoint, so a refused item leaves no trace and
// the items before it are committed.
func (s *ReceiverStore) CompleteMessages(ctx context.Context, ps []receiver.CompleteParams) (docs []receiver.Document, err error) {
	if len(ps) == 0 {
		return nil, nil
	}
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: complete %d messages: %w", len(ps), err)
	}
	defer func() {
		if err != nil && !refused(err) {
			_ = tx.Rollback()
		}
	}()
	st := newTxStmts(tx)
	defer st.closeAll()
	var stop error
	for _, p := range ps {
		if _, err = tx.ExecContext(ctx, `SAVEPOINT rcv_item`); err != nil {
			return nil, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
		}
		var doc receiver.Document
		doc, err = s.completeOne(ctx, st, p)
		if err != nil {
			if !refused(err) {
				return nil, err
			}
			if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO rcv_item`); rerr != nil {
				err = fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, rerr)
				return nil, err
			}
			stop = err
		}
		if _, err = tx.ExecContext(ctx, `RELEASE rcv_item`); err != nil {
			return nil, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
		}
		if stop != nil {
			break
		}
		docs = append(docs, doc)
	}
	if err = tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlitestore: complete %d messages: %w", len(ps), err)
	}
	return docs, stop
}

// completeOne applies one outcome inside the batch transaction.
func (s *ReceiverStore) completeOne(ctx context.Context, st *txStmts, p receiver.CompleteParams) (doc receiver.Document, err error) {
	var state, owner string
	err = st.QueryRowContext(ctx, `SELECT state, lease_owner FROM receiver_messages WHERE id = ?`, p.ID).Scan(&state, &owner)
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
		res, err := st.ExecContext(ctx, `INSERT INTO receiver_message_keys (key, message_id) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, k, p.ID)
		if err != nil {
			return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			continue
		}
		// The key was there before: this message is not completed yet, so
		// another message holds it.
		var holder int64
		if err := st.QueryRowContext(ctx, `SELECT message_id FROM receiver_message_keys WHERE key = ?`, k).Scan(&holder); err != nil {
			return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
		}
		return doc, fmt.Errorf("message %d repeats message %d: %w", p.ID, holder, receiver.ErrDuplicateMessage)
	}
	now := toMicros(p.Now)
	if d := p.Document; d != nil {
		var replaces int64
		if t := d.ReplacesIdentifier; t != "" {
			// The newest document with that identifier from the same
			// sending organisation for the same patient.
			err = st.QueryRowContext(ctx, `SELECT id FROM receiver_documents WHERE (document_id = ? OR doc_bundle_id = ? OR message_bundle_id = ?)
				AND nhs_number = ? AND ((? <> '' AND sender_ods = ?) OR (sender_ods = '' AND sender = ?))
				ORDER BY id DESC LIMIT 1`, t, t, t, d.Patient.NHSNumber, d.SenderODS, d.SenderODS, d.From).Scan(&replaces)
			if errors.Is(err, sql.ErrNoRows) {
				return doc, fmt.Errorf("message %d: %w", p.ID, receiver.ErrReplacementTarget)
			}
			if err != nil {
				return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
			}
		}
		findings, _ := json.Marshal(rcvNonNil(d.Findings))
		meshFindings, _ := json.Marshal(rcvNonNil(d.MeshFindings))
		atts, _ := json.Marshal(rcvStoredAtts(d.Attachments))
		// The unique index on document_id refuses a repeated document.
		res, err := st.ExecContext(ctx, `INSERT INTO receiver_documents (message_id, document_id, doc_bundle_id, message_bundle_id, state,
			subject, type_label, recipient_type, nhs_number, birth_date, family, given, version, sender_reference, sender, replacement,
			replaces_id, match_reason, busack_code, confirmed_ack_code, hold_until, findings, attachments, created_at, updated_at,
			mesh_findings, sender_ods, filed_by, filed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, d.DocumentID, d.DocBundleID, d.MessageBundleID, string(d.State), d.Subject, d.TypeLabel, d.RecipientType,
			d.Patient.NHSNumber, d.Patient.BirthDate, d.Patient.Family, d.Patient.Given, d.Version, d.SenderReference, d.From,
			boolInt(replaces != 0), replaces, d.MatchReason, d.BusAckCode, d.ConfirmedAckCode, toMicros(d.HoldUntil),
			string(findings), string(atts), now, now, string(meshFindings), d.SenderODS, d.FiledBy, filedAt(d, now))
		if isUniqueViolation(err) {
			return doc, fmt.Errorf("message %d: %w", p.ID, receiver.ErrDuplicateDocument)
		}
		if err != nil {
			return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
		}
		doc.ID, _ = res.LastInsertId()
		if err := rcvAddEvents(ctx, st, doc.ID, now, d.Events); err != nil {
			return doc, err
		}
		if replaces != 0 {
			if _, err := st.ExecContext(ctx, `UPDATE receiver_documents SET replaced_by_id = ?, updated_at = ? WHERE id = ?`, doc.ID, now, replaces); err != nil {
				return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
			}
			if err := rcvArchiveReplaced(ctx, st, d.State, replaces, doc.ID, now, ""); err != nil {
				return doc, err
			}
		}
	}
	if v := p.Void; v != nil && v.Identifier != "" {
		if err := s.voidReplaced(ctx, st, p.ID, v, now); err != nil {
			return doc, err
		}
	}
	if err := rcvInsertAcks(ctx, st, p.ID, p.Acks, now); err != nil {
		return doc, err
	}
	if _, err := st.ExecContext(ctx, `UPDATE receiver_messages SET state = ?, lease_owner = '', lease_until = 0, header_id = ?,
		bundle_identifier = ?, sender_reference = ?, busack_requested = ?, infack_code = ?, processed_at = ?, last_error = '' WHERE id = ?`,
		string(p.State), p.HeaderID, p.BundleIdentifier, p.SenderReference, boolInt(p.BusAckRequested), p.InfAckCode, now, p.ID); err != nil {
		return doc, fmt.Errorf("sqlitestore: complete message %d: %w", p.ID, err)
	}
	if doc.ID != 0 {
		return rcvGetDoc(ctx, st, doc.ID)
	}
	return doc, nil
}

// loadPayloads fills in the payloads kept for the messages, in one query.
func (s *ReceiverStore) loadPayloads(ctx context.Context, ms []receiver.Message) error {
	if len(ms) == 0 {
		return nil
	}
	byID := make(map[int64]*receiver.Message, len(ms))
	args := make([]any, len(ms))
	for i := range ms {
		byID[ms[i].ID] = &ms[i]
		args[i] = ms[i].ID
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT message_id, payload FROM receiver_payloads WHERE message_id IN (?`+
		strings.Repeat(", ?", len(ms)-1)+`)`, args...)
	if err != nil {
		return fmt.Errorf("sqlitestore: load %d payloads: %w", len(ms), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return fmt.Errorf("sqlitestore: load %d payloads: %w", len(ms), err)
		}
		if b == nil {
			b = []byte{}
		}
		byID[id].Payload = b
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlitestore: load %d payloads: %w", len(ms), err)
	}
	return nil
}

// KnownMeshIDs looks the ids up in one query.
func (s *ReceiverStore) KnownMeshIDs(ctx context.Context, meshIDs []string) (map[string]bool, error) {
	return s.meshIDFlags(ctx, `SELECT mesh_id, mesh_acked FROM receiver_messages WHERE mesh_id IN `, meshIDs, "MESH ids")
}

// meshIDFlags runs q (selecting a MESH id and a 0/1 flag, ending in "IN ")
// over meshIDs in one query and maps each id found to its flag.
func (s *ReceiverStore) meshIDFlags(ctx context.Context, q string, meshIDs []string, what string) (map[string]bool, error) {
	out := make(map[string]bool, len(meshIDs))
	if len(meshIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(meshIDs))
	for i, id := range meshIDs {
		args[i] = id
	}
	rows, err := s.db.read.QueryContext(ctx, q+`(?`+strings.Repeat(", ?", len(meshIDs)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: look up %d %s: %w", len(meshIDs), what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var flag int
		if err := rows.Scan(&id, &flag); err != nil {
			return nil, fmt.Errorf("sqlitestore: look up %d %s: %w", len(meshIDs), what, err)
		}
		out[id] = flag != 0
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: look up %d %s: %w", len(meshIDs), what, err)
	}
	return out, nil
}

// MessagePayload returns the payload kept in the database.
func (s *ReceiverStore) MessagePayload(ctx context.Context, meshID string) ([]byte, error) {
	var b []byte
	err := s.db.read.QueryRowContext(ctx, `SELECT p.payload FROM receiver_payloads p JOIN receiver_messages m ON m.id = p.message_id
		WHERE m.mesh_id = ?`, meshID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("payload of message %s: %w", meshID, receiver.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: payload of message %s: %w", meshID, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// MarkAcksSent records several sent acks in one transaction.
func (s *ReceiverStore) MarkAcksSent(ctx context.Context, sent []receiver.AckSent, now time.Time) (err error) {
	if len(sent) == 0 {
		return nil
	}
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: mark %d acks sent: %w", len(sent), err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	st := newTxStmts(tx)
	defer st.closeAll()
	for _, a := range sent {
		if _, err = st.ExecContext(ctx, `UPDATE receiver_acks SET sent_at = ?, mesh_id = ?, lease_owner = '', lease_until = 0, last_error = ''
			WHERE id = ? AND sent_at = 0`, toMicros(now), a.MeshID, a.ID); err != nil {
			return fmt.Errorf("sqlitestore: mark ack %d sent: %w", a.ID, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: mark %d acks sent: %w", len(sent), err)
	}
	return nil
}

func rcvBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// filedAt is when a document created filed (auto-filed) was filed: now;
// 0 for any other state.
func filedAt(d *receiver.NewDocument, now int64) int64 {
	if d.State == receiver.DocFiled {
		return now
	}
	return 0
}

// voidReplaced voids the documents a failed replacement named, each with
// its history event.
func (s *ReceiverStore) voidReplaced(ctx context.Context, st *txStmts, msgID int64, v *receiver.VoidTarget, now int64) error {
	rows, err := st.tx.QueryContext(ctx, `UPDATE receiver_documents SET state = ?, reason = ?, updated_at = ?
		WHERE (document_id = ? OR doc_bundle_id = ? OR message_bundle_id = ?)
		AND ((? <> '' AND sender_ods = ?) OR (sender_ods = '' AND sender = ?)) AND state IN (?, ?, ?) RETURNING id`,
		string(receiver.DocVoid), v.Reason, now, v.Identifier, v.Identifier, v.Identifier, v.SenderODS, v.SenderODS, v.From,
		string(receiver.DocAwaitingFiling), string(receiver.DocHeld), string(receiver.DocFiled))
	if err != nil {
		return fmt.Errorf("sqlitestore: complete message %d: void the document it replaces: %w", msgID, err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("sqlitestore: complete message %d: void the document it replaces: %w", msgID, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlitestore: complete message %d: void the document it replaces: %w", msgID, err)
	}
	for _, id := range ids {
		if err := rcvAddEvents(ctx, st, id, now, []receiver.NewDocumentEvent{{Kind: receiver.EventVoid, Detail: v.Reason}}); err != nil {
			return err
		}
	}
	return nil
}
