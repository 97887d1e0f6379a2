package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gpcm/gpcm/internal/tlscert"
)

const healthcheckHelp = `
Usage: gpcm healthcheck [--timeout D] [--ca FILE] [--insecure-skip-verify] URL

Fetches URL with GET and exits 0 when the answer is 2xx, 1 otherwise (the
status, or why no answer came, on stderr). It is the container image's
HEALTHCHECK: the image holds gpcm alone, with no curl or shell. Redirects
are not followed and proxy variables are ignored: the answer must come
from the service itself.

Exit status: 0 healthy (2xx), 1 unhealthy or unreachable, 2 usage error.

Examples:
  gpcm healthcheck http://127.0.0.1:8080/login
  gpcm healthcheck --ca /data/tls/ca.pem https://127.0.0.1:8700/healthz
  gpcm healthcheck --timeout 2s http://127.0.0.1:8082/healthz
`

func runHealthcheck(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "healthcheck", healthcheckHelp)
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this `long` (connecting and answering)")
	ca := fs.String("ca", "", "trust the CAs in this PEM `file` for an https URL (default the system's)")
	insecure := fs.Bool("insecure-skip-verify", false, "do not verify an https server's certificate (loopback URLs only)")
	cmdlineOnlyRest(fs)
	pos, err := parseInterspersed(fs, env, args)
	if err != nil {
		return err
	}
	const hint = "gpcm healthcheck --help"
	if len(pos) != 1 {
		return usagef(hint, "healthcheck: want one URL, got %d arguments", len(pos))
	}
	u, err := url.Parse(pos[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef(hint, "healthcheck: %q is not an http(s) URL", pos[0])
	}
	if *timeout <= 0 {
		return usagef(hint, "healthcheck: --timeout must be positive")
	}
	if *insecure && !isLoopback(u.Hostname()) {
		return usagef(hint, "healthcheck: --insecure-skip-verify is only allowed for loopback URLs, not %q", u.Hostname())
	}
	pool, err := tlscert.CAs{File: *ca}.Pool()
	if err != nil {
		return usagef(hint, "healthcheck: --ca: %v", err)
	}
	tr := &http.Transport{
		DialContext:     (&net.Dialer{Timeout: *timeout}).DialContext,
		TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, InsecureSkipVerify: *insecure},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: *timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return usagef(hint, "healthcheck: %v", err)
	}
	req.Header.Set("User-Agent", "gpcm-healthcheck")
	resp, err := client.Do(req)
	if err != nil {
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("healthcheck: %s: %v", u.Redacted(), err)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("healthcheck: %s answered %s", u.Redacted(), resp.Status)}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
