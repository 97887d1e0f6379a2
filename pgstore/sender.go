package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpcm/gpcm/sender"
)

var _ sender.Store = (*SenderStore)(nil)

// SenderStore implements sender.Store on a DB. Several sender processes may
// share one schema: claims lock their rows with FOR UPDATE SKIP LOCKED, a
// transition holds its transmission locked, and submissions and inbox
// messages are made idempotent by unique keys.
type SenderStore struct{ db *DB }

// Sender returns the sender's outbox store on db.
func (db *DB) Sender() *SenderStore { return &SenderStore{db: db} }

const sndCols = `id, idem_key, state, source, workflow_id, ack_workflow_id, mesh_from, mesh_to, subject, local_id,
	header_id, bundle_id, bundle_identifier, document_id, sender_reference, version, replaces_id, resend_of,
	content_type, octet_length(payload), mesh_message_id, attempts, attempt_file, attempt_started_at, next_attempt_at, next_chunk,
	lease_owner, lease_until, created_at, updated_at, sent_at, delivered_at, infack_at, infack_code, busack_at, busack_code,
	infack_due, busack_due, last_tracked_at, last_error, hold_until, send_by, superseded_by, consultation`

func scanSnd(r pgx.Row) (sender.Transmission, error) {
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

func querySnd(ctx context.Context, q querier, query string, args ...any) ([]sender.Transmission, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (sender.Transmission, error) { return scanSnd(r) })
}

// sndErr prefixes an error that is not already a sentinel error.
func sndErr(what string, err error) error {
	if errors.Is(err, sender.ErrNotFound) || errors.Is(err, sender.ErrConflict) || errors.Is(err, sender.ErrDuplicate) || errors.Is(err, sender.ErrStale) {
		return err
	}
	return fmt.Errorf("pgstore: %s: %w", what, err)
}

// CreateTransmission inserts t, or returns the transmission already stored
// under t.Key; the unique index on the key decides between concurrent
// submissions. With nt.Supersede, submissions of one consultation are
// serialised by an advisory transaction lock on it, so two versions
// submitted at once never both stay queued.
func (s *SenderStore) CreateTransmission(ctx context.Context, nt sender.NewTransmission, at time.Time) (sender.Transmission, bool, error) {
	t := nt.Transmission
	if t.ID == "" || t.Key == "" {
		return t, false, errors.New("pgstore: CreateTransmission: ID and Key are required")
	}
	if t.State == "" {
		t.State = sender.StateQueued
	}
	var got sender.Transmission
	var created bool
	var superseded []string
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		superseded = nil
		if nt.Supersede && t.Consultation != "" {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "gpcm-sender-consultation|"+t.Consultation); err != nil {
				return fmt.Errorf("transmission %s: lock the consultation: %w", t.ID, err)
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM sender_transmissions WHERE idem_key = $1`, t.Key).Scan(&n); err != nil {
				return fmt.Errorf("transmission %s: %w", t.ID, err)
			}
			if n == 0 {
				var err error
				if superseded, err = sndSupersede(ctx, tx, t, at); err != nil {
					return err
				}
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO sender_transmissions (id, idem_key, state, source, workflow_id, ack_workflow_id,
			mesh_from, mesh_to, subject, local_id, header_id, bundle_id, bundle_identifier, document_id, sender_reference, version,
			replaces_id, resend_of, content_type, payload, input, next_attempt_at, created_at, updated_at, hold_until, send_by, consultation)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $23, $24, $25, $26)
			ON CONFLICT (idem_key) DO NOTHING`,
			t.ID, t.Key, string(t.State), t.Source, t.WorkflowID, t.AckWorkflowID, t.From, t.To, t.Subject, t.LocalID,
			t.HeaderID, t.BundleID, t.BundleIdentifier, t.DocumentID, t.SenderReference, t.Version, t.ReplacesID, t.ResendOf,
			t.ContentType, sndBytes(nt.Payload), nt.Input, micros(t.NextAttemptAt), micros(at), micros(t.HoldUntil), micros(t.SendBy), t.Consultation)
		if err != nil {
			return fmt.Errorf("transmission %s: %w", t.ID, err)
		}
		created = tag.RowsAffected() == 1
		if created {
			if _, err := tx.Exec(ctx, `INSERT INTO sender_events (transmission_id, at, from_state, to_state, note, actor) VALUES ($1, $2, '', $3, $4, $5)`,
				t.ID, micros(at), string(t.State), sender.SubmittedNote(superseded), nt.By); err != nil {
				return fmt.Errorf("transmission %s: event: %w", t.ID, err)
			}
		}
		rows, err := querySnd(ctx, tx, `SELECT `+sndCols+` FROM sender_transmissions WHERE idem_key = $1`, t.Key)
		if err != nil {
			return err
		}
		if len(rows) != 1 {
			return fmt.Errorf("transmission %s: read back found %d rows", t.ID, len(rows))
		}
		got = rows[0]
		return nil
	})
	if errors.Is(err, sender.ErrStale) {
		return t, false, err
	}
	if err != nil {
		return t, false, fmt.Errorf("pgstore: create %w", err)
	}
	if created {
		got.Superseded = superseded
	}
	return got, created, nil
}

// sndSupersede retires the waiting versions of t's consultation (same
// Consultation, another document; queued with no attempt recorded; a
// version no higher than t's) and refuses t with *sender.StaleError when
// a version at least as new remains (a higher one, or one sent or being
// sent). Running after the retirement, the check sees a version a worker
// started sending meanwhile (its row is re-read once the worker commits).
func sndSupersede(ctx context.Context, tx pgx.Tx, t sender.Transmission, at time.Time) ([]string, error) {
	rows, err := tx.Query(ctx, `UPDATE sender_transmissions SET state = 'superseded', superseded_by = $1, updated_at = $2,
		lease_owner = '', lease_until = 0
		WHERE consultation = $3 AND document_id <> $4 AND state = 'queued' AND attempt_file = '' AND version <= $5
		RETURNING id`, t.ID, micros(at), t.Consultation, t.DocumentID, t.Version)
	if err != nil {
		return nil, fmt.Errorf("transmission %s: supersede: %w", t.ID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("transmission %s: supersede: %w", t.ID, err)
	}
	for _, id := range ids {
		if _, err := tx.Exec(ctx, `INSERT INTO sender_events (transmission_id, at, from_state, to_state, note) VALUES ($1, $2, 'queued', 'superseded', $3)`,
			id, micros(at), sender.SupersededNote(t.ID)); err != nil {
			return nil, fmt.Errorf("transmission %s: supersede: %w", t.ID, err)
		}
	}
	newer, err := querySnd(ctx, tx, `SELECT `+sndCols+` FROM sender_transmissions
		WHERE consultation = $1 AND document_id <> $2 AND state NOT IN ('failed', 'superseded', 'cancelled') AND version >= $3
		ORDER BY version DESC, created_at DESC LIMIT 1`, t.Consultation, t.DocumentID, t.Version)
	if err != nil {
		return nil, fmt.Errorf("transmission %s: stale check: %w", t.ID, err)
	}
	if len(newer) > 0 {
		return nil, &sender.StaleError{Version: t.Version, Newer: newer[0]}
	}
	return ids, nil
}

func sndBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// GetTransmission returns sender.ErrNotFound for an unknown id.
func (s *SenderStore) GetTransmission(ctx context.Context, id string) (sender.Transmission, error) {
	got, err := querySnd(ctx, s.db.pool, `SELECT `+sndCols+` FROM sender_transmissions WHERE id = $1`, id)
	if err != nil {
		return sender.Transmission{}, fmt.Errorf("pgstore: get transmission: %w", err)
	}
	if len(got) == 0 {
		return sender.Transmission{}, fmt.Errorf("transmission %s: %w", id, sender.ErrNotFound)
	}
	return got[0], nil
}

// Payload returns the stored message and, for built reports, the input.
func (s *SenderStore) Payload(ctx context.Context, id string) ([]byte, []byte, error) {
	var p, in []byte
	err := s.db.pool.QueryRow(ctx, `SELECT payload, input FROM sender_transmissions WHERE id = $1`, id).Scan(&p, &in)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, fmt.Errorf("transmission %s: %w", id, sender.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("pgstore: payload of %s: %w", id, err)
	}
	return p, in, nil
}

// ListTransmissions lists newest first.
func (s *SenderStore) ListTransmissions(ctx context.Context, p sender.ListParams) ([]sender.Transmission, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + sndCols + ` FROM sender_transmissions`
	args := []any{limit}
	if p.State != "" {
		q += ` WHERE state = $2`
		args = append(args, string(p.State))
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT $1`
	out, err := querySnd(ctx, s.db.pool, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list transmissions: %w", err)
	}
	return out, nil
}

var sndRefColumns = map[sender.Ref]string{
	sender.RefHeaderID: "header_id", sender.RefBundleID: "bundle_id", sender.RefBundleIdentifier: "bundle_identifier",
	sender.RefSenderReference: "sender_reference", sender.RefMeshMessageID: "mesh_message_id", sender.RefDocumentID: "document_id",
}

// FindTransmissions lists transmissions whose ref equals value, newest first.
func (s *SenderStore) FindTransmissions(ctx context.Context, ref sender.Ref, value string) ([]sender.Transmission, error) {
	col, ok := sndRefColumns[ref]
	if !ok {
		return nil, fmt.Errorf("pgstore: unknown reference %q", ref)
	}
	if value == "" {
		return nil, nil
	}
	out, err := querySnd(ctx, s.db.pool, `SELECT `+sndCols+` FROM sender_transmissions WHERE `+col+` = $1 ORDER BY created_at DESC, id DESC`, value)
	if err != nil {
		return nil, fmt.Errorf("pgstore: find transmissions: %w", err)
	}
	return out, nil
}

// ClaimSend leases due queued and send_unknown transmissions, skipping rows
// another process is claiming at the same moment.
func (s *SenderStore) ClaimSend(ctx context.Context, p sender.ClaimParams) ([]sender.Transmission, error) {
	out, err := querySnd(ctx, s.db.pool, `UPDATE sender_transmissions SET lease_owner = $1, lease_until = $2
		WHERE id IN (SELECT id FROM sender_transmissions WHERE state IN ('queued', 'send_unknown')
			AND next_attempt_at <= $3 AND lease_until <= $3 ORDER BY next_attempt_at, created_at LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING `+sndCols, p.Owner, micros(p.LeaseUntil), micros(p.Now), max(p.Limit, 1))
	if err != nil {
		return nil, fmt.Errorf("pgstore: claim sends: %w", err)
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
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	out, err := querySnd(ctx, s.db.pool, `SELECT `+sndCols+` FROM sender_transmissions WHERE state = ANY($1) ORDER BY updated_at, id LIMIT $2`, names, limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list waiting: %w", err)
	}
	return out, nil
}

// Transition applies p in one transaction, holding the transmission row
// locked so that concurrent transitions see each other's result.
func (s *SenderStore) Transition(ctx context.Context, p sender.TransitionParams) (sender.Transmission, error) {
	var t sender.Transmission
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := querySnd(ctx, tx, `SELECT `+sndCols+` FROM sender_transmissions WHERE id = $1 FOR UPDATE`, p.ID)
		if err != nil {
			return err
		}
		if len(cur) == 0 {
			return fmt.Errorf("transmission %s: %w", p.ID, sender.ErrNotFound)
		}
		t = cur[0]
		if len(p.From) > 0 && !slices.Contains(p.From, t.State) {
			return fmt.Errorf("transmission %s is %s: %w", p.ID, t.State, sender.ErrConflict)
		}
		if p.RequireIdle && t.AttemptFile != "" {
			return fmt.Errorf("transmission %s is being sent (attempt %d): %w", p.ID, t.Attempts, sender.ErrConflict)
		}
		if r := p.Inbox; r != nil {
			if err := sndInsertInbox(ctx, tx, *r); err != nil {
				return err
			}
		}
		var args []any
		arg := func(v any) string {
			args = append(args, v)
			return fmt.Sprintf("$%d", len(args))
		}
		sets := []string{"updated_at = " + arg(micros(p.At))}
		to := t.State
		if p.To != "" {
			to = p.To
			sets = append(sets, "state = "+arg(string(p.To)))
		}
		if p.ReleaseLease {
			sets = append(sets, "lease_owner = ''", "lease_until = 0")
		}
		c := p.Set
		str := func(col string, v *string) {
			if v != nil {
				sets = append(sets, col+" = "+arg(*v))
			}
		}
		num := func(col string, v *int) {
			if v != nil {
				sets = append(sets, col+" = "+arg(*v))
			}
		}
		tm := func(col string, v *time.Time) {
			if v != nil {
				sets = append(sets, col+" = "+arg(micros(*v)))
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
		if _, err := tx.Exec(ctx, `UPDATE sender_transmissions SET `+strings.Join(sets, ", ")+` WHERE id = `+arg(p.ID), args...); err != nil {
			return err
		}
		if to != t.State || p.Note != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO sender_events (transmission_id, at, from_state, to_state, note, actor) VALUES ($1, $2, $3, $4, $5, $6)`,
				p.ID, micros(p.At), string(t.State), string(to), p.Note, p.By); err != nil {
				return fmt.Errorf("event: %w", err)
			}
		}
		if p.Alert != nil {
			if err := sndInsertAlert(ctx, tx, p.ID, p.Alert, p.At); err != nil {
				return err
			}
		}
		got, err := querySnd(ctx, tx, `SELECT `+sndCols+` FROM sender_transmissions WHERE id = $1`, p.ID)
		if err != nil {
			return err
		}
		if len(got) != 1 {
			return fmt.Errorf("read back found %d rows", len(got))
		}
		t = got[0]
		return nil
	})
	if err != nil {
		return t, sndErr("transition "+p.ID, err)
	}
	return t, nil
}

// sndInsertInbox records a processed inbox message; the primary key makes
// a second record (by any process) fail with sender.ErrDuplicate.
func sndInsertInbox(ctx context.Context, tx pgx.Tx, r sender.InboxRecord) error {
	_, err := tx.Exec(ctx, `INSERT INTO sender_inbox (message_id, kind, transmission_id, code, outcome, received_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.MessageID, r.Kind, r.TransmissionID, r.Code, r.Outcome, micros(r.ReceivedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("inbox message %s: %w", r.MessageID, sender.ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	return nil
}

// sndInsertAlert adds an alert; a second alert with the same reason for the
// same transmission is ignored (the unique index keeps exactly one).
func sndInsertAlert(ctx context.Context, tx pgx.Tx, txID string, a *sender.NewAlert, at time.Time) error {
	var tid any
	if txID != "" {
		tid = txID
	}
	delivery := a.Delivery
	if delivery == "" {
		delivery = sender.DeliveryPending
	}
	_, err := tx.Exec(ctx, `INSERT INTO sender_alerts (transmission_id, reason, code, message, mesh_message_id, created_at, delivery, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $6) ON CONFLICT DO NOTHING`, tid, string(a.Reason), a.Code, a.Message, a.MeshMessageID, micros(at), delivery)
	if err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	return nil
}

// Events returns a transmission's history in order.
func (s *SenderStore) Events(ctx context.Context, id string) ([]sender.Event, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT id, transmission_id, at, from_state, to_state, note, actor FROM sender_events WHERE transmission_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("pgstore: events of %s: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sender.Event, error) {
		var e sender.Event
		var at int64
		var from, to string
		err := r.Scan(&e.ID, &e.TransmissionID, &at, &from, &to, &e.Note, &e.Actor)
		e.At, e.From, e.To = fromMicros(at), sender.State(from), sender.State(to)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: events of %s: %w", id, err)
	}
	return out, nil
}

// CountByState counts transmissions per state.
func (s *SenderStore) CountByState(ctx context.Context) (map[sender.State]int, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT state, count(*) FROM sender_transmissions GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: count transmissions: %w", err)
	}
	defer rows.Close()
	out := map[sender.State]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("pgstore: count transmissions: %w", err)
		}
		out[sender.State(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: count transmissions: %w", err)
	}
	return out, nil
}

// InboxSeen reports whether an inbox message was already processed.
func (s *SenderStore) InboxSeen(ctx context.Context, messageID string) (bool, error) {
	var seen bool
	if err := s.db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sender_inbox WHERE message_id = $1)`, messageID).Scan(&seen); err != nil {
		return false, fmt.Errorf("pgstore: inbox seen: %w", err)
	}
	return seen, nil
}

// RecordInbox stores r and an optional alert in one transaction.
func (s *SenderStore) RecordInbox(ctx context.Context, r sender.InboxRecord, alert *sender.NewAlert) error {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if err := sndInsertInbox(ctx, tx, r); err != nil {
			return err
		}
		if alert != nil {
			return sndInsertAlert(ctx, tx, r.TransmissionID, alert, r.ReceivedAt)
		}
		return nil
	})
	if err != nil {
		return sndErr("record inbox", err)
	}
	return nil
}

const sndAlertCols = `id, coalesce(transmission_id, ''), reason, code, message, mesh_message_id, created_at, delivery, delivered_at, attempts, next_attempt_at, last_error`

func querySndAlerts(ctx context.Context, q querier, query string, args ...any) ([]sender.Alert, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (sender.Alert, error) {
		var a sender.Alert
		var reason string
		var created, delivered, next int64
		err := r.Scan(&a.ID, &a.TransmissionID, &reason, &a.Code, &a.Message, &a.MeshMessageID, &created, &a.Delivery, &delivered, &a.Attempts, &next, &a.LastError)
		a.Reason, a.CreatedAt, a.DeliveredAt, a.NextAttemptAt = sender.Reason(reason), fromMicros(created), fromMicros(delivered), fromMicros(next)
		return a, err
	})
}

// ListAlerts lists alerts newest first.
func (s *SenderStore) ListAlerts(ctx context.Context, f sender.AlertFilter) ([]sender.Alert, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + sndAlertCols + ` FROM sender_alerts`
	args := []any{limit}
	if f.TransmissionID != "" {
		q += ` WHERE transmission_id = $2`
		args = append(args, f.TransmissionID)
	}
	q += ` ORDER BY id DESC LIMIT $1`
	out, err := querySndAlerts(ctx, s.db.pool, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list alerts: %w", err)
	}
	return out, nil
}

// ClaimAlerts leases pending alerts that are due, skipping rows another
// process is claiming.
func (s *SenderStore) ClaimAlerts(ctx context.Context, p sender.ClaimParams) ([]sender.Alert, error) {
	out, err := querySndAlerts(ctx, s.db.pool, `UPDATE sender_alerts SET lease_owner = $1, lease_until = $2
		WHERE id IN (SELECT id FROM sender_alerts WHERE delivery = 'pending' AND next_attempt_at <= $3 AND lease_until <= $3
			ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING `+sndAlertCols, p.Owner, micros(p.LeaseUntil), micros(p.Now), max(p.Limit, 1))
	if err != nil {
		return nil, fmt.Errorf("pgstore: claim alerts: %w", err)
	}
	return out, nil
}

// RecordAlertDelivery records one hook attempt and releases the lease.
func (s *SenderStore) RecordAlertDelivery(ctx context.Context, p sender.AlertDeliveryParams) error {
	var err error
	var n int64
	if p.Delivered {
		tag, e := s.db.pool.Exec(ctx, `UPDATE sender_alerts SET delivery = 'delivered', delivered_at = $1, attempts = attempts + 1,
			last_error = '', lease_owner = '', lease_until = 0 WHERE id = $2`, micros(p.At), p.ID)
		err, n = e, tag.RowsAffected()
	} else {
		tag, e := s.db.pool.Exec(ctx, `UPDATE sender_alerts SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2,
			lease_owner = '', lease_until = 0 WHERE id = $3`, p.Error, micros(p.NextAttemptAt), p.ID)
		err, n = e, tag.RowsAffected()
	}
	if err != nil {
		return fmt.Errorf("pgstore: record alert delivery: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("alert %d: %w", p.ID, sender.ErrNotFound)
	}
	return nil
}
