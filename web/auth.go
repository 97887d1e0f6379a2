package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// roleSet lists the roles a handler admits; nil admits every role.
type roleSet []Role

var anyRole roleSet

func roles(r ...Role) roleSet { return r }

func (rs roleSet) admits(r Role) bool { return rs == nil || slices.Contains(rs, r) }

// public adapts a handler that needs no login; a signed-in session, if
// any, is still loaded so that the page header names the user.
func (s *Server) public(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.loadSession(r)
		if err == nil && sess != nil {
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
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
		sess, err := s.loadSession(r)
		if err != nil {
			s.serveError(w, r, err)
			return
		}
		if sess == nil {
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
			if err := s.checkCSRF(w, r, sess.csrf, s.cfg.MaxUploadBytes); err != nil {
				s.serveError(w, r, err)
				return
			}
		}
		if err := h(w, r); err != nil {
			s.serveError(w, r, err)
		}
	})
}

// safeNext keeps a post-login redirect on this site: a path with exactly
// one leading slash, no scheme or host, and no backslash or control
// character, raw or percent-encoded (browsers drop TAB, CR and LF and read
// a backslash as a slash, so "/<TAB>/evil.example" would leave the site).
// Anything else is "/".
func safeNext(next string) string {
	const home = "/"
	if next == "" || len(next) > 2048 || hasUnsafeByte(next) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return home
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || hasUnsafeByte(u.Path) {
		return home
	}
	if q, err := url.QueryUnescape(u.RawQuery); err != nil || hasUnsafeByte(q) {
		return home
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}

// hasUnsafeByte reports a backslash or an ASCII control character.
func hasUnsafeByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b == 0x7f || b == '\\' {
			return true
		}
	}
	return false
}

// Limits of the login form, which anyone may post.
const (
	// maxAnonForm bounds the body of a form posted without a session.
	maxAnonForm = 4 << 10
	// MaxUsernameBytes is the longest user name a login accepts.
	MaxUsernameBytes = 256
)

type loginData struct {
	Next     string
	Username string
	Failed   bool
	// Wait is set when failed attempts slow this sign-in down: how long to
	// wait ("30 seconds").
	Wait string
}

func (s *Server) getLogin(w http.ResponseWriter, r *http.Request) error {
	if sessionFrom(r.Context()) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	p := s.newPage(r, "Sign in")
	p.CSRF = s.newLoginToken(w, r)
	p.Data = loginData{Next: safeNext(r.URL.Query().Get("next"))}
	return s.render(w, r, http.StatusOK, "login", p)
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkCSRF(w, r, s.loginToken(r), maxAnonForm); err != nil {
		return err
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	addr := s.clientAddr(r)
	again := func(status int, d loginData) error {
		d.Next = next
		if len(username) <= MaxUsernameBytes {
			d.Username = username
		}
		p := s.newPage(r, "Sign in")
		p.CSRF = s.newLoginToken(w, r)
		p.Data = d
		return s.render(w, r, status, "login", p)
	}
	if wait := s.limiter.Wait(username, addr); wait > 0 {
		s.log.WarnContext(r.Context(), "login throttled", "wait", wait)
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		return again(http.StatusTooManyRequests, loginData{Wait: waitText(wait)})
	}
	var u User
	if len(username) <= MaxUsernameBytes {
		var err error
		if u, err = s.cfg.Users.FindUser(r.Context(), username); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if !checkPassword(u, password) || u.Validate() != nil || u.Disabled {
		s.limiter.Fail(username, addr)
		s.log.InfoContext(r.Context(), "login failed")
		return again(http.StatusUnauthorized, loginData{Failed: true})
	}
	s.limiter.Succeed(username, addr)
	ns, err := s.createSession(r.Context(), u)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, ns)
	s.clearLoginCookie(w, r)
	s.log.InfoContext(r.Context(), "login", "role", u.Role)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// waitText says a wait in whole seconds or minutes, rounded up.
func waitText(d time.Duration) string {
	if d <= time.Minute {
		n := int((d + time.Second - 1) / time.Second)
		if n == 1 {
			return "1 second"
		}
		return strconv.Itoa(n) + " seconds"
	}
	n := int((d + time.Minute - 1) / time.Minute)
	return strconv.Itoa(n) + " minutes"
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Sessions.DeleteSession(r.Context(), sessionID(sessionFrom(r.Context()).token)); err != nil {
		return fmt.Errorf("ending session: %w", err)
	}
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
