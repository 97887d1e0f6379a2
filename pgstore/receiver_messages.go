package pgstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gpcm/gpcm/internal/rcvsql"
	"github.com/gpcm/gpcm/receiver"
)

var _ receiver.Store = (*ReceiverStore)(nil)

// ReceiverStore implements receiver.Store on a DB. Several receiver
// processes may share one schema: claims lock their rows with FOR UPDATE
// SKIP LOCKED, every outcome commits with the acknowledgements it enqueues,
// and duplicates are refused by unique keys.
type ReceiverStore struct{ db *DB }

// Receiver returns the Generic FHIR Receiver's store on db.
func (db *DB) Receiver() *ReceiverStore { return &ReceiverStore{db: db} }

// micros stores a time as Unix microseconds, 0 for the zero time (the
// receiver and sender tables keep the SQLite schema's representation).
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// retryable reports a deadlock or serialization failure, after which the
// whole transaction may simply run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// inTx runs fn in a READ COMMITTED transaction, again (up to 5 times) when
// PostgreSQL aborted it for a deadlock between concurrent processes. fn's
// errors are returned as they are.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		tx, err := db.pool.Begin(ctx)
		if err != nil {
			return err
		}
		err = fn(tx)
		if err == nil {
			err = tx.Commit(ctx)
		} else {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
		if err != nil && retryable(err) && attempt < 5 && ctx.Err() == nil {
			continue
		}
		return err
	}
}

const rmsgCols = `id, mesh_id, workflow_id, sender, recipient, subject, local_id, blob_key, size, received_at, mesh_acked,
	state, attempts, last_error, header_id, bundle_identifier, sender_reference, busack_requested, infack_code, processed_at, too_large`

func scanRMsg(sc pgx.Row) (receiver.Message, error) {
	var m receiver.Message
	var recv, proc int64
	var state string
	err := sc.Scan(&m.ID, &m.MeshID, &m.WorkflowID, &m.From, &m.To, &m.Subject, &m.LocalID, &m.BlobKey, &m.Size, &recv, &m.MeshAcked,
		&state, &m.Attempts, &m.LastError, &m.HeaderID, &m.BundleIdentifier, &m.SenderReference, &m.BusAckRequested, &m.InfAckCode, &proc, &m.TooLarge)
	m.ReceivedAt, m.ProcessedAt, m.State = fromMicros(recv), fromMicros(proc), receiver.MessageState(state)
	return m, err
}

func collectRMsgs(rows pgx.Rows, err error) ([]receiver.Message, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (receiver.Message, error) { return scanRMsg(r) })
}

// RecordMessages stores downloaded messages once per MESH id, in one
// transaction, in the order given.
func (s *ReceiverStore) RecordMessages(ctx context.Context, ps []receiver.RecordMessageParams) ([]receiver.Recorded, error) {
	var out []receiver.Recorded
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		for _, p := range ps {
			m, err := scanRMsg(tx.QueryRow(ctx, `INSERT INTO receiver_messages (mesh_id, workflow_id, sender, recipient, subject, local_id,
				blob_key, size, received_at, state, too_large) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (mesh_id) DO NOTHING
				RETURNING `+rmsgCols,
				p.MeshID, p.WorkflowID, p.From, p.To, p.Subject, p.LocalID, p.BlobKey, p.Size, micros(p.ReceivedAt), string(receiver.MessageReceived),
				p.TooLarge))
			created := err == nil
			if errors.Is(err, pgx.ErrNoRows) {
				m, err = s.getMsg(ctx, tx, `mesh_id = $1`, p.MeshID)
			} else if err == nil && p.Payload != nil {
				_, err = tx.Exec(ctx, `INSERT INTO receiver_payloads (message_id, payload) VALUES ($1, $2)`, m.ID, rcvBytes(p.Payload))
			}
			if err != nil {
				return fmt.Errorf("pgstore: record message %s: %w", p.MeshID, err)
			}
			out = append(out, receiver.Recorded{Message: m, Created: created})
		}
		return nil
	})
	if err != nil {
		return nil, rcvErr("record messages", err)
	}
	return out, nil
}

// rcvErr prefixes an error that is not already a pgstore or sentinel error.
func rcvErr(what string, err error) error {
	for _, s := range []error{receiver.ErrNotFound, receiver.ErrConflict, receiver.ErrDuplicateMessage,
		receiver.ErrDuplicateDocument, receiver.ErrReplacementTarget} {
		if errors.Is(err, s) {
			return err
		}
	}
	return fmt.Errorf("pgstore: %s: %w", what, err)
}

func (s *ReceiverStore) getMsg(ctx context.Context, q querier, where string, arg any) (receiver.Message, error) {
	m, err := scanRMsg(q.QueryRow(ctx, `SELECT `+rmsgCols+` FROM receiver_messages WHERE `+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("message %v: %w", arg, receiver.ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("pgstore: get message %v: %w", arg, err)
	}
	return m, nil
}

// qMarkMeshAcked locks the rows in id order, the order in which
// CompleteMessages locks a claimed batch: locked in the order of the
// mesh_id index instead, the two deadlocked when another worker or process
// completed the same messages.
const qMarkMeshAcked = `UPDATE receiver_messages SET mesh_acked = true WHERE id IN (
	SELECT id FROM receiver_messages WHERE NOT mesh_acked AND mesh_id = ANY($1) ORDER BY id FOR UPDATE)`

// MarkMeshAcked records MESH acknowledgements in one statement.
func (s *ReceiverStore) MarkMeshAcked(ctx context.Context, meshIDs ...string) error {
	if len(meshIDs) == 0 {
		return nil
	}
	if _, err := s.db.pool.Exec(ctx, qMarkMeshAcked, meshIDs); err != nil {
		return fmt.Errorf("pgstore: mark %d messages acknowledged: %w", len(meshIDs), err)
	}
	return nil
}

// PendingMeshAcks lists stored messages not yet acknowledged on MESH.
func (s *ReceiverStore) PendingMeshAcks(ctx context.Context, limit int) ([]receiver.Message, error) {
	out, err := collectRMsgs(s.db.pool.Query(ctx, `SELECT `+rmsgCols+` FROM receiver_messages WHERE NOT mesh_acked ORDER BY id LIMIT $1`, limit))
	if err != nil {
		return nil, fmt.Errorf("pgstore: pending MESH acks: %w", err)
	}
	return out, nil
}

// GetMessage returns receiver.ErrNotFound for an unknown id.
func (s *ReceiverStore) GetMessage(ctx context.Context, id int64) (receiver.Message, error) {
	return s.getMsg(ctx, s.db.pool, `id = $1`, id)
}

// GetMessageByMeshID returns receiver.ErrNotFound for an unknown MESH id.
func (s *ReceiverStore) GetMessageByMeshID(ctx context.Context, meshID string) (receiver.Message, error) {
	return s.getMsg(ctx, s.db.pool, `mesh_id = $1`, meshID)
}

// ClaimMessages leases received messages with a free or expired lease,
// skipping rows another process is claiming at the same moment.
func (s *ReceiverStore) ClaimMessages(ctx context.Context, p receiver.ClaimParams) ([]receiver.Message, error) {
	now := micros(p.Now)
	rows, err := s.db.pool.Query(ctx, `UPDATE receiver_messages SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM receiver_messages WHERE state = $3 AND lease_until < $4 AND next_attempt_at <= $4
			ORDER BY id LIMIT $5 FOR UPDATE SKIP LOCKED)
		RETURNING `+rmsgCols, p.Owner, micros(p.Now.Add(p.Lease)), string(receiver.MessageReceived), now, p.Limit)
	out, err := collectRMsgs(rows, err)
	if err == nil {
		err = s.loadPayloads(ctx, out)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: claim messages: %w", err)
	}
	slices.SortFunc(out, func(a, b receiver.Message) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// ReleaseMessage ends a claim and schedules a retry.
func (s *ReceiverStore) ReleaseMessage(ctx context.Context, p receiver.ReleaseParams) error {
	tag, err := s.db.pool.Exec(ctx, `UPDATE receiver_messages SET lease_owner = '', lease_until = 0, last_error = $1, next_attempt_at = $2
		WHERE id = $3 AND lease_owner = $4 AND state = $5`, p.Error, micros(p.RetryAt), p.ID, p.Owner, string(receiver.MessageReceived))
	if err != nil {
		return fmt.Errorf("pgstore: release message %d: %w", p.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("release message %d: %w", p.ID, receiver.ErrConflict)
	}
	return nil
}

// CompleteMessage records a message's outcome, its duplicate keys, its
// document and its acks in one transaction, holding the message row locked.
func (s *ReceiverStore) CompleteMessage(ctx context.Context, p receiver.CompleteParams) (receiver.Document, error) {
	docs, err := s.CompleteMessages(ctx, []receiver.CompleteParams{p})
	if err != nil {
		return receiver.Document{}, err
	}
	return docs[0], nil
}

// rcvArchiveReplaced archives the replaced document once its replacement is
// in the workflow (awaiting filing or filed), with a history event by the
// actor of the change.
func rcvArchiveReplaced(ctx context.Context, tx pgx.Tx, newState receiver.DocumentState, oldID, newID, now int64, by string) error {
	if newState != receiver.DocAwaitingFiling && newState != receiver.DocFiled {
		return nil
	}
	tag, err := tx.Exec(ctx, `UPDATE receiver_documents SET state = $1, replaced_by_id = $2, updated_at = $3 WHERE id = $4 AND state <> $1`,
		string(receiver.DocReplaced), newID, now, oldID)
	if err != nil {
		return fmt.Errorf("archive document %d: %w", oldID, err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	return rcvAddEvents(ctx, tx, oldID, now, []receiver.NewDocumentEvent{rcvsql.ReplacedEvent(newID, by)})
}

// rcvInsertAcks enqueues acks; a second ack of one kind for a message is a
// conflict (the unique key (message_id, kind) decides across processes).
func rcvInsertAcks(ctx context.Context, tx pgx.Tx, msgID int64, acks []receiver.NewAck, now int64) error {
	for _, a := range acks {
		_, err := tx.Exec(ctx, `INSERT INTO receiver_acks (message_id, kind, code, recipient, workflow_id, header_id, body, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, msgID, string(a.Kind), a.Code, a.To, a.WorkflowID, a.HeaderID, rcvBytes(a.Body), now)
		if isUniqueViolation(err) {
			return fmt.Errorf("message %d already has a %s ack: %w", msgID, a.Kind, receiver.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("enqueue ack for message %d: %w", msgID, err)
		}
	}
	return nil
}

func rcvBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CountMessages counts messages per state.
func (s *ReceiverStore) CountMessages(ctx context.Context) (map[receiver.MessageState]int, error) {
	out := map[receiver.MessageState]int{}
	err := s.countBy(ctx, `SELECT state, count(*) FROM receiver_messages GROUP BY state`, func(k string, n int) { out[receiver.MessageState(k)] = n })
	return out, err
}

func (s *ReceiverStore) countBy(ctx context.Context, q string, f func(string, int)) error {
	rows, err := s.db.pool.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("pgstore: count: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return fmt.Errorf("pgstore: count: %w", err)
		}
		f(k, n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgstore: count: %w", err)
	}
	return nil
}

func rcvNonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// rcvStoredAtt is an attachment as stored (the blob key is not in the
// API's JSON of receiver.Attachment).
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
