package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The login form's CSRF protection keeps nothing on the server: GET /login
// sets a short-lived cookie holding a random token, its expiry and an HMAC
// of both under Config.CookieKey, and the form carries the same token.
// POST /login needs the two to agree and the signature to hold, so a
// cookieless flood of the login page costs no memory and no store writes.
const (
	loginCookie = "gpcm_login"
	// loginTTL is how long a login form stays usable.
	loginTTL = time.Hour
	// loginCookieMax bounds the cookie read back (token, expiry, MAC).
	loginCookieMax = 160
)

func (s *Server) loginMAC(payload string) string {
	m := hmac.New(sha256.New, s.cfg.CookieKey)
	m.Write([]byte("gpcm login form\x00"))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newLoginToken sets a fresh login cookie and returns the token for the
// form.
func (s *Server) newLoginToken(w http.ResponseWriter, r *http.Request) string {
	token := randomToken()
	exp := s.cfg.Now().Add(loginTTL)
	payload := token + "." + strconv.FormatInt(exp.Unix(), 10)
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(r, loginCookie),
		Value:    payload + "." + s.loginMAC(payload),
		Path:     "/",
		Expires:  exp,
		HttpOnly: true,
		Secure:   s.secure(r),
		SameSite: http.SameSiteStrictMode,
	})
	return token
}

// loginToken returns the token of the request's login cookie when its
// signature holds and it has not expired, else "".
func (s *Server) loginToken(r *http.Request) string {
	c, err := r.Cookie(s.cookieName(r, loginCookie))
	if err != nil || len(c.Value) > loginCookieMax {
		return ""
	}
	payload, mac, ok := cutLast(c.Value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(s.loginMAC(payload))) {
		return ""
	}
	token, exp, ok := cutLast(payload, ".")
	if !ok {
		return ""
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !s.cfg.Now().Before(time.Unix(unix, 0)) {
		return ""
	}
	return token
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+len(sep):], true
}

func (s *Server) clearLoginCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(r, loginCookie), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteStrictMode,
	})
}
