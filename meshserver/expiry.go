package meshserver

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// nonceKeep is how long used tokens are remembered: a token is accepted up
// to ClockSkew either side of its timestamp, so twice that plus a margin.
func (s *Server) nonceKeep() time.Duration { return 2*s.cfg.ClockSkew + time.Hour }

// Start runs the background worker that expires unacknowledged messages
// and forgets old tokens, until Stop or ctx ends. Starting twice is an error.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("meshserver: already started")
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.done, s.started = cancel, make(chan struct{}), true
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.cfg.ExpiryInterval)
		defer t.Stop()
		for {
			if _, err := s.ExpireNow(ctx); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "expiry pass failed", "err", err)
			}
			if _, err := s.store.PruneNonces(ctx, s.cfg.Now().Add(-s.nonceKeep())); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "nonce pruning failed", "err", err)
			}
			if _, err := s.PurgeNow(ctx); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "purge failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Stop ends the worker and waits for it. It is safe to call more than once
// and before Start.
func (s *Server) Stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel = nil
	s.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// ExpireNow moves every accepted message older than the expiry period to
// undeliverable and queues a code 14 REPORT for its sender, in batches. It
// returns how many messages expired.
func (s *Server) ExpireNow(ctx context.Context) (int, error) {
	total := 0
	days := int(s.cfg.Expiry / (24 * time.Hour))
	desc := "Message not collected by recipient after 5 days"
	if days != 5 {
		desc = "Message not collected by recipient after " + s.cfg.Expiry.String()
		if days > 0 && s.cfg.Expiry%(24*time.Hour) == 0 {
			desc = "Message not collected by recipient after " + strconv.Itoa(days) + " days"
		}
	}
	for {
		now := s.now()
		got, err := s.store.ExpireDue(ctx, ExpireParams{Now: now, Limit: 200, Outcome: func(m Message) (Message, *Message) {
			rep := s.report(m, "14", "SEND", desc, now)
			m.Status, m.StatusCode, m.StatusEvent, m.StatusDescription, m.StatusAt = StatusUndeliverable, "14", "SEND", desc, now
			return m, &rep
		}})
		total += len(got)
		s.metrics.expired.Add(int64(len(got)))
		for _, m := range got {
			s.log.InfoContext(ctx, "message expired", "message_id", m.ID, "sender", m.Sender, "recipient", m.Recipient)
		}
		if err != nil || len(got) < 200 {
			return total, err
		}
	}
}

// PurgeNow deletes messages finished (acknowledged, undeliverable, error)
// more than Config.Retention ago, and older reports, with their payloads.
// Rows go first: a crash in between leaves unreferenced files, never a
// listed message without its payload.
func (s *Server) PurgeNow(ctx context.Context) (int, error) {
	total := 0
	for {
		d, err := s.store.PurgeMessages(ctx, s.now().Add(-s.cfg.Retention), 200)
		if err != nil {
			return total, err
		}
		total += len(d.IDs)
		if err := s.deleteBlobs(ctx, d.BlobKeys); err != nil {
			return total, err
		}
		if len(d.IDs) < 200 {
			return total, nil
		}
	}
}

func (s *Server) deleteBlobs(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if err := s.blobs.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}
