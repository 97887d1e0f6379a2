package meshserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Token is a parsed NHSMESH Authorization header.
type Token struct {
	Mailbox    string
	Nonce      string
	NonceCount string
	Timestamp  string
	HMAC       string
}

const authScheme = "NHSMESH "

// ParseToken parses "NHSMESH mailbox:nonce:count:timestamp:hmac". It
// checks the shape only; Verify checks the signature.
func ParseToken(header string) (Token, error) {
	h := strings.TrimSpace(header)
	if len(h) > 1024 {
		return Token{}, errors.New("authorization header too long")
	}
	rest, ok := strings.CutPrefix(h, authScheme)
	if !ok {
		return Token{}, errors.New("authorization scheme is not NHSMESH")
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 5 {
		return Token{}, fmt.Errorf("authorization has %d fields, want 5", len(parts))
	}
	t := Token{Mailbox: parts[0], Nonce: parts[1], NonceCount: parts[2], Timestamp: parts[3], HMAC: parts[4]}
	switch {
	case t.Mailbox == "" || strings.ContainsAny(t.Mailbox, " \t"):
		return Token{}, errors.New("authorization mailbox id is empty or has spaces")
	case t.Nonce == "":
		return Token{}, errors.New("authorization nonce is empty")
	case t.NonceCount == "" || strings.Trim(t.NonceCount, "0123456789") != "":
		return Token{}, errors.New("authorization nonce count is not a number")
	case len(t.Timestamp) != 12 || strings.Trim(t.Timestamp, "0123456789") != "":
		return Token{}, errors.New("authorization timestamp is not yyyyMMddHHmm")
	case len(t.HMAC) != 64:
		return Token{}, errors.New("authorization hmac is not 64 hex digits")
	}
	return t, nil
}

// Time returns the token's timestamp (UTC, minute precision).
func (t Token) Time() (time.Time, error) {
	return time.ParseInLocation("200601021504", t.Timestamp, time.UTC)
}

// Sign computes the lower-case hex HMAC-SHA256 of the token's fields and the
// mailbox password under the shared key.
func (t Token) Sign(sharedKey, password string) string {
	m := hmac.New(sha256.New, []byte(sharedKey))
	m.Write([]byte(t.Mailbox + ":" + t.Nonce + ":" + t.NonceCount + ":" + password + ":" + t.Timestamp))
	return hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether the token's HMAC matches, in constant time.
func (t Token) Verify(sharedKey, password string) bool {
	want := t.Sign(sharedKey, password)
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(t.HMAC)), []byte(want)) == 1
}

// authenticate runs every check on a mailbox request: client certificate
// (when required), token shape, mailbox match, clock window, mailbox
// exists and is active, HMAC, single use. The returned error is for the log
// only; the client always gets the same 403.
func (s *Server) authenticate(r *http.Request, v int) (*call, error) {
	pathMB := strings.ToUpper(r.PathValue("mailbox"))
	if s.cfg.RequireClientCert {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			return nil, errors.New("no client certificate")
		}
		// VerifiedChains is set only when the certificate chained to the
		// configured client CA.
		if len(r.TLS.VerifiedChains) == 0 {
			return nil, errors.New("client certificate not verified")
		}
		cn := strings.ToUpper(r.TLS.PeerCertificates[0].Subject.CommonName)
		if cn != pathMB && !strings.HasPrefix(cn, pathMB+".") {
			return nil, errors.New("client certificate CN does not name the mailbox")
		}
	}
	hdr := r.Header.Get("Authorization")
	if hdr == "" {
		return nil, errors.New("no Authorization header")
	}
	tok, err := ParseToken(hdr)
	if err != nil {
		return nil, err
	}
	if tok.Mailbox != pathMB {
		return nil, errors.New("mailbox id does not match token")
	}
	now := s.cfg.Now()
	if !s.cfg.SkipTimestampCheck {
		ts, err := tok.Time()
		if err != nil {
			return nil, errors.New("token timestamp is not a valid time")
		}
		if d := now.Sub(ts); d > s.cfg.ClockSkew || d < -s.cfg.ClockSkew {
			return nil, errors.New("token timestamp outside the allowed window")
		}
	}
	mb, err := s.store.GetMailbox(r.Context(), tok.Mailbox)
	if errors.Is(err, ErrNotFound) {
		// Spend the same time as a known mailbox would.
		tok.Verify(s.cfg.SharedKey, "")
		return nil, errors.New("no mailbox matched")
	}
	if err != nil {
		return nil, storeFailure{err}
	}
	if !tok.Verify(s.cfg.SharedKey, mb.Password) {
		return nil, errors.New("invalid hmac")
	}
	if !mb.Active {
		return nil, errors.New("request received from inactive mailbox")
	}
	if !s.cfg.SkipReplayCheck {
		err := s.store.UseNonce(r.Context(), UseNonceParams{Mailbox: tok.Mailbox, Nonce: tok.Nonce, Count: tok.NonceCount, At: now})
		if errors.Is(err, ErrReplay) {
			return nil, errors.New("token already used")
		}
		if err != nil {
			return nil, storeFailure{err}
		}
	}
	return &call{mailbox: mb, version: v}, nil
}

// storeFailure marks an authentication step that failed for want of the
// store, which is a 500, not a 403.
type storeFailure struct{ err error }

func (f storeFailure) Error() string { return f.err.Error() }
func (f storeFailure) Unwrap() error { return f.err }
