package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gpcm/gpcm/authlimit"
)

// clientAddr is the address login throttling counts a request by: the
// peer, or, when the peer is a trusted proxy, the right-most address of
// X-Forwarded-For that is not one (a client can put anything at the left).
func (s *Server) clientAddr(r *http.Request) string {
	peer := r.RemoteAddr
	if h, _, err := net.SplitHostPort(peer); err == nil {
		peer = h
	}
	if !s.trusted(peer) {
		return authlimit.Address(peer)
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		if !s.trusted(hop) {
			return authlimit.Address(hop)
		}
		peer = hop
	}
	return authlimit.Address(peer)
}

func (s *Server) trusted(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
