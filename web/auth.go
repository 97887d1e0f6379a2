package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// roleSet lists the roles a handler admits; nil admits every role.
type roleSet []Role

var anyRole roleSet

func roles(r ...Role) roleSet { return r }

func (rs roleSet) admits(r Role) bool { return rs == nil || slices.Contains(rs, r) }

// public adapts a handler that needs no login; the session, if any, is
// still loaded so the login form can carry its CSRF token.
func (s *Server) public(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sess := s.loadSession(r); sess != nil {
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
		}
		if err := h(w, r); err != nil {
			s.serveError(w, r, err)
		}
	})
}

// auth adapts a handler that needs a logged-in user with one of allow's
// roles; POSTs must also carry the session's CSRF token. Anonymous GETs of a
// page are sent to the login page; anything else gets 401.
func (s *Server) auth(allow roleSet, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		sess := s.loadSession(r)
		if sess == nil || sess.user == nil {
			if r.Method == http.MethodGet && r.URL.Path != "/events" {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.serveError(w, r, &httpError{Status: http.StatusUnauthorized, Message: "You need to sign in"})
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
		if sess.user.checkIdentity() != nil || !allow.admits(sess.user.Role) {
			s.serveError(w, r, errForbidden)
			return
		}
		if r.Method == http.MethodPost {
			if err := s.checkCSRF(w, r, sess); err != nil {
				s.serveError(w, r, err)
				return
			}
		}
		if err := h(w, r); err != nil {
			s.serveError(w, r, err)
		}
	})
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

type loginData struct {
	Next     string
	Username string
	Failed   bool
	// Throttled: too many failed attempts for this username.
	Throttled bool
}

func (s *Server) getLogin(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	if sess != nil && sess.user != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	if sess == nil {
		var err error
		if sess, err = s.sessions.create(nil, anonTTL); err != nil {
			return err
		}
		s.setSessionCookie(w, r, sess)
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
	}
	p := s.newPage(r, "Sign in")
	p.Data = loginData{Next: safeNext(r.URL.Query().Get("next"))}
	return s.render(w, r, http.StatusOK, "login", p)
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	if err := s.checkCSRF(w, r, sess); err != nil {
		return err
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	if s.throttle.blocked(username) {
		s.log.InfoContext(r.Context(), "login throttled")
		p := s.newPage(r, "Sign in")
		p.Data = loginData{Next: next, Username: username, Throttled: true}
		return s.render(w, r, http.StatusTooManyRequests, "login", p)
	}
	u, err := s.cfg.Users.FindUser(r.Context(), username)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if !checkPassword(u, password) || u.Validate() != nil {
		s.throttle.fail(username)
		s.log.InfoContext(r.Context(), "login failed")
		p := s.newPage(r, "Sign in")
		p.Data = loginData{Next: next, Username: username, Failed: true}
		return s.render(w, r, http.StatusUnauthorized, "login", p)
	}
	s.throttle.succeed(username)
	s.sessions.delete(sess.id)
	u.PasswordHash = nil
	ns, err := s.sessions.create(&u, s.cfg.SessionTTL)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, ns)
	s.log.InfoContext(r.Context(), "login", "role", u.Role)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) error {
	s.sessions.delete(sessionFrom(r.Context()).id)
	s.clearSessionCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// getHome sends each role to its main page.
func (s *Server) getHome(w http.ResponseWriter, r *http.Request) error {
	nav := s.nav(userFrom(r.Context()))
	http.Redirect(w, r, nav[0].Href, http.StatusSeeOther)
	return nil
}
