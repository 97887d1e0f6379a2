package meshserver

import (
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/gpcm/gpcm/mesh"
)

// authenticate runs every check on a mailbox request: client certificate
// (when required), token shape, mailbox match, clock window, mailbox
// exists and is active, HMAC, single use. The returned error is for the log
// only; the client always gets the same 403.
//
// With deferToken, a store that records tokens with the request's work
// (TokenOpStore) and a token that verifies against the mailbox this process
// last saw, the token is left pending in call.token: the handler's first
// store call records it (see Server.spend), and nothing is written to the
// client before it is.
func (s *Server) authenticate(r *http.Request, v int, deferToken bool) (*call, error) {
	pathMB := strings.ToUpper(r.PathValue("mailbox"))
	if s.cfg.RequireClientCert {
		if err := verifiedClient(r); err != nil {
			return nil, err
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
	tok, err := mesh.ParseAuthorization(hdr)
	if err != nil {
		return nil, err
	}
	if tok.Mailbox != pathMB {
		return nil, errors.New("mailbox id does not match token")
	}
	now := s.cfg.Now()
	window := s.cfg.ClockSkew
	if s.cfg.SkipTimestampCheck {
		window = 0
	}
	nonce := UseNonceParams{Mailbox: tok.Mailbox, Nonce: tok.Nonce, Count: tok.NonceCount, At: now}
	if s.tokens != nil && !s.cfg.SkipReplayCheck {
		// Fast path: verify against the mailbox this process saw last and
		// let the store confirm it while recording the token.
		if seen, ok := s.callers.get(tok.Mailbox); ok && tok.Verify(s.cfg.SharedKey, seen.Password, now, window) == nil {
			c := &call{mailbox: seen, version: v, token: &PendingToken{UseNonceParams: nonce, Mailbox: seen}}
			if deferToken && s.tokenOps != nil {
				return c, nil
			}
			err := s.spend(r, c)
			var af authFailure
			if err == nil || !errors.As(err, &af) || !af.changed {
				return c, err
			}
			// The mailbox is gone or changed: the full path below decides.
		}
	}
	mb, err := s.store.GetMailbox(r.Context(), tok.Mailbox)
	if errors.Is(err, ErrNotFound) {
		// Spend the same time as a known mailbox would.
		_ = tok.Verify(s.cfg.SharedKey, "", now, window)
		return nil, errors.New("no mailbox matched")
	}
	if err != nil {
		return nil, storeFailure{err}
	}
	if err := tok.Verify(s.cfg.SharedKey, mb.Password, now, window); err != nil {
		return nil, err
	}
	if !mb.Active {
		return nil, errors.New("request received from inactive mailbox")
	}
	if !s.cfg.SkipReplayCheck && s.tokens != nil {
		c := &call{mailbox: mb, version: v, token: &PendingToken{UseNonceParams: nonce, Mailbox: mb}}
		if err := s.spend(r, c); err != nil {
			return nil, err
		}
		return c, nil
	}
	if !s.cfg.SkipReplayCheck {
		err := s.store.UseNonce(r.Context(), nonce)
		if errors.Is(err, ErrReplay) {
			return nil, errors.New("token already used")
		}
		if err != nil {
			return nil, storeFailure{err}
		}
	}
	return &call{mailbox: mb, version: v}, nil
}

// verifiedClient says why r has no client certificate that chained to
// the configured client CA, or nil when it has one.
func verifiedClient(r *http.Request) error {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return errors.New("no client certificate")
	}
	// VerifiedChains is set only when the certificate chained to the
	// configured client CA.
	if len(r.TLS.VerifiedChains) == 0 {
		return errors.New("client certificate not verified")
	}
	return nil
}

// certified refuses, with the MESH 403, a request to h without a verified
// client certificate when Config.RequireClientCert is set: lookups,
// workflow search, /metrics and the admin API are then no more open than
// the mailbox routes (which also check the certificate names the mailbox).
func (s *Server) certified(h http.Handler) http.Handler {
	if !s.cfg.RequireClientCert {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := verifiedClient(r); err != nil {
			v, _ := apiVersion(r.Header.Get("Accept"))
			s.refuse(w, r, v, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// spend records c's pending token, if any, with TokenStore.UseToken, and
// takes the mailbox as stored now. An authFailure means the request must
// be refused as unauthenticated.
func (s *Server) spend(r *http.Request, c *call) error {
	if c.token == nil {
		return nil
	}
	t := c.token
	mb, err := s.tokens.UseToken(r.Context(), t.UseNonceParams, t.Mailbox.Password)
	switch {
	case err == nil:
		c.mailbox, c.token = mb, nil
		s.callers.put(mb.ID, mb)
		return nil
	case errors.Is(err, ErrReplay):
		return authFailure{reason: "token already used"}
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
		s.callers.forget(t.Mailbox.ID)
		return authFailure{reason: "mailbox changed during authentication", changed: true}
	}
	return storeFailure{err}
}

// recording does a store call that records c's pending token with its
// work (merged, a TokenOpStore method) when there is one, and plain
// otherwise. The token is spent unless the store refused it or failed; if
// it refused it, spend decides in its place and, when spend succeeds,
// plain does the work the ordinary way.
func recording[T any](s *Server, r *http.Request, c *call, merged func(PendingToken) (T, error), plain func() (T, error)) (T, error) {
	if c.token == nil {
		return plain()
	}
	v, err := merged(*c.token)
	if !errors.Is(err, ErrTokenRefused) {
		if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrRecipient) {
			c.token = nil
		}
		return v, err
	}
	if err := s.spend(r, c); err != nil {
		var zero T
		return zero, err
	}
	return plain()
}

// authFailure refuses a request as unauthenticated (403) after the handler
// was entered: its token was used before, or the mailbox changed.
type authFailure struct {
	reason string
	// changed: the mailbox is gone, inactive or has another password.
	changed bool
}

func (f authFailure) Error() string { return f.reason }

// storeFailure marks an authentication step that failed for want of the
// store, which is a 500, not a 403.
type storeFailure struct{ err error }

func (f storeFailure) Error() string { return f.err.Error() }
func (f storeFailure) Unwrap() error { return f.err }

// mailboxCache remembers mailboxes this process saw: callers, so that a
// TokenStore can check a token in one round trip, and recipients able to
// receive, so that a CheckedInlineStore can check a recipient while
// storing. It is only a guess that the store confirms every time, and
// holds only mailboxes that exist, so it is bounded by their number.
type mailboxCache struct {
	mu sync.Mutex
	m  map[string]Mailbox
}

func (c *mailboxCache) get(id string) (Mailbox, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	mb, ok := c.m[id]
	return mb, ok
}

func (c *mailboxCache) put(id string, mb Mailbox) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]Mailbox{}
	}
	c.m[id] = mb
}

func (c *mailboxCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}
