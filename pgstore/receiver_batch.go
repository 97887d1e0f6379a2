package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpcm/gpcm/receiver"
)

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
// the items before it are committed. A deadlock with another process runs
// the whole batch again.
func (s *ReceiverStore) CompleteMessages(ctx context.Context, ps []receiver.CompleteParams) ([]receiver.Document, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	var (
		docs []receiver.Document
		stop error
	)
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		docs, stop = docs[:0], nil
		for _, p := range ps {
			sp, err := tx.Begin(ctx)
			if err != nil {
				return err
			}
			doc, err := s.completeOne(ctx, sp, p)
			if err != nil {
				_ = sp.Rollback(ctx)
				if !refused(err) {
					return err
				}
				stop = err
				return nil
			}
			if err := sp.Commit(ctx); err != nil {
				return err
			}
			docs = append(docs, doc)
		}
		return nil
	})
	if err != nil {
		return nil, rcvErr(fmt.Sprintf("complete %d messages", len(ps)), err)
	}
	return docs, stop
}

// completeOne applies one outcome inside the batch transaction, holding
// the message row locked.
func (s *ReceiverStore) completeOne(ctx context.Context, tx pgx.Tx, p receiver.CompleteParams) (receiver.Document, error) {
	var doc receiver.Document
	var state, owner string
	err := tx.QueryRow(ctx, `SELECT state, lease_owner FROM receiver_messages WHERE id = $1 FOR UPDATE`, p.ID).Scan(&state, &owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return doc, fmt.Errorf("complete message %d: %w", p.ID, receiver.ErrNotFound)
	}
	if err != nil {
		return doc, err
	}
	if state != string(receiver.MessageReceived) || owner != p.Owner {
		return doc, fmt.Errorf("complete message %d: not claimed by this worker: %w", p.ID, receiver.ErrConflict)
	}
	for _, k := range p.Keys {
		tag, err := tx.Exec(ctx, `INSERT INTO receiver_message_keys (key, message_id) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, k, p.ID)
		if err != nil {
			return doc, err
		}
		if tag.RowsAffected() == 1 {
			continue
		}
		// The key was there (or a concurrent holder committed it first):
		// this message is not completed yet, so another message holds it.
		var holder int64
		if err := tx.QueryRow(ctx, `SELECT message_id FROM receiver_message_keys WHERE key = $1`, k).Scan(&holder); err != nil {
			return doc, err
		}
		return doc, fmt.Errorf("message %d repeats message %d: %w", p.ID, holder, receiver.ErrDuplicateMessage)
	}
	now := micros(p.Now)
	if d := p.Document; d != nil {
		var replaces int64
		if t := d.ReplacesIdentifier; t != "" {
			// The newest document with that identifier from the same
			// sending organisation for the same patient.
			err := tx.QueryRow(ctx, `SELECT id FROM receiver_documents WHERE (document_id = $1 OR doc_bundle_id = $1 OR message_bundle_id = $1)
				AND nhs_number = $2 AND (($3 <> '' AND sender_ods = $3) OR (sender_ods = '' AND sender = $4))
				ORDER BY id DESC LIMIT 1 FOR UPDATE`, t, d.Patient.NHSNumber, d.SenderODS, d.From).Scan(&replaces)
			if errors.Is(err, pgx.ErrNoRows) {
				return doc, fmt.Errorf("message %d: %w", p.ID, receiver.ErrReplacementTarget)
			}
			if err != nil {
				return doc, err
			}
		}
		findings, err := json.Marshal(rcvNonNil(d.Findings))
		if err != nil {
			return doc, err
		}
		meshFindings, err := json.Marshal(rcvNonNil(d.MeshFindings))
		if err != nil {
			return doc, err
		}
		atts, err := json.Marshal(rcvStoredAtts(d.Attachments))
		if err != nil {
			return doc, err
		}
		// The unique index on document_id refuses a repeated document, also
		// one a concurrent process filed first.
		err = tx.QueryRow(ctx, `INSERT INTO receiver_documents (message_id, document_id, doc_bundle_id, message_bundle_id, state,
			subject, type_label, recipient_type, nhs_number, birth_date, family, given, version, sender_reference, sender, replacement,
			replaces_id, match_reason, busack_code, confirmed_ack_code, hold_until, findings, attachments, created_at, updated_at,
			mesh_findings, sender_ods, filed_by, filed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $24, $25, $26, $27, $28)
			RETURNING id`,
			p.ID, d.DocumentID, d.DocBundleID, d.MessageBundleID, string(d.State), d.Subject, d.TypeLabel, d.RecipientType,
			d.Patient.NHSNumber, d.Patient.BirthDate, d.Patient.Family, d.Patient.Given, d.Version, d.SenderReference, d.From,
			replaces != 0, replaces, d.MatchReason, d.BusAckCode, d.ConfirmedAckCode, micros(d.HoldUntil),
			string(findings), string(atts), now, string(meshFindings), d.SenderODS, d.FiledBy, filedAt(d, now)).Scan(&doc.ID)
		if isUniqueViolation(err) {
			return doc, fmt.Errorf("message %d: %w", p.ID, receiver.ErrDuplicateDocument)
		}
		if err != nil {
			return doc, err
		}
		if err := rcvAddEvents(ctx, tx, doc.ID, now, d.Events); err != nil {
			return doc, err
		}
		if replaces != 0 {
			if _, err := tx.Exec(ctx, `UPDATE receiver_documents SET replaced_by_id = $1, updated_at = $2 WHERE id = $3`, doc.ID, now, replaces); err != nil {
				return doc, err
			}
			if err := rcvArchiveReplaced(ctx, tx, d.State, replaces, doc.ID, now, ""); err != nil {
				return doc, err
			}
		}
	}
	if v := p.Void; v != nil && v.Identifier != "" {
		// Each voided document gets its history event in the same statement.
		if _, err := tx.Exec(ctx, `WITH v AS (UPDATE receiver_documents SET state = $1, reason = $2, updated_at = $3
			WHERE (document_id = $4 OR doc_bundle_id = $4 OR message_bundle_id = $4)
			AND (($5 <> '' AND sender_ods = $5) OR (sender_ods = '' AND sender = $6)) AND state = ANY($7) RETURNING id)
			INSERT INTO receiver_document_events (document_id, at, kind, detail) SELECT id, $3, $8, $2 FROM v ORDER BY id`,
			string(receiver.DocVoid), v.Reason, now, v.Identifier, v.SenderODS, v.From,
			[]string{string(receiver.DocAwaitingFiling), string(receiver.DocHeld), string(receiver.DocFiled)}, string(receiver.EventVoid)); err != nil {
			return doc, fmt.Errorf("pgstore: complete message %d: void the document it replaces: %w", p.ID, err)
		}
	}
	if err := rcvInsertAcks(ctx, tx, p.ID, p.Acks, now); err != nil {
		return doc, err
	}
	if _, err := tx.Exec(ctx, `UPDATE receiver_messages SET state = $1, lease_owner = '', lease_until = 0, header_id = $2,
		bundle_identifier = $3, sender_reference = $4, busack_requested = $5, infack_code = $6, processed_at = $7, last_error = '' WHERE id = $8`,
		string(p.State), p.HeaderID, p.BundleIdentifier, p.SenderReference, p.BusAckRequested, p.InfAckCode, now, p.ID); err != nil {
		return doc, err
	}
	if doc.ID != 0 {
		return rcvGetDoc(ctx, tx, doc.ID, "")
	}
	return doc, nil
}

// loadPayloads fills in the payloads kept for the messages, in one query.
func (s *ReceiverStore) loadPayloads(ctx context.Context, ms []receiver.Message) error {
	if len(ms) == 0 {
		return nil
	}
	byID := make(map[int64]*receiver.Message, len(ms))
	ids := make([]int64, len(ms))
	for i := range ms {
		byID[ms[i].ID] = &ms[i]
		ids[i] = ms[i].ID
	}
	rows, err := s.db.pool.Query(ctx, `SELECT message_id, payload FROM receiver_payloads WHERE message_id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("load %d payloads: %w", len(ms), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return fmt.Errorf("load %d payloads: %w", len(ms), err)
		}
		if b == nil {
			b = []byte{}
		}
		byID[id].Payload = b
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load %d payloads: %w", len(ms), err)
	}
	return nil
}

// KnownMeshIDs looks the ids up in one query.
func (s *ReceiverStore) KnownMeshIDs(ctx context.Context, meshIDs []string) (map[string]bool, error) {
	out := make(map[string]bool, len(meshIDs))
	if len(meshIDs) == 0 {
		return out, nil
	}
	rows, err := s.db.pool.Query(ctx, `SELECT mesh_id, mesh_acked FROM receiver_messages WHERE mesh_id = ANY($1)`, meshIDs)
	if err != nil {
		return nil, fmt.Errorf("pgstore: look up %d MESH ids: %w", len(meshIDs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var acked bool
		if err := rows.Scan(&id, &acked); err != nil {
			return nil, fmt.Errorf("pgstore: look up %d MESH ids: %w", len(meshIDs), err)
		}
		out[id] = acked
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: look up %d MESH ids: %w", len(meshIDs), err)
	}
	return out, nil
}

// MessagePayload returns the payload kept in the database.
func (s *ReceiverStore) MessagePayload(ctx context.Context, meshID string) ([]byte, error) {
	var b []byte
	err := s.db.pool.QueryRow(ctx, `SELECT p.payload FROM receiver_payloads p JOIN receiver_messages m ON m.id = p.message_id
		WHERE m.mesh_id = $1`, meshID).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("payload of message %s: %w", meshID, receiver.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: payload of message %s: %w", meshID, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// MarkAcksSent records several sent acks in one statement.
func (s *ReceiverStore) MarkAcksSent(ctx context.Context, sent []receiver.AckSent, now time.Time) error {
	if len(sent) == 0 {
		return nil
	}
	ids := make([]int64, len(sent))
	meshIDs := make([]string, len(sent))
	for i, a := range sent {
		ids[i], meshIDs[i] = a.ID, a.MeshID
	}
	if _, err := s.db.pool.Exec(ctx, `UPDATE receiver_acks a SET sent_at = $1, mesh_id = u.mesh_id, lease_owner = '', lease_until = 0, last_error = ''
		FROM unnest($2::bigint[], $3::text[]) AS u(id, mesh_id) WHERE a.id = u.id AND a.sent_at = 0`, micros(now), ids, meshIDs); err != nil {
		return fmt.Errorf("pgstore: mark %d acks sent: %w", len(sent), err)
	}
	return nil
}

// filedAt is when a document created filed (auto-filed) was filed: now;
// 0 for any other state.
func filedAt(d *receiver.NewDocument, now int64) int64 {
	if d.State == receiver.DocFiled {
		return now
	}
	return 0
}
