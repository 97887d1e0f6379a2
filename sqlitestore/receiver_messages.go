package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gpcm/gpcm/internal/rcvsql"
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
	state, attempts, last_error, header_id, bundle_identifier, sender_reference, busack_requested, infack_code, processed_at, too_large`

func scanRMsg(sc rcvScanner) (receiver.Message, error) {
	var m receiver.Message
	var recv, proc int64
	var acked, busreq, tooLarge int
	var state string
	err := sc.Scan(&m.ID, &m.MeshID, &m.WorkflowID, &m.From, &m.To, &m.Subject, &m.LocalID, &m.BlobKey, &m.Size, &recv, &acked,
		&state, &m.Attempts, &m.LastError, &m.HeaderID, &m.BundleIdentifier, &m.SenderReference, &busreq, &m.InfAckCode, &proc, &tooLarge)
	m.ReceivedAt, m.ProcessedAt = fromMicros(recv), fromMicros(proc)
	m.MeshAcked, m.BusAckRequested, m.State, m.TooLarge = acked != 0, busreq != 0, receiver.MessageState(state), tooLarge != 0
	return m, err
}

// RecordMessages stores downloaded messages once per MESH id, with the
// payloads given inline, in one transaction.
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
	st := newTxStmts(tx)
	defer st.closeAll()
	for _, p := range ps {
		var m receiver.Message
		m, err = scanRMsg(st.QueryRowContext(ctx, `INSERT INTO receiver_messages (mesh_id, workflow_id, sender, recipient, subject, local_id,
			blob_key, size, received_at, state, too_large) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mesh_id) DO NOTHING
			RETURNING `+rmsgCols,
			p.MeshID, p.WorkflowID, p.From, p.To, p.Subject, p.LocalID, p.BlobKey, p.Size, toMicros(p.ReceivedAt), string(receiver.MessageReceived),
			boolInt(p.TooLarge)))
		created := err == nil
		if errors.Is(err, sql.ErrNoRows) {
			m, err = s.getMsg(ctx, st, `mesh_id = ?`, p.MeshID)
		} else if err == nil && p.Payload != nil {
			// Its own table: written once, not with every state change.
			_, err = st.ExecContext(ctx, `INSERT INTO receiver_payloads (message_id, payload) VALUES (?, ?)`, m.ID, rcvBytes(p.Payload))
		}
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: record message %s: %w", p.MeshID, err)
		}
		out = append(out, receiver.Recorded{Message: m, Created: created})
	}
	if err = tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlitestore: record messages: %w", err)
	}
	return out, nil
}

type rcvQuerier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// rcvExecer is a *sql.Tx or a txStmts on one.
type rcvExecer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
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
		WHERE id IN (SELECT id FROM receiver_messages INDEXED BY receiver_messages_claim
			WHERE state = ? AND lease_until < ? AND next_attempt_at <= ? ORDER BY id LIMIT ?)
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
	if err := s.loadPayloads(ctx, out); err != nil {
		return nil, err
	}
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
func rcvArchiveReplaced(ctx context.Context, tx rcvExecer, newState receiver.DocumentState, oldID, newID, now int64, by string) error {
	if newState != receiver.DocAwaitingFiling && newState != receiver.DocFiled {
		return nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE receiver_documents SET state = ?, replaced_by_id = ?, updated_at = ? WHERE id = ? AND state <> ?`,
		string(receiver.DocReplaced), newID, now, oldID, string(receiver.DocReplaced))
	if err != nil {
		return fmt.Errorf("sqlitestore: archive document %d: %w", oldID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return rcvAddEvents(ctx, tx, oldID, now, []receiver.NewDocumentEvent{rcvsql.ReplacedEvent(newID, by)})
}

func rcvInsertAcks(ctx context.Context, tx rcvExecer, msgID int64, acks []receiver.NewAck, now int64) error {
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

func rcvNonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
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
