package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gpcm/gpcm/sender"
)

// SenderStore implements sender.Store on a DB.
type SenderStore struct{ db *DB }

var _ sender.Store = (*SenderStore)(nil)

// Sender returns the sender's outbox store on db.
func (db *DB) Sender() *SenderStore { return &SenderStore{db: db} }

const txColumns = `id, idem_key, state, source, workflow_id, ack_workflow_id, mesh_from, mesh_to, subject, local_id,
	header_id, bundle_id, bundle_identifier, document_id, sender_reference, version, replaces_id, resend_of,
	content_type, length(payload), mesh_message_id, attempts, attempt_file, attempt_started_at, next_attempt_at, next_chunk,
	lease_owner, lease_until, created_at, updated_at, sent_at, delivered_at, infack_at, infack_code, busack_at, busack_code,
	infack_due, busack_due, last_tracked_at, last_error, hold_until, send_by, superseded_by, consultation`

type scanner interface{ Scan(...any) error }

func scanTransmission(r scanner) (sender.Transmission, error) {
	var t sender.Transmission
	var state string
	var attemptStarted, nextAttempt, leaseUntil, created, updated, sent, delivered, infAt, busAt, infDue, busDue, tracked, hold, sendBy int64
	err := r.Scan(&t.ID, &t.Key, &state, &t.Source, &t.WorkflowID, &t.AckWorkflowID, &t.From, &t.To, &t.Subject, &t.LocalID,
		&t.HeaderID, &t.BundleID, &t.BundleIdentifier, &t.DocumentID, &t.SenderReference, &t.Version, &t.ReplacesID, &t.ResendOf,
		&t.ContentType, &t.PayloadSize, &t.MeshMessageID, &t.Attempts, &t.AttemptFile, &attemptStarted, &nextAttempt, &t.NextChunk,
		&t.LeaseOwner, &leaseUntil, &created, &updated, &sent, &delivered, &infAt, &t.InfAckCode, &busAt, &t.BusAckCode,
		&infDue, &busDue, &tracked, &t.LastError, &hold, &sendBy, &t.SupersededBy, &t.Consultation)
	if err != nil {
		return t, err
	}
	t.HoldUntil, t.SendBy = fromMicros(hold), fromMicros(sendBy)
	t.State = sender.State(state)
	t.AttemptStartedAt, t.NextAttemptAt, t.LeaseUntil = fromMicros(attemptStarted), fromMicros(nextAttempt), fromMicros(leaseUntil)
	t.CreatedAt, t.UpdatedAt, t.SentAt, t.DeliveredAt = fromMicros(created), fromMicros(updated), fromMicros(sent), fromMicros(delivered)
	t.InfAckAt, t.BusAckAt, t.InfAckDue, t.BusAckDue, t.LastTrackedAt = fromMicros(infAt), fromMicros(busAt), fromMicros(infDue), fromMicros(busDue), fromMicros(tracked)
	return t, nil
}

func queryTransmissions(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]sender.Transmission, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sender.Transmission
	for rows.Next() {
		t, err := scanTransmission(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CreateTransmission inserts t, or returns the transmission already stored
// under t.Key.
func (s *SenderStore) CreateTransmission(ctx context.Context, nt sender.NewTransmission, at time.Time) (sender.Transmission, bool, error) {
	t := nt.Transmission
	if t.ID == "" || t.Key == "" {
		return t, false, errors.New("sqlitestore: CreateTransmission: ID and Key are required")
	}
	if t.State == "" {
		t.State = sender.StateQueued
	}
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return t, false, fmt.Errorf("sqlitestore: create transmission: %w", err)
	}
	defer tx.Rollback()
	existing, err := queryTransmissions(ctx, tx, `SELECT `+txColumns+` FROM sender_transmissions WHERE idem_key = ?`, t.Key)
	if err != nil {
		return t, false, fmt.Errorf("sqlitestore: create transmission: %w", err)
	}
	if len(existing) > 0 {
		return existing[0], false, nil
	}
	var superseded []string
	if nt.Supersede && t.Consultation != "" {
		if superseded, err = supersede(ctx, tx, t, at); err != nil {
			return t, false, err
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sender_transmissions (id, idem_key, state, source, workflow_id, ack_workflow_id,
		mesh_from, mesh_to, subject, local_id, header_id, bundle_id, bundle_identifier, document_id, sender_reference, version,
		replaces_id, resend_of, content_type, payload, input, next_attempt_at, created_at, updated_at, hold_until, send_by, consultation)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Key, string(t.State), t.Source, t.WorkflowID, t.AckWorkflowID, t.From, t.To, t.Subject, t.LocalID,
		t.HeaderID, t.BundleID, t.BundleIdentifier, t.DocumentID, t.SenderReference, t.Version, t.ReplacesID, t.ResendOf,
		t.ContentType, nonNil(nt.Payload), nt.Input, toMicros(t.NextAttemptAt), toMicros(at), toMicros(at), toMicros(t.HoldUntil), toMicros(t.SendBy), t.Consultation)
	if err != nil {
		return t, false, fmt.Errorf("sqlitestore: create transmission %s: %w", t.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sender_events (transmission_id, at, from_state, to_state, note, actor) VALUES (?, ?, '', ?, ?, ?)`,
		t.ID, toMicros(at), string(t.State), sender.SubmittedNote(superseded), nt.By); err != nil {
		return t, false, fmt.Errorf("sqlitestore: create transmission %s: %w", t.ID, err)
	}
	got, err := queryTransmissions(ctx, tx, `SELECT `+txColumns+` FROM sender_transmissions WHERE id = ?`, t.ID)
	if err != nil || len(got) != 1 {
		return t, false, fmt.Errorf("sqlitestore: create transmission %s: read back: %v", t.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return t, false, fmt.Errorf("sqlitestore: create transmission %s: %w", t.ID, err)
	}
	got[0].Superseded = superseded
	return got[0], true, nil
}

// supersede retires the waiting versions of t's consultation (same
// Consultation, another document; queued with no attempt recorded; a
// version no higher than t's) and refuses t with *sender.StaleError when a
// version at least as new remains (a higher one, or one sent or being
// sent). It runs in the transaction that inserts t, after the retirement,
// so a version a worker started sending meanwhile is seen as sent.
func supersede(ctx context.Context, tx *sql.Tx, t sender.Transmission, at time.Time) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `UPDATE sender_transmissions SET state = 'superseded', superseded_by = ?, updated_at = ?,
		lease_owner = '', lease_until = 0
		WHERE consultation = ? AND document_id <> ? AND state = 'queued' AND attempt_file = '' AND version <= ?
		RETURNING id`, t.ID, toMicros(at), t.Consultation, t.DocumentID, t.Version)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: create transmission %s: supersede: %w", t.ID, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlitestore: create transmission %s: supersede: %w", t.ID, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: create transmission %s: supersede: %w", t.ID, err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sender_events (transmission_id, at, from_state, to_state, note) VALUES (?, ?, 'queued', 'superseded', ?)`,
			id, toMicros(at), sender.SupersededNote(t.ID)); err != nil {
			return nil, fmt.Errorf("sqlitestore: create transmission %s: supersede: %w", t.ID, err)
		}
	}
	newer, err := queryTransmissions(ctx, tx, `SELECT `+txColumns+` FROM sender_transmissions
		WHERE consultation = ? AND document_id <> ? AND state NOT IN ('failed', 'superseded', 'cancelled') AND version >= ?
		ORDER BY version DESC, created_at DESC LIMIT 1`, t.Consultation, t.DocumentID, t.Version)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: create transmission %s: stale check: %w", t.ID, err)
	}
	if len(newer) > 0 {
		return nil, &sender.StaleError{Version: t.Version, Newer: newer[0]}
	}
	return ids, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// GetTransmission returns sender.ErrNotFound for an unknown id.
func (s *SenderStore) GetTransmission(ctx context.Context, id string) (sender.Transmission, error) {
	got, err := queryTransmissions(ctx, s.db.read, `SELECT `+txColumns+` FROM sender_transmissions WHERE id = ?`, id)
	if err != nil {
		return sender.Transmission{}, fmt.Errorf("sqlitestore: get transmission: %w", err)
	}
	if len(got) == 0 {
		return sender.Transmission{}, fmt.Errorf("transmission %s: %w", id, sender.ErrNotFound)
	}
	return got[0], nil
}

// Payload returns the stored message and, for built reports, the input.
func (s *SenderStore) Payload(ctx context.Context, id string) ([]byte, []byte, error) {
	var p, in []byte
	err := s.db.read.QueryRowContext(ctx, `SELECT payload, input FROM sender_transmissions WHERE id = ?`, id).Scan(&p, &in)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("transmission %s: %w", id, sender.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sqlitestore: payload of %s: %w", id, err)
	}
	return p, in, nil
}

// ListTransmissions lists newest first.
func (s *SenderStore) ListTransmissions(ctx context.Context, p sender.ListParams) ([]sender.Transmission, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + txColumns + ` FROM sender_transmissions`
	args := []any{}
	if p.State != "" {
		q += ` WHERE state = ?`
		args = append(args, string(p.State))
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	out, err := queryTransmissions(ctx, s.db.read, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list transmissions: %w", err)
	}
	return out, nil
}

var refColumns = map[sender.Ref]string{
	sender.RefHeaderID: "header_id", sender.RefBundleID: "bundle_id", sender.RefBundleIdentifier: "bundle_identifier",
	sender.RefSenderReference: "sender_reference", sender.RefMeshMessageID: "mesh_message_id", sender.RefDocumentID: "document_id",
}

// FindTransmissions lists transmissions whose ref equals value, newest first.
func (s *SenderStore) FindTransmissions(ctx context.Context, ref sender.Ref, value string) ([]sender.Transmission, error) {
	col, ok := refColumns[ref]
	if !ok {
		return nil, fmt.Errorf("sqlitestore: unknown reference %q", ref)
	}
	if value == "" {
		return nil, nil
	}
	out, err := queryTransmissions(ctx, s.db.read, `SELECT `+txColumns+` FROM sender_transmissions WHERE `+col+` = ? ORDER BY created_at DESC, id DESC`, value)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: find transmissions: %w", err)
	}
	return out, nil
}

// ClaimSend leases due queued and send_unknown transmissions.
func (s *SenderStore) ClaimSend(ctx context.Context, p sender.ClaimParams) ([]sender.Transmission, error) {
	limit := max(p.Limit, 1)
	out, err := queryTransmissions(ctx, s.db.write, `UPDATE sender_transmissions SET lease_owner = ?, lease_until = ?
		WHERE id IN (SELECT id FROM sender_transmissions WHERE state IN ('queued', 'send_unknown')
			AND next_attempt_at <= ? AND lease_until <= ? ORDER BY next_attempt_at, created_at LIMIT ?)
		RETURNING `+txColumns, p.Owner, toMicros(p.LeaseUntil), toMicros(p.Now), toMicros(p.Now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: claim sends: %w", err)
	}
	return out, nil
}

// ListWaiting lists transmissions in states, oldest first.
func (s *SenderStore) ListWaiting(ctx context.Context, states []sender.State, limit int) ([]sender.Transmission, error) {
	if len(states) == 0 {
		return nil, nil
	}
	if limit <= 0 {
		limit = 100
	}
	args := make([]any, 0, len(states)+1)
	for _, st := range states {
		args = append(args, string(st))
	}
	q := `SELECT ` + txColumns + ` FROM sender_transmissions WHERE state IN (?` + strings.Repeat(", ?", len(states)-1) + `) ORDER BY updated_at, id LIMIT ?`
	out, err := queryTransmissions(ctx, s.db.read, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list waiting: %w", err)
	}
	return out, nil
}

// Transition applies p in one transaction.
func (s *SenderStore) Transition(ctx context.Context, p sender.TransitionParams) (sender.Transmission, error) {
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return sender.Transmission{}, fmt.Errorf("sqlitestore: transition %s: %w", p.ID, err)
	}
	defer tx.Rollback()
	cur, err := queryTransmissions(ctx, tx, `SELECT `+txColumns+` FROM sender_transmissions WHERE id = ?`, p.ID)
	if err != nil {
		return sender.Transmission{}, fmt.Errorf("sqlitestore: transition %s: %w", p.ID, err)
	}
	if len(cur) == 0 {
		return sender.Transmission{}, fmt.Errorf("transmission %s: %w", p.ID, sender.ErrNotFound)
	}
	t := cur[0]
	if len(p.From) > 0 && !containsState(p.From, t.State) {
		return t, fmt.Errorf("transmission %s is %s: %w", p.ID, t.State, sender.ErrConflict)
	}
	if p.RequireIdle && t.AttemptFile != "" {
		return t, fmt.Errorf("transmission %s is being sent (attempt %d): %w", p.ID, t.Attempts, sender.ErrConflict)
	}
	if p.Inbox != nil {
		r := p.Inbox
		_, err := tx.ExecContext(ctx, `INSERT INTO sender_inbox (message_id, kind, transmission_id, code, outcome, received_at) VALUES (?, ?, ?, ?, ?, ?)`,
			r.MessageID, r.Kind, r.TransmissionID, r.Code, r.Outcome, toMicros(r.ReceivedAt))
		if isUniqueViolation(err) {
			return t, fmt.Errorf("inbox message %s: %w", r.MessageID, sender.ErrDuplicate)
		}
		if err != nil {
			return t, fmt.Errorf("sqlitestore: transition %s: inbox: %w", p.ID, err)
		}
	}
	sets := []string{"updated_at = ?"}
	args := []any{toMicros(p.At)}
	to := t.State
	if p.To != "" {
		to = p.To
		sets = append(sets, "state = ?")
		args = append(args, string(p.To))
	}
	if p.ReleaseLease {
		sets = append(sets, "lease_owner = ''", "lease_until = 0")
	}
	c := p.Set
	str := func(col string, v *string) {
		if v != nil {
			sets, args = append(sets, col+" = ?"), append(args, *v)
		}
	}
	num := func(col string, v *int) {
		if v != nil {
			sets, args = append(sets, col+" = ?"), append(args, *v)
		}
	}
	tm := func(col string, v *time.Time) {
		if v != nil {
			sets, args = append(sets, col+" = ?"), append(args, toMicros(*v))
		}
	}
	str("mesh_message_id", c.MeshMessageID)
	num("attempts", c.Attempts)
	str("attempt_file", c.AttemptFile)
	tm("attempt_started_at", c.AttemptStartedAt)
	tm("next_attempt_at", c.NextAttemptAt)
	num("next_chunk", c.NextChunk)
	tm("sent_at", c.SentAt)
	tm("delivered_at", c.DeliveredAt)
	tm("infack_at", c.InfAckAt)
	num("infack_code", c.InfAckCode)
	tm("busack_at", c.BusAckAt)
	num("busack_code", c.BusAckCode)
	tm("infack_due", c.InfAckDue)
	tm("busack_due", c.BusAckDue)
	tm("last_tracked_at", c.LastTrackedAt)
	str("last_error", c.LastError)
	tm("hold_until", c.HoldUntil)
	if _, err := tx.ExecContext(ctx, `UPDATE sender_transmissions SET `+strings.Join(sets, ", ")+` WHERE id = ?`, append(args, p.ID)...); err != nil {
		return t, fmt.Errorf("sqlitestore: transition %s: %w", p.ID, err)
	}
	if to != t.State || p.Note != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sender_events (transmission_id, at, from_state, to_state, note, actor) VALUES (?, ?, ?, ?, ?, ?)`,
			p.ID, toMicros(p.At), string(t.State), string(to), p.Note, p.By); err != nil {
			return t, fmt.Errorf("sqlitestore: transition %s: event: %w", p.ID, err)
		}
	}
	if p.Alert != nil {
		if err := insertAlert(ctx, tx, p.ID, p.Alert, p.At); err != nil {
			return t, fmt.Errorf("sqlitestore: transition %s: %w", p.ID, err)
		}
	}
	got, err := queryTransmissions(ctx, tx, `SELECT `+txColumns+` FROM sender_transmissions WHERE id = ?`, p.ID)
	if err != nil || len(got) != 1 {
		return t, fmt.Errorf("sqlitestore: transition %s: read back: %v", p.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return t, fmt.Errorf("sqlitestore: transition %s: %w", p.ID, err)
	}
	return got[0], nil
}

func containsState(list []sender.State, s sender.State) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// insertAlert adds an alert; a second alert with the same reason for the
// same transmission is ignored (the unique index keeps exactly one).
func insertAlert(ctx context.Context, tx *sql.Tx, txID string, a *sender.NewAlert, at time.Time) error {
	var tid any
	if txID != "" {
		tid = txID
	}
	delivery := a.Delivery
	if delivery == "" {
		delivery = sender.DeliveryPending
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO sender_alerts (transmission_id, reason, code, message, mesh_message_id, created_at, delivery, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, tid, string(a.Reason), a.Code, a.Message, a.MeshMessageID, toMicros(at), delivery, toMicros(at))
	if err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	return nil
}

// Events returns a transmission's history in order.
func (s *SenderStore) Events(ctx context.Context, id string) ([]sender.Event, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT id, transmission_id, at, from_state, to_state, note, actor FROM sender_events WHERE transmission_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: events of %s: %w", id, err)
	}
	defer rows.Close()
	var out []sender.Event
	for rows.Next() {
		var e sender.Event
		var at int64
		var from, to string
		if err := rows.Scan(&e.ID, &e.TransmissionID, &at, &from, &to, &e.Note, &e.Actor); err != nil {
			return nil, fmt.Errorf("sqlitestore: events of %s: %w", id, err)
		}
		e.At, e.From, e.To = fromMicros(at), sender.State(from), sender.State(to)
		out = append(out, e)
	}
	return out, rows.Err()
}

// CountByState counts transmissions per state.
func (s *SenderStore) CountByState(ctx context.Context) (map[sender.State]int, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT state, count(*) FROM sender_transmissions GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: count transmissions: %w", err)
	}
	defer rows.Close()
	out := map[sender.State]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[sender.State(st)] = n
	}
	return out, rows.Err()
}

// InboxSeen reports whether an inbox message was already processed.
func (s *SenderStore) InboxSeen(ctx context.Context, messageID string) (bool, error) {
	var n int
	if err := s.db.read.QueryRowContext(ctx, `SELECT count(*) FROM sender_inbox WHERE message_id = ?`, messageID).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlitestore: inbox seen: %w", err)
	}
	return n > 0, nil
}

// RecordInbox stores r and an optional alert in one transaction.
func (s *SenderStore) RecordInbox(ctx context.Context, r sender.InboxRecord, alert *sender.NewAlert) error {
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: record inbox: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO sender_inbox (message_id, kind, transmission_id, code, outcome, received_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.MessageID, r.Kind, r.TransmissionID, r.Code, r.Outcome, toMicros(r.ReceivedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("inbox message %s: %w", r.MessageID, sender.ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: record inbox: %w", err)
	}
	if alert != nil {
		if err := insertAlert(ctx, tx, r.TransmissionID, alert, r.ReceivedAt); err != nil {
			return fmt.Errorf("sqlitestore: record inbox: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: record inbox: %w", err)
	}
	return nil
}

const alertColumns = `id, coalesce(transmission_id, ''), reason, code, message, mesh_message_id, created_at, delivery, delivered_at, attempts, next_attempt_at, last_error`

func queryAlerts(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]sender.Alert, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sender.Alert
	for rows.Next() {
		var a sender.Alert
		var reason string
		var created, delivered, next int64
		if err := rows.Scan(&a.ID, &a.TransmissionID, &reason, &a.Code, &a.Message, &a.MeshMessageID, &created, &a.Delivery, &delivered, &a.Attempts, &next, &a.LastError); err != nil {
			return nil, err
		}
		a.Reason, a.CreatedAt, a.DeliveredAt, a.NextAttemptAt = sender.Reason(reason), fromMicros(created), fromMicros(delivered), fromMicros(next)
		out = append(out, a)
	}
	return out, rows.Err()
}

// ListAlerts lists alerts newest first.
func (s *SenderStore) ListAlerts(ctx context.Context, f sender.AlertFilter) ([]sender.Alert, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + alertColumns + ` FROM sender_alerts`
	args := []any{}
	if f.TransmissionID != "" {
		q += ` WHERE transmission_id = ?`
		args = append(args, f.TransmissionID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	out, err := queryAlerts(ctx, s.db.read, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list alerts: %w", err)
	}
	return out, nil
}

// ClaimAlerts leases pending alerts that are due.
func (s *SenderStore) ClaimAlerts(ctx context.Context, p sender.ClaimParams) ([]sender.Alert, error) {
	out, err := queryAlerts(ctx, s.db.write, `UPDATE sender_alerts SET lease_owner = ?, lease_until = ?
		WHERE id IN (SELECT id FROM sender_alerts WHERE delivery = 'pending' AND next_attempt_at <= ? AND lease_until <= ? ORDER BY id LIMIT ?)
		RETURNING `+alertColumns, p.Owner, toMicros(p.LeaseUntil), toMicros(p.Now), toMicros(p.Now), max(p.Limit, 1))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: claim alerts: %w", err)
	}
	return out, nil
}

// RecordAlertDelivery records one hook attempt and releases the lease.
func (s *SenderStore) RecordAlertDelivery(ctx context.Context, p sender.AlertDeliveryParams) error {
	var res sql.Result
	var err error
	if p.Delivered {
		res, err = s.db.write.ExecContext(ctx, `UPDATE sender_alerts SET delivery = 'delivered', delivered_at = ?, attempts = attempts + 1,
			last_error = '', lease_owner = '', lease_until = 0 WHERE id = ?`, toMicros(p.At), p.ID)
	} else {
		res, err = s.db.write.ExecContext(ctx, `UPDATE sender_alerts SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,
			lease_owner = '', lease_until = 0 WHERE id = ?`, p.Error, toMicros(p.NextAttemptAt), p.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: record alert delivery: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("alert %d: %w", p.ID, sender.ErrNotFound)
	}
	return nil
}
