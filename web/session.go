package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"
)

const (
	sessionCookie = "gpcm_session"
	csrfField     = "csrf_token"
	csrfHeader    = "X-CSRF-Token"
	// anonTTL bounds a session made for the login form.
	anonTTL = 30 * time.Minute
	// maxSessions bounds the table so that anonymous requests cannot grow
	// it without limit.
	maxSessions = 50000
)

// session is one browser's server-side state. user is nil before login.
type session struct {
	id      string
	csrf    string
	user    *User
	expires time.Time
}

// sessions is the in-memory session table. Expired sessions are dropped when
// looked up and swept when the table fills.
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	now func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: make(map[string]*session), now: now}
}

var errTooManySessions = &httpError{Status: http.StatusServiceUnavailable, Message: "The service is busy. Try again in a few minutes"}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (ss *sessions) create(u *User, ttl time.Duration) (*session, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	if len(ss.m) >= maxSessions {
		for id, s := range ss.m {
			if !now.Before(s.expires) {
				delete(ss.m, id)
			}
		}
		if len(ss.m) >= maxSessions {
			return nil, errTooManySessions
		}
	}
	s := &session{id: randomToken(), csrf: randomToken(), user: u, expires: now.Add(ttl)}
	ss.m[s.id] = s
	return s, nil
}

func (ss *sessions) get(id string) (*session, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	if !ok {
		return nil, false
	}
	if !ss.now().Before(s.expires) {
		delete(ss.m, id)
		return nil, false
	}
	return s, true
}

func (ss *sessions) delete(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
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

// loadSession finds the request's session, if any.
func (s *Server) loadSession(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	sess, ok := s.sessions.get(c.Value)
	if !ok {
		return nil
	}
	return sess
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, sess *session) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    sess.id,
		Path:     "/",
		Expires:  sess.expires,
		HttpOnly: true,
		Secure:   r.TLS != nil || s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil || s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// checkCSRF parses the form (bounded by MaxUploadBytes) and compares its
// token, or the X-CSRF-Token header, with the session's.
func (s *Server) checkCSRF(w http.ResponseWriter, r *http.Request, sess *session) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes)
	var err error
	if ct := r.Header.Get("Content-Type"); len(ct) >= 19 && ct[:19] == "multipart/form-data" {
		err = r.ParseMultipartForm(s.cfg.MaxUploadBytes)
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
	if sess == nil || token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(sess.csrf)) != 1 {
		return errCSRF
	}
	return nil
}
