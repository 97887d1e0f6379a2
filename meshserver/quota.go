package meshserver

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// quotaRefresh is how old a mailbox's usage read from the store may be
// before the next send to it reads it again.
const quotaRefresh = time.Second

// Refusals of the size and quota limits. Live MESH documents no code for
// them: a body too large is a 413 (as for MaxRequestBytes), a full
// mailbox a send rejected with 417, event SEND.
var (
	errQuotaMessages = errf(http.StatusExpectationFailed, "SEND", "", "Recipient mailbox is full: too many messages waiting")
	errQuotaBytes    = errf(http.StatusExpectationFailed, "SEND", "", "Recipient mailbox is full: too much data waiting")
)

func errMessageTooLarge(max int64) *Error {
	return errf(http.StatusRequestEntityTooLarge, "SEND", "", "Message larger than the limit of %d bytes for one message", max)
}

// checkSize refuses, before its body is read when bytes is its
// Content-Length, a message of total chunks whose chunk 1 has bytes bytes,
// or a chunk that would bring a message's stored bytes to more than
// MaxMessageBytes. For chunk 1 of several the others are taken to be as
// large, the last at least a byte (clients split into equal chunks): so
// 1:100000 of 100 MB chunks is refused at once.
func (s *Server) checkSize(stored, bytes int64, n, total int) error {
	max := s.cfg.MaxMessageBytes
	switch {
	case int64(total) > max:
		return errMessageTooLarge(max)
	case n == 1 && total > 1 && bytes > 0 && bytes*int64(total-1)+1 > max:
		return errMessageTooLarge(max)
	case stored+bytes > max:
		return errMessageTooLarge(max)
	}
	return nil
}

// errWithID sets the message id on a refusal; other errors pass as they are.
func errWithID(err error, id string) error {
	if me, ok := err.(*Error); ok {
		return withID(me, id)
	}
	return err
}

// quotaCache holds the usage of recipients' mailboxes: as last read from
// the store, plus what this process accepted since.
type quotaCache struct {
	mu sync.Mutex
	m  map[string]*inboxUse
}

type inboxUse struct {
	Usage
	at time.Time
}

// takeQuota refuses messages new messages and bytes more bytes for
// mailbox if they would pass its quota; otherwise it counts them.
func (s *Server) takeQuota(ctx context.Context, mailbox string, messages int, bytes int64) error {
	q := &s.quota
	now := s.cfg.Now()
	q.mu.Lock()
	u, ok := q.m[mailbox]
	fresh := ok && now.Sub(u.at) < quotaRefresh && !now.Before(u.at)
	q.mu.Unlock()
	if !fresh {
		got, err := s.store.InboxUsage(ctx, mailbox)
		if err != nil {
			return err
		}
		q.mu.Lock()
		if q.m == nil {
			q.m = map[string]*inboxUse{}
		}
		u = &inboxUse{Usage: got, at: now}
		q.m[mailbox] = u
		q.mu.Unlock()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case messages > 0 && u.Messages+messages > s.cfg.QuotaMessages:
		return errQuotaMessages
	case bytes > 0 && u.Bytes+bytes > s.cfg.QuotaBytes:
		return errQuotaBytes
	}
	u.Messages += messages
	u.Bytes += bytes
	return nil
}
