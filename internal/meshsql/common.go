package meshsql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gpcm/gpcm/meshserver"
)

// Querier runs the reads of Common: a driver's read pool.
type Querier interface {
	QueryRow(ctx context.Context, q string, args ...any) Row
	Query(ctx context.Context, q string, args ...any) (Rows, error)
}

// Execer runs the single statements of Common that write (the admin's
// mailbox and patient changes, pruning tokens) and returns how many rows
// each changed.
type Execer interface {
	Exec(ctx context.Context, q string, args ...any) (int64, error)
}

// Common is the part of meshserver.Store both drivers do alike: the
// reads, the requests that record their token and then only read (Rich,
// Track), expiry, and the writes of one statement each that no request
// waits for. Each driver's MeshStore embeds one, built with its own pool,
// codecs and statements; what a request does in one round trip (its
// token with its work) stays with the driver.
type Common[T, W any] struct {
	// Driver names the driver in errors ("sqlitestore", "pgstore").
	Driver    string
	Reads     Querier
	Writes    Execer
	Times     Times[T]
	Workflows Workflows[W]
	// Record records a request's token (nil: nothing) before its reads.
	Record func(ctx context.Context, tok *meshserver.Token) error
	// InTx runs fn in one durable write transaction.
	InTx func(ctx context.Context, what string, fn func(tx Tx) error) error
	// SelectDue is ExpireDue's selectDue: the due messages ($1 now, $2
	// limit), held until the transaction ends.
	SelectDue string
}

// Err is the package-level Err with c's driver name.
func (c Common[T, W]) Err(what string, err error) error { return Err(c.Driver, what, err) }

// InlineMax is the largest body Send keeps in the blobs table with its
// message (meshserver.Store.InlineMax).
func (c Common[T, W]) InlineMax() int64 { return InlineMax }

// ScanMailbox scans one row of MailboxColumns.
func ScanMailbox[W any](c Workflows[W]) func(Row) (meshserver.Mailbox, error) {
	return func(r Row) (meshserver.Mailbox, error) {
		var mr MailboxRow[W]
		if err := r.Scan(mr.Dest()...); err != nil {
			return meshserver.Mailbox{}, err
		}
		return mr.Mailbox(c)
	}
}

// PutMailbox creates or replaces a mailbox.
func (c Common[T, W]) PutMailbox(ctx context.Context, mb meshserver.Mailbox) error {
	args, err := MailboxArgs(c.Workflows, mb)
	if err == nil {
		_, err = c.Writes.Exec(ctx, PutMailbox, args...)
	}
	return c.Err("put mailbox "+mb.ID, err)
}

// GetMailbox returns meshserver.ErrNotFound for an unknown id.
func (c Common[T, W]) GetMailbox(ctx context.Context, id string) (meshserver.Mailbox, error) {
	mb, err := ScanMailbox(c.Workflows)(c.Reads.QueryRow(ctx, MailboxByID, id))
	if errors.Is(err, ErrNoRows) {
		return mb, fmt.Errorf("mailbox %s: %w", id, meshserver.ErrNotFound)
	}
	return mb, c.Err("get mailbox "+id, err)
}

// ListMailboxes lists mailboxes by id, optionally of one ODS code.
func (c Common[T, W]) ListMailboxes(ctx context.Context, odsCode string) ([]meshserver.Mailbox, error) {
	rows, err := c.Reads.Query(ctx, ListMailboxes, odsCode)
	var out []meshserver.Mailbox
	if err == nil {
		out, err = Collect(rows, ScanMailbox(c.Workflows))
	}
	return out, c.Err("list mailboxes", err)
}

// SetMailboxActive enables or disables a mailbox.
func (c Common[T, W]) SetMailboxActive(ctx context.Context, id string, active bool) error {
	n, err := c.Writes.Exec(ctx, SetMailboxActive, active, id)
	if err != nil {
		return c.Err("set mailbox "+id+" active", err)
	}
	if n == 0 {
		return fmt.Errorf("mailbox %s: %w", id, meshserver.ErrNotFound)
	}
	return nil
}

// PutPatient creates or replaces a patient register row.
func (c Common[T, W]) PutPatient(ctx context.Context, p meshserver.Patient) error {
	_, err := c.Writes.Exec(ctx, PutPatient, p.NHSNumber, p.BirthDate, p.Surname, p.PracticeODS)
	return c.Err("put patient", err)
}

// GetPatient returns meshserver.ErrNotFound for an unknown NHS number. The
// error never carries the number itself.
func (c Common[T, W]) GetPatient(ctx context.Context, nhsNumber string) (meshserver.Patient, error) {
	p := meshserver.Patient{NHSNumber: nhsNumber}
	err := c.Reads.QueryRow(ctx, PatientByNHSNumber, nhsNumber).Scan(&p.BirthDate, &p.Surname, &p.PracticeODS)
	if errors.Is(err, ErrNoRows) {
		return p, fmt.Errorf("patient: %w", meshserver.ErrNotFound)
	}
	return p, c.Err("get patient", err)
}

// GetMessage returns meshserver.ErrNotFound for an unknown id.
func (c Common[T, W]) GetMessage(ctx context.Context, id string) (meshserver.Message, error) {
	m, err := ScanMessage(c.Times)(c.Reads.QueryRow(ctx, MessageByID, id))
	if errors.Is(err, ErrNoRows) {
		return m, fmt.Errorf("message %s: %w", id, meshserver.ErrNotFound)
	}
	return m, c.Err("get message "+id, err)
}

// GetChunk returns a chunk record.
func (c Common[T, W]) GetChunk(ctx context.Context, messageID string, n int) (meshserver.Chunk, error) {
	ch := meshserver.Chunk{MessageID: messageID, Number: n}
	err := c.Reads.QueryRow(ctx, ChunkByNumber, messageID, n).Scan(&ch.Size, &ch.BlobKey)
	if errors.Is(err, ErrNoRows) {
		return ch, fmt.Errorf("chunk %d of %s: %w", n, messageID, meshserver.ErrNotFound)
	}
	return ch, c.Err(fmt.Sprintf("get chunk %d of %s", n, messageID), err)
}

// CountInbox counts accepted messages addressed to mailbox.
func (c Common[T, W]) CountInbox(ctx context.Context, mailbox string) (int, error) {
	var n int
	err := c.Reads.QueryRow(ctx, CountInbox, mailbox).Scan(&n)
	return n, c.Err("count inbox", err)
}

// InboxUsage counts the uploading and accepted messages addressed to
// mailbox and sums their sizes, each status through its index.
func (c Common[T, W]) InboxUsage(ctx context.Context, mailbox string) (meshserver.Usage, error) {
	var u meshserver.Usage
	err := c.Reads.QueryRow(ctx, InboxUsage, mailbox).Scan(&u.Messages, &u.Bytes)
	return u, c.Err("inbox usage", err)
}

// ListMessages lists messages newest first.
func (c Common[T, W]) ListMessages(ctx context.Context, p meshserver.ListMessagesParams) ([]meshserver.Message, error) {
	q, args := ListMessages(c.Times, p)
	rows, err := c.Reads.Query(ctx, q, args...)
	var out []meshserver.Message
	if err == nil {
		out, err = Collect(rows, ScanMessage(c.Times))
	}
	return out, c.Err("list messages", err)
}

// ScanString scans a row of one text column.
func ScanString(r Row) (s string, err error) { return s, r.Scan(&s) }

// InboxIDs lists the ids of an inbox page (none for p.Limit 0).
func (c Common[T, W]) InboxIDs(ctx context.Context, p meshserver.InboxPageParams) ([]string, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	q, args := InboxPage(p)
	rows, err := c.Reads.Query(ctx, q, args...)
	var ids []string
	if err == nil {
		ids, err = Collect(rows, ScanString)
	}
	return ids, c.Err("list inbox", err)
}

// Rich records the token, then lists the messages.
func (c Common[T, W]) Rich(ctx context.Context, p meshserver.RichParams) ([]meshserver.Message, error) {
	if err := c.Record(ctx, p.Token); err != nil {
		return nil, err
	}
	return c.ListMessages(ctx, p.ListMessagesParams)
}

// Track records the token, then reads the messages with their mailboxes.
func (c Common[T, W]) Track(ctx context.Context, p meshserver.TrackParams) ([]meshserver.Tracked, error) {
	if err := c.Record(ctx, p.Token); err != nil {
		return nil, err
	}
	key := p.ID
	if key == "" {
		key = p.LocalID
	}
	rows, err := c.Reads.Query(ctx, Track(p.ID == ""), p.Sender, key)
	var out []meshserver.Tracked
	if err == nil {
		out, err = Collect(rows, ScanTracked(c.Times))
	}
	return out, c.Err("track", err)
}

// CountByStatus counts messages per status.
func (c Common[T, W]) CountByStatus(ctx context.Context) (map[string]int, error) {
	rows, err := c.Reads.Query(ctx, CountByStatus)
	if err != nil {
		return nil, c.Err("count by status", err)
	}
	return StatusCounts(rows)
}

// ExpireDue expires due messages and stores their reports, in one
// transaction.
func (c Common[T, W]) ExpireDue(ctx context.Context, p meshserver.ExpireParams) ([]meshserver.Message, error) {
	var out []meshserver.Message
	err := c.InTx(ctx, "expire messages", func(tx Tx) error {
		var err error
		out, err = ExpireDue(ctx, tx, c.Times, c.SelectDue, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PruneNonces forgets tokens used before the given time.
func (c Common[T, W]) PruneNonces(ctx context.Context, before time.Time) (int, error) {
	n, err := c.Writes.Exec(ctx, PruneNonces, c.Times.Arg(before))
	return int(n), c.Err("prune nonces", err)
}

// MapNoRows is r whose Scan says ErrNoRows where the driver's says
// noRows.
func MapNoRows(r Row, noRows error) Row { return mappedRow{r, noRows} }

type mappedRow struct {
	r      Row
	noRows error
}

func (m mappedRow) Scan(dest ...any) error {
	err := m.r.Scan(dest...)
	if errors.Is(err, m.noRows) {
		return ErrNoRows
	}
	return err
}
