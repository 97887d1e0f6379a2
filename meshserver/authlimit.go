package meshserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gpcm/gpcm/authlimit"
)

// DefaultAuthLimits is Config.AuthLimits when unset: a MESH client makes
// many requests, so ten failures for one mailbox from one address, fifty
// from one address over any mailboxes (or admin tokens), and fifty for one
// mailbox over many addresses (each counting for at most ten) are free;
// then each failure doubles the wait before the next attempt, from one
// second up to five minutes (one minute for a mailbox over all addresses).
func DefaultAuthLimits() authlimit.Config {
	return authlimit.Config{
		Pair:    authlimit.Policy{Free: 10, Base: time.Second, Max: 5 * time.Minute},
		Address: authlimit.Policy{Free: 50, Base: time.Second, Max: 5 * time.Minute},
		Account: authlimit.Policy{Free: 50, Base: time.Second, Max: time.Minute},
	}
}

// newAuthLimiter makes the limiter of MESH and admin authentication
// failures, on the unshifted clock.
func newAuthLimiter(cfg Config) (*authlimit.Limiter, error) {
	lc := cfg.AuthLimits
	if lc.Pair == (authlimit.Policy{}) && lc.Account == (authlimit.Policy{}) && lc.Address == (authlimit.Policy{}) {
		d := DefaultAuthLimits()
		lc.Pair, lc.Account, lc.Address = d.Pair, d.Account, d.Address
	}
	if lc.Now == nil {
		lc.Now = cfg.Now
	}
	return authlimit.New(lc)
}

// errThrottled is the refusal of an attempt that must wait. Live MESH
// documents no body for it; clients retry a 429 (mesh-client does).
var errThrottled = errf(http.StatusTooManyRequests, "", "", "Too many failed authentication attempts")

// throttled answers 429 with Retry-After when account (a mailbox, or ""
// for the admin API) from r's address must wait after failed attempts.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, v int, account string) bool {
	wait := s.limiter.Wait(account, authlimit.Address(r.RemoteAddr))
	if wait <= 0 {
		return false
	}
	s.log.InfoContext(r.Context(), "authentication throttled", "route", r.Pattern, "wait", wait)
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	s.writeError(w, r, v, errThrottled)
	return true
}
