package meshserver

import (
	"context"
	"sync"
	"time"
)

// AuthFailure is one rejected authentication attempt, kept in memory for the
// people who run the server (the MESH admin page). It holds no secret and no
// message content: Reason names the check that failed.
type AuthFailure struct {
	At         time.Time
	Mailbox    string // the mailbox the request named, "" if none
	Reason     string
	RemoteAddr string
}

// authLogSize bounds the failures kept per process.
const authLogSize = 200

// authLog is a ring of the latest authentication failures.
type authLog struct {
	mu   sync.Mutex
	ring [authLogSize]AuthFailure
	n    int // failures recorded in all
}

func (l *authLog) add(f AuthFailure) {
	l.mu.Lock()
	l.ring[l.n%authLogSize] = f
	l.n++
	l.mu.Unlock()
}

// recent returns up to limit failures, newest first.
func (l *authLog) recent(limit int) []AuthFailure {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := min(limit, l.n, authLogSize)
	out := make([]AuthFailure, 0, max(k, 0))
	for i := 1; i <= k; i++ {
		out = append(out, l.ring[(l.n-i)%authLogSize])
	}
	return out
}

// RecentAuthFailures returns up to limit of this process's latest rejected
// authentication attempts, newest first. The log lives in memory: each
// process of a shared deployment keeps its own.
func (s *Server) RecentAuthFailures(_ context.Context, limit int) ([]AuthFailure, error) {
	return s.authFailures.recent(limit), nil
}
