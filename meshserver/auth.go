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
// exists and is active, HMAC. The returned error is for the log only; the
// client always gets the same 403.
//
// The token is verified against the mailbox this process last saw (the
// callers cache), or as read now, and left pending in call.token: the
// handler's one store method records it with its work (withToken), and
// nothing is written to the client before it is (tokenGate). The store
// records it only while the mailbox is still the one verified against.
func (s *Server) authenticate(r *http.Request, v int) (*call, error) {
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
	c := &call{version: v, auth: tok, at: s.cfg.Now()}
	// Without a replay check nothing is recorded, so nothing confirms a
	// remembered mailbox: it is read every time.
	if seen, ok := s.callers.get(tok.Mailbox); ok && !s.cfg.SkipReplayCheck && s.verify(c, seen) == nil {
		c.mailbox = seen
	} else {
		mb, err := s.store.GetMailbox(r.Context(), tok.Mailbox)
		if errors.Is(err, ErrNotFound) {
			// Spend the same time as a known mailbox would.
			_ = s.verify(c, Mailbox{Active: true})
			return nil, errors.New("no mailbox matched")
		}
		if err != nil {
			return nil, storeFailure{err}
		}
		if err := s.verify(c, mb); err != nil {
			return nil, err
		}
		c.mailbox = mb
	}
	if !s.cfg.SkipReplayCheck {
		c.token = &Token{Nonce: tok.Nonce, Count: tok.NonceCount, At: c.at, Seen: c.mailbox}
	}
	return c, nil
}

// verify checks c's token against mailbox mb: its HMAC with mb's password,
// its clock window, and that mb is active.
func (s *Server) verify(c *call, mb Mailbox) error {
	window := s.cfg.ClockSkew
	if s.cfg.SkipTimestampCheck {
		window = 0
	}
	if err := c.auth.Verify(s.cfg.SharedKey, mb.Password, c.at, window); err != nil {
		return err
	}
	if !mb.Active {
		return errors.New("request received from inactive mailbox")
	}
	return nil
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

// spend records c's pending token, if any, with Store.Authenticate, and
// takes the mailbox as stored now: for a request that answers before, or
// without, its store method. An authFailure means the request must be
// refused as unauthenticated.
func (s *Server) spend(r *http.Request, c *call) error {
	_, err := withToken(s, r, c, func(tok *Token) (struct{}, error) {
		if tok == nil {
			return struct{}{}, nil
		}
		mb, err := s.store.Authenticate(r.Context(), *tok)
		if err == nil {
			c.mailbox = mb
		}
		return struct{}{}, err
	})
	var af authFailure
	if err != nil && !errors.As(err, &af) {
		return storeFailure{err}
	}
	return err
}

// withToken runs op, a RequestStore method, with c's pending token (nil
// when there is none: it was recorded already, or replays are not
// checked). When the store refused the token because the mailbox changed
// since the server read it, the token is verified again against the
// mailbox as stored now and, if it still holds, op runs once more with
// it. A replayed token, or one the changed mailbox no longer accepts, is
// an authFailure (the live 403). Once op recorded the token, c has none
// pending.
func withToken[T any](s *Server, r *http.Request, c *call, op func(tok *Token) (T, error)) (T, error) {
	if c.token == nil {
		return op(nil)
	}
	v, err := op(c.token)
	var changed *MailboxChangedError
	if errors.As(err, &changed) {
		s.callers.forget(c.mailbox.ID)
		if !changed.Found || s.verify(c, changed.Mailbox) != nil {
			var zero T
			return zero, authFailure{reason: "mailbox changed during authentication"}
		}
		tok := *c.token
		tok.Seen = changed.Mailbox
		c.mailbox, c.token = changed.Mailbox, &tok
		v, err = op(c.token)
		if errors.As(err, &changed) {
			var zero T
			return zero, authFailure{reason: "mailbox changed during authentication"}
		}
	}
	switch {
	case errors.Is(err, ErrReplay):
		var zero T
		return zero, authFailure{reason: "token already used"}
	case TokenRecorded(err):
		c.token = nil
		s.callers.put(c.mailbox.ID, c.mailbox)
	}
	return v, err
}

// authFailure refuses a request as unauthenticated (403) after the handler
// was entered: its token was used before, or the mailbox changed.
type authFailure struct{ reason string }

func (f authFailure) Error() string { return f.reason }

// storeFailure marks an authentication step that failed for want of the
// store, which is a 500, not a 403.
type storeFailure struct{ err error }

func (f storeFailure) Error() string { return f.err.Error() }
func (f storeFailure) Unwrap() error { return f.err }

// mailboxCache remembers the callers this process saw, so that a request
// costs no mailbox read: it is only a guess that the store confirms while
// recording each token (Token.Holds), and holds only mailboxes that exist,
// so it is bounded by their number.
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
