package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/gpcm/gpcm/meshserver"
)

// MeshAdmin is what the MESH admin page reads. A meshserver.Store satisfies
// it.
type MeshAdmin interface {
	// ListMailboxes returns every mailbox ordered by id ("" = all practices).
	ListMailboxes(ctx context.Context, odsCode string) ([]meshserver.Mailbox, error)
	// CountInbox counts accepted messages waiting in a mailbox.
	CountInbox(ctx context.Context, mailbox string) (int, error)
	// CountByStatus counts messages per status.
	CountByStatus(ctx context.Context) (map[string]int, error)
	// ListMessages lists messages newest first.
	ListMessages(ctx context.Context, p meshserver.ListMessagesParams) ([]meshserver.Message, error)
}

// AuthFailure is one rejected MESH authentication attempt.
type AuthFailure struct {
	At time.Time
	// Mailbox is the mailbox the request named ("" if none could be read).
	Mailbox string
	// Reason is the MESH error code and description.
	Reason     string
	RemoteAddr string
}

// AuthFailureLog lists recent MESH authentication failures for the MESH
// admin page (Config.AuthFailures, optional).
type AuthFailureLog interface {
	RecentAuthFailures(ctx context.Context, limit int) ([]AuthFailure, error)
}

// meshRecentWindow is how many recent messages the page scans for
// undelivered messages and reports.
const meshRecentWindow = 500

type mailboxRow struct {
	meshserver.Mailbox
	Waiting int
}

type statusCount struct {
	Status string
	Count  int
}

type meshData struct {
	Mailboxes    []mailboxRow
	Statuses     []statusCount
	Total        int
	AuthLog      bool
	AuthFailures []AuthFailure
	Undelivered  []meshserver.Message
	RecentWindow int
}

func (s *Server) getMeshAdmin(w http.ResponseWriter, r *http.Request) error {
	m := s.cfg.Mesh
	if m == nil {
		return errNotFound
	}
	ctx := r.Context()
	var d meshData
	mbs, err := m.ListMailboxes(ctx, "")
	if err != nil {
		return fmt.Errorf("listing mailboxes: %w", err)
	}
	for _, mb := range mbs {
		n, err := m.CountInbox(ctx, mb.ID)
		if err != nil {
			return fmt.Errorf("counting inbox: %w", err)
		}
		mb.Password = ""
		d.Mailboxes = append(d.Mailboxes, mailboxRow{Mailbox: mb, Waiting: n})
	}
	counts, err := m.CountByStatus(ctx)
	if err != nil {
		return fmt.Errorf("counting messages: %w", err)
	}
	for st, n := range counts {
		d.Statuses = append(d.Statuses, statusCount{st, n})
		d.Total += n
	}
	sort.Slice(d.Statuses, func(i, j int) bool { return d.Statuses[i].Status < d.Statuses[j].Status })
	if al := s.cfg.AuthFailures; al != nil {
		d.AuthLog = true
		if d.AuthFailures, err = al.RecentAuthFailures(ctx, 50); err != nil {
			return fmt.Errorf("listing auth failures: %w", err)
		}
	}
	msgs, err := m.ListMessages(ctx, meshserver.ListMessagesParams{Limit: meshRecentWindow})
	if err != nil {
		return fmt.Errorf("listing messages: %w", err)
	}
	for _, msg := range msgs {
		if msg.Status == meshserver.StatusUndeliverable || msg.Status == meshserver.StatusError ||
			msg.MessageType == meshserver.TypeReport {
			msg.Subject = "" // may name the patient; not shown to admins
			d.Undelivered = append(d.Undelivered, msg)
		}
	}
	d.RecentWindow = meshRecentWindow
	p := s.newPage(r, "MESH admin")
	p.Data = d
	return s.render(w, r, http.StatusOK, "meshadmin", p)
}
