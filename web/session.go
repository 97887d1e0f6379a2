package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

const (
	sessionCookie = "gpcm_session"
	csrfField     = "csrf_token"
	csrfHeader    = "X-CSRF-Token"
	// hostPrefix is put before cookie names when cookies are Secure: the
	// browser then refuses the cookie unless it is Secure, host-only and
	// for Path=/, so a sibling subdomain cannot plant one.
	hostPrefix = "__Host-"
	// sweepEvery is how often a login also deletes expired sessions.
	sweepEvery = 10 * time.Minute
)

// SessionStore keeps signed-in sessions, so that they survive a restart
// and every process serving the UI sees them (sqlitestore and pgstore
// implement it; MemSessions keeps them in memory). Only a login creates a
// session: the login form needs none.
//
// id is a hash of the session cookie, never the cookie itself; data is
// opaque to the store.
type SessionStore interface {
	// SaveSession stores data under id until expires, replacing any
	// session with that id.
	SaveSession(ctx context.Context, id string, data []byte, expires time.Time) error
	// LoadSession returns the session's data; ok is false when there is
	// none or it expired before now.
	LoadSession(ctx context.Context, id string, now time.Time) (data []byte, ok bool, err error)
	// DeleteSession removes a session; removing none is not an error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteExpiredSessions removes the sessions that expired before now
	// and says how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// session is one signed-in browser. The store holds the user name and the
// CSRF token; the account itself is looked up on every request, so that a
// removed account, a role change or a new password takes effect at once.
type session struct {
	// token is the cookie value; the store knows only its hash.
	token   string
	csrf    string
	user    *User
	expires time.Time
}

// storedSession is what SaveSession is given.
type storedSession struct {
	Username string `json:"u"`
	CSRF     string `json:"c"`
	// Password is a hash of the account's password hash when the session
	// was made: a new password ends the session.
	Password string `json:"p"`
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionID is the store's key for a cookie value.
func sessionID(token string) string {
	h := sha256.Sum256([]byte("gpcm web session\x00" + token))
	return hex.EncodeToString(h[:])
}

func passwordTag(hash []byte) string {
	h := sha256.Sum256(hash)
	return hex.EncodeToString(h[:8])
}

// createSession stores a new session for u (with its password hash).
func (s *Server) createSession(ctx context.Context, u User) (*session, error) {
	now := s.cfg.Now()
	if last := s.lastSweep.Load(); now.Unix()-last >= int64(sweepEvery/time.Second) && s.lastSweep.CompareAndSwap(last, now.Unix()) {
		if _, err := s.cfg.Sessions.DeleteExpiredSessions(ctx, now); err != nil {
			s.log.WarnContext(ctx, "deleting expired sessions", "err", err)
		}
	}
	sess := &session{token: randomToken(), csrf: randomToken(), expires: now.Add(s.cfg.SessionTTL)}
	data, err := json.Marshal(storedSession{Username: u.Username, CSRF: sess.csrf, Password: passwordTag(u.PasswordHash)})
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Sessions.SaveSession(ctx, sessionID(sess.token), data, sess.expires); err != nil {
		return nil, fmt.Errorf("saving session: %w", err)
	}
	u.PasswordHash = nil
	sess.user = &u
	return sess, nil
}

type sessionKey struct{}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

func userFrom(ctx context.Context) *User {
	if s := sessionFrom(ctx); s != nil {
		return s.user
	}
	return nil
}

// secure reports whether r's cookies are Secure (and named with the
// __Host- prefix).
func (s *Server) secure(r *http.Request) bool { return r.TLS != nil || s.cfg.SecureCookies }

func (s *Server) cookieName(r *http.Request, name string) string {
	if s.secure(r) {
		return hostPrefix + name
	}
	return name
}

// loadSession finds the request's signed-in session: nil when it has none,
// it expired or its account is gone, disabled or has a new password.
func (s *Server) loadSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(s.cookieName(r, sessionCookie))
	if err != nil || c.Value == "" || len(c.Value) > 64 {
		return nil, nil
	}
	ctx := r.Context()
	now := s.cfg.Now()
	data, ok, err := s.cfg.Sessions.LoadSession(ctx, sessionID(c.Value), now)
	if err != nil {
		return nil, fmt.Errorf("loading session: %w", err)
	}
	if !ok {
		return nil, nil
	}
	var st storedSession
	if err := json.Unmarshal(data, &st); err != nil || st.Username == "" || st.CSRF == "" {
		s.log.WarnContext(ctx, "unreadable session dropped")
		return nil, s.cfg.Sessions.DeleteSession(ctx, sessionID(c.Value))
	}
	u, err := s.cfg.Users.FindUser(ctx, st.Username)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("loading the session's user: %w", err)
	case passwordTag(u.PasswordHash) != st.Password || u.Disabled:
		return nil, nil
	}
	u.PasswordHash = nil
	return &session{token: c.Value, csrf: st.CSRF, user: &u}, nil
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, sess *session) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(r, sessionCookie),
		Value:    sess.token,
		Path:     "/",
		Expires:  sess.expires,
		HttpOnly: true,
		Secure:   s.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(r, sessionCookie), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode,
	})
}

// checkCSRF parses the form (bounded by limit) and compares its token, or
// the X-CSRF-Token header, with want.
func (s *Server) checkCSRF(w http.ResponseWriter, r *http.Request, want string, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var err error
	if ct := r.Header.Get("Content-Type"); len(ct) >= 19 && ct[:19] == "multipart/form-data" {
		err = r.ParseMultipartForm(limit)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &httpError{Status: http.StatusRequestEntityTooLarge, Message: "The form is too large. Upload a smaller file"}
		}
		return badRequest("The form could not be read. Go back and try again")
	}
	token := r.PostFormValue(csrfField)
	if token == "" {
		token = r.Header.Get(csrfHeader)
	}
	if want == "" || token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
		return errCSRF
	}
	return nil
}

// MemSessions keeps sessions in memory only: they end with the process
// and are not shared. It is the default SessionStore, for tests and demos.
type MemSessions struct {
	mu sync.Mutex
	m  map[string]memSession
}

type memSession struct {
	data    []byte
	expires time.Time
}

// NewMemSessions returns an empty in-memory session store.
func NewMemSessions() *MemSessions { return &MemSessions{m: make(map[string]memSession)} }

// SaveSession implements SessionStore.
func (m *MemSessions) SaveSession(_ context.Context, id string, data []byte, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[id] = memSession{data: append([]byte(nil), data...), expires: expires}
	return nil
}

// LoadSession implements SessionStore.
func (m *MemSessions) LoadSession(_ context.Context, id string, now time.Time) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ms, ok := m.m[id]
	if !ok || !now.Before(ms.expires) {
		return nil, false, nil
	}
	return ms.data, true, nil
}

// DeleteSession implements SessionStore.
func (m *MemSessions) DeleteSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, id)
	return nil
}

// DeleteExpiredSessions implements SessionStore.
func (m *MemSessions) DeleteExpiredSessions(_ context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, ms := range m.m {
		if !now.Before(ms.expires) {
			delete(m.m, id)
			n++
		}
	}
	return n, nil
}

var _ SessionStore = (*MemSessions)(nil)
