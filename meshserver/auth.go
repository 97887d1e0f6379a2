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
		// Fast path: verify against the password this process saw last
		// and let the store confirm it while recording the token.
		if pw, ok := s.passwords.get(tok.Mailbox); ok && tok.Verify(s.cfg.SharedKey, pw, now, window) == nil {
			mb, err := s.tokens.UseToken(r.Context(), nonce, pw)
			switch {
			case err == nil:
				return &call{mailbox: mb, version: v}, nil
			case errors.Is(err, ErrReplay):
				return nil, errors.New("token already used")
			case !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict):
				return nil, storeFailure{err}
			}
			// The mailbox is gone or changed: the full path below decides.
			s.passwords.forget(tok.Mailbox)
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
		got, err := s.tokens.UseToken(r.Context(), nonce, mb.Password)
		switch {
		case errors.Is(err, ErrReplay):
			return nil, errors.New("token already used")
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
			return nil, errors.New("mailbox changed during authentication")
		case err != nil:
			return nil, storeFailure{err}
		}
		s.passwords.put(got.ID, got.Password)
		return &call{mailbox: got, version: v}, nil
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

// storeFailure marks an authentication step that failed for want of the
// store, which is a 500, not a 403.
type storeFailure struct{ err error }

func (f storeFailure) Error() string { return f.err.Error() }
func (f storeFailure) Unwrap() error { return f.err }

// passwordCache remembers the password of each mailbox this process
// authenticated, so that a TokenStore can check a token in one round trip.
// It is only a guess: UseToken confirms it against the store every time.
// Only mailboxes that exist are added, so it is bounded by their number.
type passwordCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *passwordCache) get(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pw, ok := c.m[id]
	return pw, ok
}

func (c *passwordCache) put(id, pw string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[id] = pw
}

func (c *passwordCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// mailboxCache remembers mailboxes this process saw able to receive, so
// that a CheckedInlineStore can check a recipient while storing. Like
// passwordCache it is only a guess the store confirms, and holds only
// mailboxes that exist.
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
