package pgstore

import (
	"context"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// inboxQuery is InboxPage's statement and its arguments: whether it
// recorded the token, the page of ids as an array and, with p.Count, the
// inbox count (else 0), the token's arguments after the page's.
func inboxQuery(p meshserver.InboxPageParams) (string, []any) {
	list, args := meshsql.InboxPage(p)
	count := "0"
	if p.Count {
		count = "(" + meshsql.CountInbox + ")" // its $1 is the mailbox, as in list
	}
	q := `WITH ` + tokenCTE(p.Token != nil, len(args)+1) + `
		SELECT ` + recordedNoWait + `, ARRAY(` + list + `), ` + count
	return q, append(args, tokenArgs(p.Token)...)
}

// InboxPage records the token, lists the page and counts the inbox in one
// statement.
func (s *MeshStore) InboxPage(ctx context.Context, p meshserver.InboxPageParams) (meshserver.InboxPage, error) {
	var page meshserver.InboxPage
	var recorded int64
	q, args := inboxQuery(p)
	if err := s.pool().QueryRow(ctx, q, args...).Scan(&recorded, &page.IDs, &page.Count); err != nil {
		return meshserver.InboxPage{}, meshsql.Err("pgstore", "list inbox", err)
	}
	if recorded == 0 {
		return meshserver.InboxPage{}, s.refused(ctx, *p.Token)
	}
	if len(page.IDs) == 0 {
		page.IDs = nil
	}
	return page, nil
}

// CountInbox counts accepted messages addressed to mailbox.
func (s *MeshStore) CountInbox(ctx context.Context, mailbox string) (int, error) {
	var n int
	err := s.pool().QueryRow(ctx, meshsql.CountInbox, mailbox).Scan(&n)
	return n, meshsql.Err("pgstore", "count inbox", err)
}

// InboxUsage counts the uploading and accepted messages addressed to
// mailbox and sums their sizes, each status through its partial index
// (mesh_0002, mesh_0004).
func (s *MeshStore) InboxUsage(ctx context.Context, mailbox string) (meshserver.Usage, error) {
	var u meshserver.Usage
	err := s.pool().QueryRow(ctx, meshsql.InboxUsage, mailbox).Scan(&u.Messages, &u.Bytes)
	return u, meshsql.Err("pgstore", "inbox usage", err)
}

// Rich records the token, then lists the messages.
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

// queryMessages runs a query of MessageColumns.
func (s *MeshStore) queryMessages(ctx context.Context, what, q string, args ...any) ([]meshserver.Message, error) {
	rows, err := s.pool().Query(ctx, q, args...)
	var out []meshserver.Message
	if err == nil {
		out, err = meshsql.Collect(rows, scanMessage)
	}
	if err != nil {
		return nil, meshsql.Err("pgstore", what, err)
	}
	return out, nil
}
