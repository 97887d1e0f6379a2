package web

import (
	"sync"
	"time"
)

// Login throttling: after maxLoginFailures failed sign-ins for one username
// within loginWindow, further attempts for it are refused until the window
// has passed, so passwords cannot be guessed at speed.
const (
	maxLoginFailures = 5
	loginWindow      = 15 * time.Minute
	// maxThrottled bounds the table; when full, entries whose window has
	// passed are dropped, then new usernames are not tracked.
	maxThrottled = 10000
)

type failures struct {
	n     int
	first time.Time
}

type loginThrottle struct {
	mu  sync.Mutex
	m   map[string]failures
	now func() time.Time
}

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{m: make(map[string]failures), now: now}
}

// blocked reports whether username has used up its attempts.
func (lt *loginThrottle) blocked(username string) bool {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	f, ok := lt.m[username]
	if !ok {
		return false
	}
	if lt.now().Sub(f.first) >= loginWindow {
		delete(lt.m, username)
		return false
	}
	return f.n >= maxLoginFailures
}

func (lt *loginThrottle) fail(username string) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	now := lt.now()
	f, ok := lt.m[username]
	if !ok || now.Sub(f.first) >= loginWindow {
		if len(lt.m) >= maxThrottled {
			for k, v := range lt.m {
				if now.Sub(v.first) >= loginWindow {
					delete(lt.m, k)
				}
			}
			if len(lt.m) >= maxThrottled {
				return
			}
		}
		f = failures{first: now}
	}
	f.n++
	lt.m[username] = f
}

func (lt *loginThrottle) succeed(username string) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	delete(lt.m, username)
}
