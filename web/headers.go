package web

import "net/http"

// ContentSecurityPolicy is sent with every response: scripts, styles, images
// and connections only from this origin, no inline script or style, no
// framing except of our own PDFs, forms post only here.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; frame-src 'self'; object-src 'none'; manifest-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// HSTS is the Strict-Transport-Security value: one year.
const HSTS = "max-age=31536000"

// securityHeaders sets the headers every response carries. Handlers may
// relax frame-ancestors for content meant to be framed (the inline PDF).
// Strict-Transport-Security goes with every response over TLS or with
// Config.SecureCookies.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.secure(r) {
			h.Set("Strict-Transport-Security", HSTS)
		}
		next.ServeHTTP(w, r)
	})
}
