package sender

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

// Service is the sender: submit reports, run the workers, answer the API.
type Service struct {
	cfg     Config
	log     *slog.Logger
	wakeC   chan struct{}
	metrics metrics
	inbox   inboxState

	mu      sync.Mutex
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
}

type metrics struct {
	submitted, sent, sendErrors, unknown, responses, reports, alertsDelivered, alertErrors, pollErrors atomic.Int64
	handshakes, handshakeErrors                                                                        atomic.Int64
}

// New checks cfg and returns a Service. It starts nothing.
func New(cfg Config) (*Service, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, log: cfg.Logger.With("component", "sender"), wakeC: make(chan struct{}, 1)}, nil
}

func (s *Service) wake() {
	select {
	case s.wakeC <- struct{}{}:
	default:
	}
}

// Start runs the workers (MESH handshake, send, inbox poll, tracking and
// deadlines, alert delivery) until Stop or ctx ends. It needs Config.Mesh.
func (s *Service) Start(ctx context.Context) error {
	if s.cfg.Mesh == nil {
		return errors.New("sender: Start needs Config.Mesh")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("sender: already started")
	}
	ctx, cancel := context.WithCancel(ctx)
	s.cancel, s.started = cancel, true
	loop := func(name string, every time.Duration, wake <-chan struct{}, step func(context.Context) error) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				if err := step(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("worker step failed", "worker", name, "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				case <-wake:
				}
			}
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		mesh.HandshakeLoop{Client: s.cfg.Mesh, Every: s.cfg.HandshakeInterval, Done: s.handshakeDone}.Run(ctx)
	}()
	loop("send", s.cfg.SendInterval, s.wakeC, func(ctx context.Context) error { _, err := s.SendDue(ctx); return err })
	loop("inbox", s.cfg.PollInterval, nil, func(ctx context.Context) error { _, err := s.PollInbox(ctx); return err })
	loop("track", min(s.cfg.TrackInterval, time.Minute), nil, func(ctx context.Context) error {
		return errors.Join(s.TrackSent(ctx), s.CheckDeadlines(ctx))
	})
	if d := s.cfg.Drop; d != nil {
		loop("drop", s.cfg.SendInterval, nil, func(ctx context.Context) error { _, err := s.ScanDrop(ctx, *d); return err })
	}
	if s.cfg.Hook != nil {
		loop("alerts", s.cfg.AlertInterval, nil, func(ctx context.Context) error { _, err := s.DeliverAlerts(ctx); return err })
	}
	return nil
}

// Stop ends the workers and waits for them. It is safe to call twice or
// before Start.
func (s *Service) Stop() {
	s.mu.Lock()
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
}

// RunOnce runs one pass of every worker in order (for tests and one-shot
// commands): send, poll the inbox, track, check deadlines, deliver alerts.
func (s *Service) RunOnce(ctx context.Context) error {
	_, e1 := s.SendDue(ctx)
	_, e2 := s.PollInbox(ctx)
	e3 := s.TrackSent(ctx)
	e4 := s.CheckDeadlines(ctx)
	_, e5 := s.DeliverAlerts(ctx)
	return errors.Join(e1, e2, e3, e4, e5)
}

// handshakeDone logs and counts a MESH handshake.
func (s *Service) handshakeDone(err error) {
	s.metrics.handshakes.Add(1)
	if err != nil {
		s.metrics.handshakeErrors.Add(1)
		s.log.Warn("MESH handshake failed", "mailbox", s.cfg.Mesh.Mailbox(), "err", err)
		return
	}
	s.log.Debug("MESH handshake ok", "mailbox", s.cfg.Mesh.Mailbox())
}

func ptr[T any](v T) *T { return &v }
