// Package meshsql declares the MESH server's tables once for both SQL
// drivers (sqlitestore, pgstore): the column lists, the conditions their
// partial indexes repeat, how a row maps to meshserver's types, and every
// statement whose text the two dialects share. Placeholders are $1, $2, …:
// PostgreSQL's own, and SQLite binds a "$N" parameter to argument N.
//
// The drivers keep what differs: how a time and a mailbox's workflows are
// stored (timestamptz and text[] in PostgreSQL, microseconds and JSON text
// in SQLite), the statements only one dialect can say (PostgreSQL's
// data-modifying CTEs, SKIP LOCKED and arrays; SQLite's INDEXED BY), and
// how each request is done in one round trip.
package meshsql

import (
	"fmt"
	"strings"
	"time"

	"github.com/gpcm/gpcm/meshserver"
)

// InlineMax is the largest body both drivers' MESH stores keep in their
// database's blobs table with the message (meshserver.Store.InlineMax):
// the threshold of the tier.Store the server is given in front of the
// same table (tier.DefaultThreshold, as TestInlineMaxIsTheTierThreshold
// holds), so that a body of that size is a row of the database whether
// Send kept it or the payload store put it.
const InlineMax = 32 << 10

// Column lists, in the order of the Dest and Args functions.
const (
	MessageColumns = `id, message_type, sender, recipient, workflow_id, subject, local_id, partner_id, file_name,
	checksum, content_type, content_encoding, encrypted, compressed, linked_msg_id, status, status_code,
	status_event, status_description, total_chunks, size, created_at, status_at, expires_at, acked_at`
	MailboxColumns = `id, password, ods_code, name, active, workflows`
)

// MessageParams are the placeholders of MessageColumns, $1 to $25.
const MessageParams = `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25`

// The conditions of the partial indexes (mesh_0002, mesh_0004), spelled
// as there, for the queries that must use them.
const (
	InboxCond     = `status = '` + meshserver.StatusAccepted + `'`
	UploadingCond = `status = '` + meshserver.StatusUploading + `'`
	WaitingCond   = `status IN ('` + meshserver.StatusAccepted + `', '` + meshserver.StatusUploading + `')`
	FinishedCond  = `status IN ('` + meshserver.StatusAcknowledged + `', '` + meshserver.StatusUndeliverable + `', '` + meshserver.StatusError + `')`
	ReportCond    = `message_type = '` + meshserver.TypeReport + `'`
)

// Statements both dialects run as they are.
const (
	PutMailbox = `INSERT INTO mesh_mailboxes (` + MailboxColumns + `) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET password = excluded.password, ods_code = excluded.ods_code,
			name = excluded.name, active = excluded.active, workflows = excluded.workflows`
	MailboxByID      = `SELECT ` + MailboxColumns + ` FROM mesh_mailboxes WHERE id = $1`
	ListMailboxes    = `SELECT ` + MailboxColumns + ` FROM mesh_mailboxes WHERE $1 = '' OR ods_code = $1 ORDER BY id`
	SetMailboxActive = `UPDATE mesh_mailboxes SET active = $1 WHERE id = $2`

	InsertMessage = `INSERT INTO mesh_messages (` + MessageColumns + `) VALUES (` + MessageParams + `)`
	MessageByID   = `SELECT ` + MessageColumns + ` FROM mesh_messages WHERE id = $1`
	// InsertChunk's arguments are message id, number, size, blob key.
	InsertChunk = `INSERT INTO mesh_chunks (message_id, n, size, blob_key) VALUES ($1, $2, $3, $4)`
	// UpsertChunk is InsertChunk replacing a chunk with the same number.
	UpsertChunk = InsertChunk + `
		ON CONFLICT (message_id, n) DO UPDATE SET size = excluded.size, blob_key = excluded.blob_key`
	ChunkByNumber = `SELECT size, blob_key FROM mesh_chunks WHERE message_id = $1 AND n = $2`
	// ChunkTotals counts a message's chunks and sums their sizes.
	ChunkTotals = `SELECT count(*), coalesce(sum(size), 0) FROM mesh_chunks WHERE message_id = $1`
	// SetUpload stores size $1, status $2, status time $3 and expiry $4 of
	// message $5.
	SetUpload = `UPDATE mesh_messages SET size = $1, status = $2, status_at = $3, expires_at = $4 WHERE id = $5`
	// SetStatus stores status $1, code $2, event $3, description $4 and
	// status time $5 of message $6.
	SetStatus = `UPDATE mesh_messages SET status = $1, status_code = $2, status_event = $3,
		status_description = $4, status_at = $5 WHERE id = $6`

	CountInbox = `SELECT count(*) FROM mesh_messages WHERE recipient = $1 AND ` + InboxCond
	// InboxUsage counts and sums what waits for mailbox $1, each status
	// through its index.
	InboxUsage = `SELECT count(*), coalesce(sum(size), 0) FROM (
		SELECT size FROM mesh_messages WHERE recipient = $1 AND ` + InboxCond + `
		UNION ALL
		SELECT size FROM mesh_messages WHERE recipient = $1 AND ` + UploadingCond + `) waiting`
	CountByStatus = `SELECT status, count(*) FROM mesh_messages GROUP BY status`

	// InsertNonce records token ($1 mailbox, $2 nonce, $3 count, $4 time);
	// it inserts nothing for a token recorded before.
	InsertNonce = `INSERT INTO mesh_nonces (mailbox, nonce, count, used_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`
	PruneNonces = `DELETE FROM mesh_nonces WHERE used_at < $1`

	PutPatient = `INSERT INTO mesh_patients (nhs_number, birth_date, surname, practice_ods)
		VALUES ($1, $2, $3, $4) ON CONFLICT (nhs_number) DO UPDATE SET birth_date = excluded.birth_date,
		surname = excluded.surname, practice_ods = excluded.practice_ods`
	PatientByNHSNumber = `SELECT birth_date, surname, practice_ods FROM mesh_patients WHERE nhs_number = $1`
)

// Times is how a dialect stores a time: T is what its driver scans a time
// column into.
type Times[T any] interface {
	// Arg is the value bound for t; the zero time means none.
	Arg(t time.Time) any
	// Time reads a scanned value back, in UTC; none is the zero time.
	Time(v T) time.Time
}

// MessageRow holds the scan targets of one row of MessageColumns.
type MessageRow[T any] struct {
	m     meshserver.Message
	times [4]T
}

// Dest returns the scan targets, in MessageColumns order.
func (r *MessageRow[T]) Dest() []any {
	m := &r.m
	return []any{&m.ID, &m.MessageType, &m.Sender, &m.Recipient, &m.WorkflowID, &m.Subject, &m.LocalID,
		&m.PartnerID, &m.FileName, &m.Checksum, &m.ContentType, &m.ContentEncoding, &m.Encrypted, &m.Compressed,
		&m.LinkedMsgID, &m.Status, &m.StatusCode, &m.StatusEvent, &m.StatusDescription, &m.TotalChunks, &m.Size,
		&r.times[0], &r.times[1], &r.times[2], &r.times[3]}
}

// Message returns the scanned message.
func (r *MessageRow[T]) Message(c Times[T]) meshserver.Message {
	m := r.m
	m.CreatedAt, m.StatusAt, m.ExpiresAt, m.AckedAt = c.Time(r.times[0]), c.Time(r.times[1]), c.Time(r.times[2]), c.Time(r.times[3])
	return m
}

// MessageArgs are the values of MessageColumns for m.
func MessageArgs[T any](c Times[T], m meshserver.Message) []any {
	return []any{m.ID, m.MessageType, m.Sender, m.Recipient, m.WorkflowID, m.Subject, m.LocalID, m.PartnerID, m.FileName,
		m.Checksum, m.ContentType, m.ContentEncoding, m.Encrypted, m.Compressed, m.LinkedMsgID, m.Status,
		m.StatusCode, m.StatusEvent, m.StatusDescription, m.TotalChunks, m.Size, c.Arg(m.CreatedAt),
		c.Arg(m.StatusAt), c.Arg(m.ExpiresAt), c.Arg(m.AckedAt)}
}

// Params are n placeholders from $first on.
func Params(first, n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = fmt.Sprintf("$%d", first+i)
	}
	return strings.Join(p, ", ")
}

// Qualified is a column list with each column prefixed "alias.".
func Qualified(alias, cols string) string {
	list := strings.Split(cols, ",")
	for i, c := range list {
		list[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(list, ", ")
}

// Workflows is how a dialect stores a mailbox's workflow list: W is what
// its driver binds and scans.
type Workflows[W any] interface {
	// Arg is the value bound for a list; nil or empty (any workflow) is
	// stored as none.
	Arg(wf []string) (any, error)
	// Workflows reads a scanned value back; none is nil.
	Workflows(v W) ([]string, error)
}

// MailboxRow holds the scan targets of one row of MailboxColumns.
type MailboxRow[W any] struct {
	mb meshserver.Mailbox
	wf W
}

// Dest returns the scan targets, in MailboxColumns order.
func (r *MailboxRow[W]) Dest() []any {
	return []any{&r.mb.ID, &r.mb.Password, &r.mb.ODSCode, &r.mb.Name, &r.mb.Active, &r.wf}
}

// Mailbox returns the scanned mailbox.
func (r *MailboxRow[W]) Mailbox(c Workflows[W]) (meshserver.Mailbox, error) {
	mb := r.mb
	wf, err := c.Workflows(r.wf)
	if err != nil {
		return mb, fmt.Errorf("workflows of mailbox %s: %w", mb.ID, err)
	}
	mb.Workflows = wf
	return mb, nil
}

// MailboxArgs are the values of MailboxColumns for mb.
func MailboxArgs[W any](c Workflows[W], mb meshserver.Mailbox) ([]any, error) {
	wf, err := c.Arg(mb.Workflows)
	if err != nil {
		return nil, fmt.Errorf("workflows of mailbox %s: %w", mb.ID, err)
	}
	return []any{mb.ID, mb.Password, mb.ODSCode, mb.Name, mb.Active, wf}, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Filter returns the condition of f on workflow_id (" AND …", or "" for
// none) with its argument numbered $n.
func Filter(f meshserver.WorkflowFilter, n int) (string, []any) {
	var cond, arg string
	switch f.Op {
	case meshserver.FilterEquals:
		cond, arg = fmt.Sprintf("workflow_id = $%d", n), f.Value
	case meshserver.FilterPrefix:
		cond, arg = fmt.Sprintf(`workflow_id LIKE $%d ESCAPE '\'`, n), likeEscaper.Replace(f.Value)+"%"
	case meshserver.FilterContains:
		cond, arg = fmt.Sprintf(`workflow_id LIKE $%d ESCAPE '\'`, n), "%"+likeEscaper.Replace(f.Value)+"%"
	default:
		return "", nil
	}
	if f.Negate {
		cond = "NOT (" + cond + ")"
	}
	return " AND " + cond, []any{arg}
}

// InboxPage is the query of the ids of an inbox page, and its arguments:
// accepted messages to mailbox $1 after id $2, in id order.
func InboxPage(p meshserver.InboxPageParams) (string, []any) {
	q := `SELECT id FROM mesh_messages WHERE recipient = $1 AND ` + InboxCond + ` AND id > $2`
	args := []any{p.Mailbox, p.After}
	fq, fargs := Filter(p.Filter, 3)
	q += fq
	args = append(args, fargs...)
	q += fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args)+1)
	return q, append(args, max(p.Limit, 0))
}

// ListMessages is the query of UpkeepStore.ListMessages, and its
// arguments.
func ListMessages[T any](c Times[T], p meshserver.ListMessagesParams) (string, []any) {
	q := `SELECT ` + MessageColumns + ` FROM mesh_messages WHERE 1 = 1`
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		q += fmt.Sprintf(cond, len(args))
	}
	if p.Recipient != "" {
		add(` AND recipient = $%d`, p.Recipient)
	}
	if p.Sender != "" {
		add(` AND sender = $%d`, p.Sender)
	}
	if !p.Since.IsZero() {
		add(` AND created_at >= $%d`, c.Arg(p.Since))
	}
	if p.Before != "" {
		add(` AND id < $%d`, p.Before)
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 1000
	}
	add(` ORDER BY id DESC LIMIT $%d`, limit)
	return q, args
}

// TokenArgs are the arguments of InsertNonce for tok.
func TokenArgs[T any](c Times[T], tok meshserver.Token) []any {
	return []any{tok.Seen.ID, tok.Nonce, tok.Count, c.Arg(tok.At)}
}
