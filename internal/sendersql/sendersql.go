// Package sendersql declares the sender's tables once for both SQL drivers
// (sqlitestore, pgstore): the column lists, how a row maps to sender's
// types, which column each reference is, the state checks of a transition
// and the SET clause its changes make. Times are Unix microseconds in both
// dialects (0 for unset). Placeholders are $1, $2, …: PostgreSQL's own, and
// SQLite binds a "$N" parameter to argument N.
//
// The drivers keep what differs: how a transaction is run and locked,
// claims (SKIP LOCKED in PostgreSQL, the single writer in SQLite), and
// the function giving a payload's length in bytes.
package sendersql

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gpcm/gpcm/sender"
)

// Row is one row to scan (a *sql.Row or *sql.Rows, a pgx.Row).
type Row interface{ Scan(dest ...any) error }

// TransmissionColumns lists sender_transmissions' columns in the order of
// ScanTransmission; payloadLength is the dialect's byte length function
// ("length" in SQLite, "octet_length" in PostgreSQL).
func TransmissionColumns(payloadLength string) string {
	return `id, idem_key, state, source, workflow_id, ack_workflow_id, mesh_from, mesh_to, subject, local_id,
	header_id, bundle_id, bundle_identifier, document_id, sender_reference, version, replaces_id, resend_of,
	content_type, ` + payloadLength + `(payload), mesh_message_id, attempts, attempt_file, attempt_started_at, next_attempt_at, next_chunk,
	lease_owner, lease_until, created_at, updated_at, sent_at, delivered_at, infack_at, infack_code, busack_at, busack_code,
	infack_due, busack_due, last_tracked_at, last_error, hold_until, send_by, superseded_by, consultation`
}

// ScanTransmission reads a row of TransmissionColumns.
func ScanTransmission(r Row) (sender.Transmission, error) {
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
	t.HoldUntil, t.SendBy = FromMicros(hold), FromMicros(sendBy)
	t.State = sender.State(state)
	t.AttemptStartedAt, t.NextAttemptAt, t.LeaseUntil = FromMicros(attemptStarted), FromMicros(nextAttempt), FromMicros(leaseUntil)
	t.CreatedAt, t.UpdatedAt, t.SentAt, t.DeliveredAt = FromMicros(created), FromMicros(updated), FromMicros(sent), FromMicros(delivered)
	t.InfAckAt, t.BusAckAt, t.InfAckDue, t.BusAckDue, t.LastTrackedAt = FromMicros(infAt), FromMicros(busAt), FromMicros(infDue), FromMicros(busDue), FromMicros(tracked)
	return t, nil
}

// RefColumns is the column of each reference a transmission is found by.
var RefColumns = map[sender.Ref]string{
	sender.RefHeaderID: "header_id", sender.RefBundleID: "bundle_id", sender.RefBundleIdentifier: "bundle_identifier",
	sender.RefSenderReference: "sender_reference", sender.RefMeshMessageID: "mesh_message_id", sender.RefDocumentID: "document_id",
}

// AlertColumns lists sender_alerts' columns in the order of ScanAlert.
const AlertColumns = `id, coalesce(transmission_id, ''), reason, code, message, mesh_message_id, created_at, delivery, delivered_at, attempts, next_attempt_at, last_error`

// ScanAlert reads a row of AlertColumns.
func ScanAlert(r Row) (sender.Alert, error) {
	var a sender.Alert
	var reason string
	var created, delivered, next int64
	err := r.Scan(&a.ID, &a.TransmissionID, &reason, &a.Code, &a.Message, &a.MeshMessageID, &created, &a.Delivery, &delivered, &a.Attempts, &next, &a.LastError)
	a.Reason, a.CreatedAt, a.DeliveredAt, a.NextAttemptAt = sender.Reason(reason), FromMicros(created), FromMicros(delivered), FromMicros(next)
	return a, err
}

// Events is the query of a transmission's history in order ($1: its id),
// rows for ScanEvent.
const Events = `SELECT id, transmission_id, at, from_state, to_state, note, actor FROM sender_events WHERE transmission_id = $1 ORDER BY id`

// InsertEvent adds an event: transmission id, at, from, to, note, actor.
const InsertEvent = `INSERT INTO sender_events (transmission_id, at, from_state, to_state, note, actor) VALUES ($1, $2, $3, $4, $5, $6)`

// ScanEvent reads a row of Events.
func ScanEvent(r Row) (sender.Event, error) {
	var e sender.Event
	var at int64
	var from, to string
	err := r.Scan(&e.ID, &e.TransmissionID, &at, &from, &to, &e.Note, &e.Actor)
	e.At, e.From, e.To = FromMicros(at), sender.State(from), sender.State(to)
	return e, err
}

// CheckTransition refuses p on t, as read under the transaction's lock,
// when t is not in one of p.From or p.RequireIdle finds a send attempt
// recorded (sender.ErrConflict).
func CheckTransition(t sender.Transmission, p sender.TransitionParams) error {
	if len(p.From) > 0 && !slices.Contains(p.From, t.State) {
		return fmt.Errorf("transmission %s is %s: %w", p.ID, t.State, sender.ErrConflict)
	}
	if p.RequireIdle && t.AttemptFile != "" {
		return fmt.Errorf("transmission %s is being sent (attempt %d): %w", p.ID, t.Attempts, sender.ErrConflict)
	}
	return nil
}

// Update is the UPDATE statement of p (its WHERE names p.ID as the last
// argument) and its arguments: updated_at, the state when p.To is set,
// the lease when released, and every field p.Set gives.
func Update(p sender.TransitionParams) (string, []any) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	sets := []string{"updated_at = " + arg(Micros(p.At))}
	if p.To != "" {
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
			sets = append(sets, col+" = "+arg(Micros(*v)))
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
	where := arg(p.ID)
	return `UPDATE sender_transmissions SET ` + strings.Join(sets, ", ") + ` WHERE id = ` + where, args
}

// Micros is t in Unix microseconds, 0 for the zero time.
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// FromMicros is the time of Unix microseconds v, the zero time for 0.
func FromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// InsertAlert adds an alert (AlertArgs); a second alert with the same
// reason for the same transmission is ignored (the unique index keeps
// exactly one).
const InsertAlert = `INSERT INTO sender_alerts (transmission_id, reason, code, message, mesh_message_id, created_at, delivery, next_attempt_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $6) ON CONFLICT DO NOTHING`

// AlertArgs are InsertAlert's arguments for a raised about transmission
// txID ("" for none) at at.
func AlertArgs(txID string, a *sender.NewAlert, at time.Time) []any {
	var tid any
	if txID != "" {
		tid = txID
	}
	delivery := a.Delivery
	if delivery == "" {
		delivery = sender.DeliveryPending
	}
	return []any{tid, string(a.Reason), a.Code, a.Message, a.MeshMessageID, Micros(at), delivery}
}

// InsertInbox records a processed inbox message (InboxArgs); its primary
// key refuses a second record.
const InsertInbox = `INSERT INTO sender_inbox (message_id, kind, transmission_id, code, outcome, received_at) VALUES ($1, $2, $3, $4, $5, $6)`

// InboxArgs are InsertInbox's arguments.
func InboxArgs(r sender.InboxRecord) []any {
	return []any{r.MessageID, r.Kind, r.TransmissionID, r.Code, r.Outcome, Micros(r.ReceivedAt)}
}

// InsertTransmission stores a new transmission (TransmissionArgs);
// created_at and updated_at are both $23.
const InsertTransmission = `INSERT INTO sender_transmissions (id, idem_key, state, source, workflow_id, ack_workflow_id,
	mesh_from, mesh_to, subject, local_id, header_id, bundle_id, bundle_identifier, document_id, sender_reference, version,
	replaces_id, resend_of, content_type, payload, input, next_attempt_at, created_at, updated_at, hold_until, send_by, consultation)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $23, $24, $25, $26)`

// TransmissionArgs are InsertTransmission's arguments for nt created at at.
func TransmissionArgs(nt sender.NewTransmission, at time.Time) []any {
	t := nt.Transmission
	payload := nt.Payload
	if payload == nil {
		payload = []byte{}
	}
	return []any{t.ID, t.Key, string(t.State), t.Source, t.WorkflowID, t.AckWorkflowID, t.From, t.To, t.Subject, t.LocalID,
		t.HeaderID, t.BundleID, t.BundleIdentifier, t.DocumentID, t.SenderReference, t.Version, t.ReplacesID, t.ResendOf,
		t.ContentType, payload, nt.Input, Micros(t.NextAttemptAt), Micros(at), Micros(t.HoldUntil), Micros(t.SendBy), t.Consultation}
}

// Submitted is the first event of nt, stored at at with InsertEvent,
// naming the waiting versions it superseded.
func Submitted(nt sender.NewTransmission, at time.Time, superseded []string) []any {
	return []any{nt.ID, Micros(at), "", string(nt.State), sender.SubmittedNote(superseded), nt.By}
}

// Supersede retires the waiting versions of a consultation (SupersedeArgs):
// same consultation, another document, queued with no attempt recorded, a
// version no higher; it returns their ids.
const Supersede = `UPDATE sender_transmissions SET state = 'superseded', superseded_by = $1, updated_at = $2,
	lease_owner = '', lease_until = 0
	WHERE consultation = $3 AND document_id <> $4 AND state = 'queued' AND attempt_file = '' AND version <= $5
	RETURNING id`

// SupersedeArgs are Supersede's arguments for t, created at at.
func SupersedeArgs(t sender.Transmission, at time.Time) []any {
	return []any{t.ID, Micros(at), t.Consultation, t.DocumentID, t.Version}
}

// Superseded is the event of a version that newer retired, stored at at
// with InsertEvent.
func Superseded(id, newer string, at time.Time) []any {
	return []any{id, Micros(at), string(sender.StateQueued), string(sender.StateSuperseded), sender.SupersededNote(newer), ""}
}

// NewerVersion finds the version of t's consultation at least as new as t
// that still counts (NewerArgs; rows of TransmissionColumns): another
// document neither failed, superseded nor cancelled.
func NewerVersion(columns string) string {
	return `SELECT ` + columns + ` FROM sender_transmissions
	WHERE consultation = $1 AND document_id <> $2 AND state NOT IN ('failed', 'superseded', 'cancelled') AND version >= $3
	ORDER BY version DESC, created_at DESC LIMIT 1`
}

// NewerArgs are NewerVersion's arguments for t.
func NewerArgs(t sender.Transmission) []any {
	return []any{t.Consultation, t.DocumentID, t.Version}
}

// List is the query of p over columns, newest first, and its arguments.
func List(columns string, p sender.ListParams) (string, []any) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + columns + ` FROM sender_transmissions`
	var args []any
	if p.State != "" {
		args = append(args, string(p.State))
		q += ` WHERE state = $1`
	}
	args = append(args, limit)
	return q + fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args)), args
}

// Find is the query of the transmissions whose ref is $1, newest first;
// false for an unknown ref.
func Find(columns string, ref sender.Ref) (string, bool) {
	col, ok := RefColumns[ref]
	return `SELECT ` + columns + ` FROM sender_transmissions WHERE ` + col + ` = $1 ORDER BY created_at DESC, id DESC`, ok
}
