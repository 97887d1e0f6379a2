package meshserver

import (
	"errors"
	"net/http"
	"strings"

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
