package pgstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpcm/gpcm/internal/sendersql"
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

var sndCols = sendersql.TransmissionColumns("octet_length")

func querySnd(ctx context.Context, q querier, query string, args ...any) ([]sender.Transmission, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (sender.Transmission, error) { return sendersql.ScanTransmission(r) })
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
		tag, err := tx.Exec(ctx, sendersql.InsertTransmission+` ON CONFLICT (idem_key) DO NOTHING`, sendersql.TransmissionArgs(nt, at)...)
		if err != nil {
			return fmt.Errorf("transmission %s: %w", t.ID, err)
		}
		created = tag.RowsAffected() == 1
		if created {
			if _, err := tx.Exec(ctx, sendersql.InsertEvent, sendersql.Submitted(nt, at, superseded)...); err != nil {
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
	rows, err := tx.Query(ctx, sendersql.Supersede, sendersql.SupersedeArgs(t, at)...)
	if err != nil {
		return nil, fmt.Errorf("transmission %s: supersede: %w", t.ID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("transmission %s: supersede: %w", t.ID, err)
	}
	for _, id := range ids {
		if _, err := tx.Exec(ctx, sendersql.InsertEvent, sendersql.Superseded(id, t.ID, at)...); err != nil {
			return nil, fmt.Errorf("transmission %s: supersede: %w", t.ID, err)
		}
	}
	newer, err := querySnd(ctx, tx, sendersql.NewerVersion(sndCols), sendersql.NewerArgs(t)...)
	if err != nil {
		return nil, fmt.Errorf("transmission %s: stale check: %w", t.ID, err)
	}
	if len(newer) > 0 {
		return nil, &sender.StaleError{Version: t.Version, Newer: newer[0]}
	}
	return ids, nil
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
	q, args := sendersql.List(sndCols, p)
	out, err := querySnd(ctx, s.db.pool, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list transmissions: %w", err)
	}
	return out, nil
}

// FindTransmissions lists transmissions whose ref equals value, newest first.
func (s *SenderStore) FindTransmissions(ctx context.Context, ref sender.Ref, value string) ([]sender.Transmission, error) {
	q, ok := sendersql.Find(sndCols, ref)
	if !ok {
		return nil, fmt.Errorf("pgstore: unknown reference %q", ref)
	}
	if value == "" {
		return nil, nil
	}
	out, err := querySnd(ctx, s.db.pool, q, value)
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
		if err := sendersql.CheckTransition(t, p); err != nil {
			return err
		}
		if r := p.Inbox; r != nil {
			if err := sndInsertInbox(ctx, tx, *r); err != nil {
				return err
			}
		}
		q, args := sendersql.Update(p)
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return err
		}
		if to := cmp.Or(p.To, t.State); to != t.State || p.Note != "" {
			if _, err := tx.Exec(ctx, sendersql.InsertEvent, p.ID, micros(p.At), string(t.State), string(to), p.Note, p.By); err != nil {
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
	_, err := tx.Exec(ctx, sendersql.InsertInbox, sendersql.InboxArgs(r)...)
	if isUniqueViolation(err) {
		return fmt.Errorf("inbox message %s: %w", r.MessageID, sender.ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	return nil
}

func sndInsertAlert(ctx context.Context, tx pgx.Tx, txID string, a *sender.NewAlert, at time.Time) error {
	if _, err := tx.Exec(ctx, sendersql.InsertAlert, sendersql.AlertArgs(txID, a, at)...); err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	return nil
}

// Events returns a transmission's history in order.
func (s *SenderStore) Events(ctx context.Context, id string) ([]sender.Event, error) {
	rows, err := s.db.pool.Query(ctx, sendersql.Events, id)
	if err != nil {
		return nil, fmt.Errorf("pgstore: events of %s: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sender.Event, error) { return sendersql.ScanEvent(r) })
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

const sndAlertCols = sendersql.AlertColumns

func querySndAlerts(ctx context.Context, q querier, query string, args ...any) ([]sender.Alert, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (sender.Alert, error) { return sendersql.ScanAlert(r) })
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
