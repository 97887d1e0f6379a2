package web_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"testing"

	"github.com/gpcm/gpcm/web"
)

// levels records each message's level.
type levels struct {
	mu sync.Mutex
	m  map[string][]slog.Level
}

func (l *levels) Enabled(context.Context, slog.Level) bool { return true }
func (l *levels) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[r.Message] = append(l.m[r.Message], r.Level)
	return nil
}
func (l *levels) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *levels) WithGroup(string) slog.Handler      { return l }

func (l *levels) last(msg string) (slog.Level, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ls := l.m[msg]
	if len(ls) == 0 {
		return 0, false
	}
	return ls[len(ls)-1], true
}

// failingUsers fails every lookup but the test accounts', as a database
// that went away would.
type failingUsers struct{ web.Users }

func (f failingUsers) FindUser(ctx context.Context, username string) (web.User, error) {
	if username == "broken" {
		return web.User{}, errors.New("database is down")
	}
	return f.Users.FindUser(ctx, username)
}

// Failures are logged as warnings and errors, routine refusals as info
// (issue 24 §6).
func TestLogLevels(t *testing.T) {
	rec := &levels{m: map[string][]slog.Level{}}
	env := MustServer(t, web.Config{Users: failingUsers{testUsers(t)}, Logger: slog.New(rec)})
	env.seed()
	c := env.login("practice-a")
	anon := env.newClient()
	anon.get("/login")

	for _, tc := range []struct {
		name string
		do   func()
		msg  string
		want slog.Level
	}{
		{"a page that does not exist", func() { c.get("/inbox/nope") }, "request refused", slog.LevelInfo},
		{"another role's page", func() { c.get("/mesh") }, "request refused", slog.LevelInfo},
		{"a form without its CSRF token", func() { c.postForm("/inbox/doc-a1/file", url.Values{"csrf_token": {"forged"}}) }, "request refused", slog.LevelWarn},
		{"a back-end failure", func() {
			anon.postForm("/login", url.Values{"username": {"broken"}, "password": {"x"}})
		}, "request failed", slog.LevelError},
		{"a wrong password", func() { anon.postForm("/login", url.Values{"username": {"sender"}, "password": {"wrong"}}) }, "login failed", slog.LevelInfo},
		{"throttled sign-ins", func() {
			for range 8 {
				anon.get("/login")
				anon.postForm("/login", url.Values{"username": {"admin"}, "password": {"wrong"}})
			}
		}, "login throttled", slog.LevelWarn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.do()
			got, ok := rec.last(tc.msg)
			if !ok || got != tc.want {
				t.Fatalf("%q logged at %v (logged: %v), want %v", tc.msg, got, ok, tc.want)
			}
		})
	}
}
