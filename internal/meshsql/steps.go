package meshsql

import (
	"context"
	"errors"
	"fmt"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/meshserver"
)

// ErrNoRows is what a Tx's QueryRow scan returns for no row (each driver
// maps its own to it).
var ErrNoRows = errors.New("meshsql: no rows")

// Tx is the part of a driver's transaction the shared steps below use.
type Tx interface {
	// QueryRow runs a one-row query; its Scan returns ErrNoRows for none.
	QueryRow(ctx context.Context, q string, args ...any) Row
	// Query runs a query; the caller closes the rows.
	Query(ctx context.Context, q string, args ...any) (Rows, error)
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, q string, args ...any) (int64, error)
}

// Row is one scanned row.
type Row interface{ Scan(dest ...any) error }

// Rows are the rows of a query.
type Rows interface {
	Row
	Next() bool
	Err() error
	Close()
}

// Collect scans every row with scan and closes rows.
func Collect[V any](rows Rows, scan func(Row) (V, error)) ([]V, error) {
	defer rows.Close()
	var out []V
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ScanMessage scans one row of MessageColumns.
func ScanMessage[T any](c Times[T]) func(Row) (meshserver.Message, error) {
	return func(r Row) (meshserver.Message, error) {
		var mr MessageRow[T]
		err := r.Scan(mr.Dest()...)
		return mr.Message(c), err
	}
}

// UploadChunk is RequestStore.UploadChunk in tx; lockMessage reads the
// message ($1) and keeps others from changing it until tx ends (for
// SQLite, whose one writer runs tx alone, MessageByID).
func UploadChunk[T any](ctx context.Context, tx Tx, c Times[T], lockMessage string, p meshserver.UploadChunkParams) (meshserver.UploadChunkResult, error) {
	var res meshserver.UploadChunkResult
	ch := p.Chunk
	m, err := ScanMessage(c)(tx.QueryRow(ctx, lockMessage, ch.MessageID))
	switch {
	case errors.Is(err, ErrNoRows) || err == nil && m.Sender != p.Sender:
		return res, fmt.Errorf("message %s of %s: %w", ch.MessageID, p.Sender, meshserver.ErrNotFound)
	case err != nil:
		return res, err
	case m.Status != meshserver.StatusUploading:
		return res, fmt.Errorf("message %s is %s: %w", m.ID, m.Status, meshserver.ErrConflict)
	}
	var size int64
	switch err := tx.QueryRow(ctx, ChunkByNumber, ch.MessageID, ch.Number).Scan(&size, &res.Replaced); {
	case errors.Is(err, ErrNoRows):
	case err != nil:
		return res, err
	}
	if _, err := tx.Exec(ctx, UpsertChunk, ch.MessageID, ch.Number, ch.Size, ch.BlobKey); err != nil {
		return res, err
	}
	var n int
	if err := tx.QueryRow(ctx, ChunkTotals, ch.MessageID).Scan(&n, &m.Size); err != nil {
		return res, err
	}
	if n >= m.TotalChunks {
		m.Status, m.StatusAt, m.ExpiresAt = meshserver.StatusAccepted, p.Now.UTC(), p.ExpiresAt.UTC()
		if p.ExpiresAt.IsZero() {
			m.ExpiresAt = p.ExpiresAt
		}
	}
	if _, err := tx.Exec(ctx, SetUpload, m.Size, m.Status, c.Arg(m.StatusAt), c.Arg(m.ExpiresAt), m.ID); err != nil {
		return res, err
	}
	if res.Replaced == ch.BlobKey {
		res.Replaced = ""
	}
	res.Message = m
	return res, nil
}

// ExpireDue is UpkeepStore.ExpireDue in tx; selectDue lists the due
// messages (MessageColumns; $1 now, $2 limit) and keeps others from
// changing them until tx ends.
func ExpireDue[T any](ctx context.Context, tx Tx, c Times[T], selectDue string, p meshserver.ExpireParams) ([]meshserver.Message, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := tx.Query(ctx, selectDue, c.Arg(p.Now), limit)
	if err != nil {
		return nil, err
	}
	due, err := Collect(rows, ScanMessage(c))
	if err != nil {
		return nil, err
	}
	for i, m := range due {
		expired, report := p.Outcome(m)
		if report != nil {
			if _, err := tx.Exec(ctx, InsertMessage, MessageArgs(c, *report)...); err != nil {
				return nil, err
			}
		}
		m.Status, m.StatusCode, m.StatusEvent = expired.Status, expired.StatusCode, expired.StatusEvent
		m.StatusDescription, m.StatusAt = expired.StatusDescription, expired.StatusAt
		if _, err := tx.Exec(ctx, SetStatus, m.Status, m.StatusCode, m.StatusEvent, m.StatusDescription, c.Arg(m.StatusAt), m.ID); err != nil {
			return nil, err
		}
		due[i] = m
	}
	return due, nil
}

// Download reads message $1 with the record of its chunk $2 and, when
// that chunk's body is a row of the blobs table, the body: columns
// MessageColumns (of m) then DownloadRow's.
var Download = `SELECT ` + Qualified("m", MessageColumns) + `, ` + DownloadColumns + `
	FROM mesh_messages m ` + DownloadJoins + `
	WHERE m.id = $1`

// DownloadColumns and DownloadJoins add chunk $2 of message m and its
// body, when it is in the blobs table, to a read of m.
const (
	DownloadColumns = `c.size, c.blob_key, b.key IS NOT NULL, b.data`
	DownloadJoins   = `LEFT JOIN mesh_chunks c ON c.message_id = m.id AND c.n = $2
	LEFT JOIN blobs b ON b.key = c.blob_key`
)

// DownloadRow holds the scan targets of DownloadColumns.
type DownloadRow struct {
	size   *int64
	key    *string
	inline bool
	body   []byte
}

// Dest returns the scan targets, in DownloadColumns order.
func (r *DownloadRow) Dest() []any { return []any{&r.size, &r.key, &r.inline, &r.body} }

// Download returns what RequestStore.Download returns for message m
// and chunk n.
func (r *DownloadRow) Download(m meshserver.Message, n int) meshserver.Download {
	d := meshserver.Download{Message: m, Inline: r.inline, Body: r.body}
	if r.key != nil && r.size != nil {
		d.HasChunk = true
		d.Chunk = meshserver.Chunk{MessageID: m.ID, Number: n, Size: *r.size, BlobKey: *r.key}
	}
	if d.Inline && d.Body == nil {
		d.Body = []byte{}
	}
	return d
}

// Track finds sender $1's data message $2 (TrackByID) or its data
// messages with local id $2 (TrackByLocalID), with the names and ODS
// codes of their recipient and sender mailboxes.
func Track(byLocalID bool) string {
	where := `m.id = $2`
	if byLocalID {
		where = `m.local_id = $2`
	}
	return `SELECT ` + Qualified("m", MessageColumns) + `,
		coalesce(r.name, ''), coalesce(r.ods_code, ''), coalesce(s.name, ''), coalesce(s.ods_code, '')
		FROM mesh_messages m
		LEFT JOIN mesh_mailboxes r ON r.id = m.recipient
		LEFT JOIN mesh_mailboxes s ON s.id = m.sender
		WHERE m.sender = $1 AND ` + where + ` AND m.message_type = '` + meshserver.TypeData + `' ORDER BY m.id`
}

// ScanTracked scans one row of Track.
func ScanTracked[T any](c Times[T]) func(Row) (meshserver.Tracked, error) {
	return func(r Row) (meshserver.Tracked, error) {
		var mr MessageRow[T]
		var t meshserver.Tracked
		err := r.Scan(append(mr.Dest(), &t.Recipient.Name, &t.Recipient.ODSCode, &t.Sender.Name, &t.Sender.ODSCode)...)
		t.Message = mr.Message(c)
		t.Recipient.ID, t.Sender.ID = t.Message.Recipient, t.Message.Sender
		return t, err
	}
}

// Err wraps err, a driver's failure of the step what, with the driver's
// name, leaving as they are the errors meshserver's callers branch on.
func Err(driver, what string, err error) error {
	for _, e := range []error{meshserver.ErrNotFound, meshserver.ErrConflict, meshserver.ErrReplay, meshserver.ErrRecipient, meshserver.ErrMailboxChanged} {
		if errors.Is(err, e) {
			return err
		}
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %s: %w", driver, what, err)
}

// CheckSend refuses a RequestStore.Send whose chunk cannot be stored as
// asked: an invalid blob key, a body larger than the store keeps inline.
func CheckSend(p meshserver.SendParams, inlineMax int64) error {
	if err := blob.ValidKey(p.Chunk.BlobKey); err != nil {
		return err
	}
	if int64(len(p.Body)) > inlineMax {
		return fmt.Errorf("inline body of %d bytes is larger than InlineMax (%d)", len(p.Body), inlineMax)
	}
	return nil
}

// Acknowledged is message m once acknowledged as p says.
func Acknowledged(m meshserver.Message, p meshserver.AcknowledgeParams) meshserver.Message {
	at := p.At.UTC()
	m.Status, m.StatusCode, m.StatusEvent, m.StatusDescription = meshserver.StatusAcknowledged, p.Code, p.Event, p.Description
	m.StatusAt, m.AckedAt = at, at
	return m
}

// StatusCounts reads the rows of the CountByStatus query.
func StatusCounts(rows Rows) (map[string]int, error) {
	type count struct {
		status string
		n      int
	}
	counts, err := Collect(rows, func(r Row) (c count, err error) { return c, r.Scan(&c.status, &c.n) })
	if err != nil {
		return nil, fmt.Errorf("count by status: %w", err)
	}
	out := make(map[string]int, len(counts))
	for _, c := range counts {
		out[c.status] = c.n
	}
	return out, nil
}
