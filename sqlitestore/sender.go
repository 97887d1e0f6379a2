package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gpcm/gpcm/internal/sendersql"
	"github.com/gpcm/gpcm/sender"
)

// SenderStore implements sender.Store on a DB.
type SenderStore struct{ db *DB }

var _ sender.Store = (*SenderStore)(nil)

// Sender returns the sender's outbox store on db.
func (db *DB) Sender() *SenderStore { return &SenderStore{db: db} }

var txColumns = sendersql.TransmissionColumns("length")

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
		t, err := sendersql.ScanTransmission(rows)
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
	if _, err = tx.ExecContext(ctx, sendersql.InsertTransmission, sendersql.TransmissionArgs(nt, at)...); err != nil {
		return t, false, fmt.Errorf("sqlitestore: create transmission %s: %w", t.ID, err)
	}
	if _, err := tx.ExecContext(ctx, sendersql.InsertEvent, sendersql.Submitted(nt, at, superseded)...); err != nil {
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
	rows, err := tx.QueryContext(ctx, sendersql.Supersede, sendersql.SupersedeArgs(t, at)...)
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
		if _, err := tx.ExecContext(ctx, sendersql.InsertEvent, sendersql.Superseded(id, t.ID, at)...); err != nil {
			return nil, fmt.Errorf("sqlitestore: create transmission %s: supersede: %w", t.ID, err)
		}
	}
	newer, err := queryTransmissions(ctx, tx, sendersql.NewerVersion(txColumns), sendersql.NewerArgs(t)...)
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
	q, args := sendersql.List(txColumns, p)
	out, err := queryTransmissions(ctx, s.db.read, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list transmissions: %w", err)
	}
	return out, nil
}

// FindTransmissions lists transmissions whose ref equals value, newest first.
func (s *SenderStore) FindTransmissions(ctx context.Context, ref sender.Ref, value string) ([]sender.Transmission, error) {
	q, ok := sendersql.Find(txColumns, ref)
	if !ok {
		return nil, fmt.Errorf("sqlitestore: unknown reference %q", ref)
	}
	if value == "" {
		return nil, nil
	}
	out, err := queryTransmissions(ctx, s.db.read, q, value)
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
	if err := sendersql.CheckTransition(t, p); err != nil {
		return t, err
	}
	if p.Inbox != nil {
		_, err := tx.ExecContext(ctx, sendersql.InsertInbox, sendersql.InboxArgs(*p.Inbox)...)
		if isUniqueViolation(err) {
			return t, fmt.Errorf("inbox message %s: %w", p.Inbox.MessageID, sender.ErrDuplicate)
		}
		if err != nil {
			return t, fmt.Errorf("sqlitestore: transition %s: inbox: %w", p.ID, err)
		}
	}
	q, args := sendersql.Update(p)
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return t, fmt.Errorf("sqlitestore: transition %s: %w", p.ID, err)
	}
	if to := cmp.Or(p.To, t.State); to != t.State || p.Note != "" {
		if _, err := tx.ExecContext(ctx, sendersql.InsertEvent, p.ID, toMicros(p.At), string(t.State), string(to), p.Note, p.By); err != nil {
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

func insertAlert(ctx context.Context, tx *sql.Tx, txID string, a *sender.NewAlert, at time.Time) error {
	if _, err := tx.ExecContext(ctx, sendersql.InsertAlert, sendersql.AlertArgs(txID, a, at)...); err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	return nil
}

// Events returns a transmission's history in order.
func (s *SenderStore) Events(ctx context.Context, id string) ([]sender.Event, error) {
	rows, err := s.db.read.QueryContext(ctx, sendersql.Events, id)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: events of %s: %w", id, err)
	}
	defer rows.Close()
	var out []sender.Event
	for rows.Next() {
		e, err := sendersql.ScanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: events of %s: %w", id, err)
		}
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
	_, err = tx.ExecContext(ctx, sendersql.InsertInbox, sendersql.InboxArgs(r)...)
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

const alertColumns = sendersql.AlertColumns

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
		a, err := sendersql.ScanAlert(rows)
		if err != nil {
			return nil, err
		}
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
