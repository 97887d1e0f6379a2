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
