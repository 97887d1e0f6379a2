package mesh

import (
	"context"
	"time"
)

// Handshaker validates a mailbox; *Client satisfies it.
type Handshaker interface {
	Handshake(ctx context.Context) error
}

var _ Handshaker = (*Client)(nil)

// DefaultHandshakeInterval is how often a long-running MESH user validates
// its mailbox: MESH asks for a handshake at start-up and once a day.
const DefaultHandshakeInterval = 24 * time.Hour

// HandshakeLoop performs the handshake MESH asks of a long-running client:
// at once, then every Every. The caller owns the loop: it runs Run in a
// goroutine it waits for, and ends it with Run's context.
type HandshakeLoop struct {
	Client Handshaker
	// Every is the time between successful handshakes; default
	// DefaultHandshakeInterval.
	Every time.Duration
	// RetryAfter is the wait after a failed handshake (the client has
	// already retried transient errors by then); default the lesser of
	// Every and 15 minutes.
	RetryAfter time.Duration
	// Done, if set, is called after each handshake with its error (nil on
	// success), for the caller to log and count.
	Done func(error)
}

// Run handshakes until ctx ends.
func (l HandshakeLoop) Run(ctx context.Context) {
	every := l.Every
	if every <= 0 {
		every = DefaultHandshakeInterval
	}
	retry := l.RetryAfter
	if retry <= 0 {
		retry = min(every, 15*time.Minute)
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := l.Client.Handshake(ctx)
		if ctx.Err() != nil {
			return
		}
		if l.Done != nil {
			l.Done(err)
		}
		if err != nil {
			t.Reset(retry)
		} else {
			t.Reset(every)
		}
	}
}
