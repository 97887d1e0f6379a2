package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gpcm/gpcm/httptimeout"
)

// Event is a live update for open pages. Data carries identifiers only,
// never patient data.
type Event struct {
	// Topic selects the subscribers: InboxTopic(ods), OutboxTopic(ods) or
	// TopicMesh.
	Topic string
	// Name is the SSE event name ("document", "transmission", …).
	Name string
	// Data is the event payload, typically a record id.
	Data string
}

// TopicMesh reaches administrators' pages.
const TopicMesh = "mesh"

// InboxTopic is the topic of a practice's inbox pages.
func InboxTopic(practiceODS string) string { return "inbox:" + practiceODS }

// OutboxTopic is the topic of a sending organisation's dashboard pages.
func OutboxTopic(senderODS string) string { return "outbox:" + senderODS }

// subscriberBuffer is how many events a slow subscriber may fall behind
// before further events to it are dropped (the page reloads its data on the
// next event anyway).
const subscriberBuffer = 16

// heartbeat keeps idle event streams open through proxies.
const heartbeat = 25 * time.Second

type subscriber struct {
	topic string
	ch    chan Event
}

// Broker fans events out to subscribed event streams. Start runs it and
// Stop ends it, closing every subscription.
type Broker struct {
	log *slog.Logger

	mu      sync.Mutex
	running bool
	stopped bool
	cancel  context.CancelFunc
	done    chan struct{}
	subs    map[*subscriber]struct{}
}

// NewBroker returns a broker that is not yet started.
func NewBroker(logger *slog.Logger) *Broker {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Broker{log: logger.WithGroup("web.events"), subs: make(map[*subscriber]struct{})}
}

var errBrokerStopped = errors.New("web: event broker stopped")

// Start runs the broker until Stop or ctx ends. Starting twice is an error.
func (b *Broker) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running || b.stopped {
		return errors.New("web: event broker already started")
	}
	ctx, b.cancel = context.WithCancel(ctx)
	b.running = true
	b.done = make(chan struct{})
	go func() {
		defer close(b.done)
		<-ctx.Done()
		b.mu.Lock()
		defer b.mu.Unlock()
		b.stopped = true
		for s := range b.subs {
			close(s.ch)
			delete(b.subs, s)
		}
	}()
	return nil
}

// Stop ends the broker and waits until every subscription is closed. It is
// safe to call more than once and before Start.
func (b *Broker) Stop() {
	b.mu.Lock()
	if !b.running {
		b.stopped = true
		b.mu.Unlock()
		return
	}
	cancel, done := b.cancel, b.done
	b.mu.Unlock()
	cancel()
	<-done
}

// Subscribe returns a channel of the topic's events, closed when the broker
// stops, and a function that ends the subscription.
func (b *Broker) Subscribe(topic string) (<-chan Event, func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running || b.stopped {
		return nil, nil, errBrokerStopped
	}
	s := &subscriber{topic: topic, ch: make(chan Event, subscriberBuffer)}
	b.subs[s] = struct{}{}
	return s.ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[s]; ok {
			delete(b.subs, s)
			close(s.ch)
		}
	}, nil
}

// Publish delivers ev to every subscriber of its topic without blocking;
// a subscriber whose buffer is full misses it.
func (b *Broker) Publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.topic != ev.Topic {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			b.log.Debug("event dropped for a slow subscriber", "topic", ev.Topic, "event", ev.Name)
		}
	}
}

// topicFor is the one topic a user's pages may follow.
func topicFor(u *User) string {
	switch u.Role {
	case RolePractice:
		return InboxTopic(u.ODS)
	case RoleSender:
		return OutboxTopic(u.ODS)
	default:
		return TopicMesh
	}
}

// getEvents streams the user's topic as text/event-stream until the client
// goes away or the broker stops.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request) error {
	u := userFrom(r.Context())
	if !s.streams.acquire(u.Username, s.cfg.MaxEventStreams) {
		return errTooManyStreams
	}
	defer s.streams.release(u.Username)
	rc := http.NewResponseController(w)
	ch, cancel, err := s.broker.Subscribe(topicFor(u))
	if err != nil {
		return &httpError{Status: http.StatusServiceUnavailable, Message: "Live updates are not available", Err: err}
	}
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	// The stream moves few bytes: keep the server's transfer deadlines
	// (package httptimeout) ahead of the next write, which comes within a
	// heartbeat.
	httptimeout.Extend(w, time.Now().Add(2*heartbeat))
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 5000\n: connected\n\n"); err != nil {
		return nil
	}
	rc.Flush()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		httptimeout.Extend(w, time.Now().Add(2*heartbeat))
		select {
		case <-r.Context().Done():
			return nil
		case ev, ok := <-ch:
			if !ok {
				return nil
			}
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", oneLine(ev.Name), oneLine(ev.Data)); err != nil {
				return nil
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

var errTooManyStreams = &httpError{Status: http.StatusTooManyRequests,
	Message: "Too many pages of this service are open with live updates. Close some and reload this page"}

// streamCounter counts each user's open event streams.
type streamCounter struct {
	mu sync.Mutex
	m  map[string]int
}

// acquire takes one of user's limit streams; false when all are taken.
func (c *streamCounter) acquire(user string, limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[user] >= limit {
		return false
	}
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[user]++
	return true
}

func (c *streamCounter) release(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[user]--; c.m[user] <= 0 {
		delete(c.m, user)
	}
}

// oneLine keeps a field from breaking the event-stream framing.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
