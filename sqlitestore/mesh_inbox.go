package sqlitestore

import (
	"context"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// InboxPage records the token, then lists the page and counts the inbox
// on the read pool.
func (s *MeshStore) InboxPage(ctx context.Context, p meshserver.InboxPageParams) (meshserver.InboxPage, error) {
	var page meshserver.InboxPage
	if err := s.record(ctx, p.Token); err != nil {
		return page, err
	}
	if p.Limit > 0 {
		q, args := meshsql.InboxPage(p)
		rows, err := reads{s.db}.Query(ctx, q, args...)
		if err == nil {
			page.IDs, err = meshsql.Collect(rows, func(r meshsql.Row) (id string, err error) { return id, r.Scan(&id) })
		}
		if err != nil {
			return page, meshsql.Err("sqlitestore", "list inbox", err)
		}
	}
	if p.Count {
		var err error
		if page.Count, err = s.CountInbox(ctx, p.Mailbox); err != nil {
			return page, err
		}
	}
	return page, nil
}

// CountInbox counts accepted messages addressed to mailbox.
func (s *MeshStore) CountInbox(ctx context.Context, mailbox string) (int, error) {
	var n int
	if err := s.db.queryRow(ctx, meshsql.CountInbox, mailbox).Scan(&n); err != nil {
		return 0, meshsql.Err("sqlitestore", "count inbox", err)
	}
	return n, nil
}

// InboxUsage counts the uploading and accepted messages addressed to
// mailbox and sums their sizes.
func (s *MeshStore) InboxUsage(ctx context.Context, mailbox string) (meshserver.Usage, error) {
	var u meshserver.Usage
	if err := s.db.queryRow(ctx, meshsql.InboxUsage, mailbox).Scan(&u.Messages, &u.Bytes); err != nil {
		return u, meshsql.Err("sqlitestore", "inbox usage", err)
	}
	return u, nil
}

// Rich records the token, then lists the messages on the read pool.
func (s *MeshStore) Rich(ctx context.Context, p meshserver.RichParams) ([]meshserver.Message, error) {
	if err := s.record(ctx, p.Token); err != nil {
		return nil, err
	}
	return s.ListMessages(ctx, p.ListMessagesParams)
}

// ListMessages lists messages newest first.
func (s *MeshStore) ListMessages(ctx context.Context, p meshserver.ListMessagesParams) ([]meshserver.Message, error) {
	q, args := meshsql.ListMessages(times, p)
	return s.queryMessages(ctx, "list messages", q, args...)
}

// queryMessages runs a query of MessageColumns on the read pool.
func (s *MeshStore) queryMessages(ctx context.Context, what, q string, args ...any) ([]meshserver.Message, error) {
	rows, err := reads{s.db}.Query(ctx, q, args...)
	var out []meshserver.Message
	if err == nil {
		out, err = meshsql.Collect(rows, scanMessage)
	}
	if err != nil {
		return nil, meshsql.Err("sqlitestore", what, err)
	}
	return out, nil
}
