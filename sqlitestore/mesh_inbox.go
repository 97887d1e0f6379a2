package sqlitestore

import (
	"context"

	"github.com/gpcm/gpcm/meshserver"
)

// InboxPage records the token, then lists the page and counts the inbox
// on the read pool.
func (s *MeshStore) InboxPage(ctx context.Context, p meshserver.InboxPageParams) (meshserver.InboxPage, error) {
	var page meshserver.InboxPage
	if err := s.record(ctx, p.Token); err != nil {
		return page, err
	}
	var err error
	if page.IDs, err = s.InboxIDs(ctx, p); err != nil {
		return page, err
	}
	if p.Count {
		page.Count, err = s.CountInbox(ctx, p.Mailbox)
	}
	return page, err
}
