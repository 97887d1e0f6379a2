package mesh

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config says how a [Client] reaches its mailbox.
type Config struct {
	// URL is the base URL of the MESH service, e.g.
	// https://msg.intspineservices.nhs.uk; a path prefix is allowed.
	URL string
	// Mailbox is the caller's mailbox ID; it is upper-cased.
	Mailbox string
	// Password is the mailbox password; SharedKey the environment shared secret.
	Password  string
	SharedKey string
	// TLS is the client certificate and trusted CAs.
	TLS TLSConfig
	// ChunkSize is the number of payload bytes (before compression) per
	// chunk; default DefaultChunkSize, at most MaxRequestBytes.
	ChunkSize int64
	// Logger receives debug and warning records; nil discards them. It never
	// sees payloads, subjects or credentials.
	Logger *slog.Logger
	// HTTPClient replaces the client built from TLS (its transport must not
	// decompress responses by itself: set DisableCompression).
	HTTPClient *http.Client
	// Retry decides whether and when a failed idempotent request is repeated;
	// nil means DefaultRetryPolicy.
	Retry RetryPolicy
	// Now is the clock used for tokens; nil means time.Now.
	Now func() time.Time
	// ResponseTimeout bounds the wait for response headers of one attempt;
	// default 5 minutes. Bodies may take longer.
	ResponseTimeout time.Duration
	// ClientVersion is sent as Mex-ClientVersion and in User-Agent; default
	// "gpcm-mesh==1".
	ClientVersion string
	// TempDir holds the spool file of a send whose size is unknown; "" means
	// os.TempDir().
	TempDir string
	// AllowInsecureHTTP permits a plain http:// URL whose host is not a
	// loopback address or "localhost" (it is logged as a warning). Without
	// it such a URL is refused, and so is a redirect to one: the NHSMESH
	// token and the messages would cross the network unencrypted.
	AllowInsecureHTTP bool
}

// TLSConfig is the client side of mutual TLS.
type TLSConfig struct {
	// CertFile and KeyFile are PEM files of the client certificate and key.
	CertFile, KeyFile string
	// CAFile is a PEM bundle of CAs that sign the server certificate; empty
	// means the system pool.
	CAFile string
	// Certificates and RootCAs may be given instead of files.
	Certificates []tls.Certificate
	RootCAs      *x509.CertPool
	// InsecureSkipVerify disables server certificate checks. It is refused
	// unless the URL host is a loopback address or "localhost" (a local
	// sandbox), and it is logged as a warning.
	InsecureSkipVerify bool
}

// RetryPolicy decides the wait before retry number attempt (1 for the first
// retry); ok=false means give up.
type RetryPolicy interface {
	Delay(attempt int) (d time.Duration, ok bool)
}

// Backoff is an exponential RetryPolicy with full jitter: retry n waits a
// random time up to min(Max, Initial·2^(n-1)).
type Backoff struct {
	Retries int           // retries after the first attempt
	Initial time.Duration // cap of the first wait
	Max     time.Duration // largest wait
}

// Delay implements RetryPolicy.
func (b Backoff) Delay(attempt int) (time.Duration, bool) {
	if attempt > b.Retries {
		return 0, false
	}
	d := b.Initial
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if d <= 0 {
		return 0, true
	}
	return time.Duration(rand.Int64N(int64(d)) + 1), true
}

// DefaultRetryPolicy makes 4 retries waiting up to 0.5 s, 1 s, 2 s, 4 s.
var DefaultRetryPolicy RetryPolicy = Backoff{Retries: 4, Initial: 500 * time.Millisecond, Max: 30 * time.Second}

// NoRetry never retries.
var NoRetry RetryPolicy = Backoff{}

// withDefaults validates c and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		errs = append(errs, errors.New("URL is empty (want e.g. https://msg.intspineservices.nhs.uk)"))
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		errs = append(errs, fmt.Errorf("URL %q is not an http(s) URL with a host", c.URL))
	}
	c.Mailbox = strings.ToUpper(strings.TrimSpace(c.Mailbox))
	if c.Mailbox == "" {
		errs = append(errs, errors.New("Mailbox is empty"))
	} else if strings.ContainsAny(c.Mailbox, ":/?# \t") {
		errs = append(errs, fmt.Errorf("Mailbox %q has characters a mailbox ID cannot have", c.Mailbox))
	}
	if c.Password == "" {
		//lint:ignore ST1005 the text starts with the field's name, as its siblings' do (URL, Mailbox, SharedKey)
		errs = append(errs, errors.New("Password is empty"))
	}
	if c.SharedKey == "" {
		errs = append(errs, errors.New("SharedKey is empty"))
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.ChunkSize < 1 || c.ChunkSize > MaxRequestBytes {
		errs = append(errs, fmt.Errorf("ChunkSize %d is outside 1..%d bytes", c.ChunkSize, MaxRequestBytes))
	}
	if u != nil && u.Scheme == "http" && !isLoopbackHost(u.Hostname()) && !c.AllowInsecureHTTP {
		errs = append(errs, fmt.Errorf("URL %q is plain http:// to %q, not a loopback host: the NHSMESH token would cross the network unencrypted; use https:// (or AllowInsecureHTTP for a trusted network)", c.URL, u.Hostname()))
	}
	if c.TLS.InsecureSkipVerify && u != nil && !isLoopbackHost(u.Hostname()) {
		errs = append(errs, fmt.Errorf("TLS.InsecureSkipVerify is only allowed for loopback hosts, not %q", u.Hostname()))
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("TLS.CertFile and TLS.KeyFile must be given together"))
	}
	if c.Retry == nil {
		c.Retry = DefaultRetryPolicy
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ResponseTimeout <= 0 {
		c.ResponseTimeout = 5 * time.Minute
	}
	if c.ClientVersion == "" {
		c.ClientVersion = "gpcm-mesh==1"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("mesh config: %w", err)
	}
	return c, nil
}

// insecureHTTP reports whether u is plain http:// to a host other than
// loopback.
func insecureHTTP(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, "http") && !isLoopbackHost(u.Hostname())
}

// checkRedirect refuses a redirect that would take the token over plain
// HTTP to another machine (unless c allows it), and otherwise follows at
// most 10 as net/http does.
func (c Config) checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if insecureHTTP(req.URL) && !c.AllowInsecureHTTP {
			return fmt.Errorf("mesh: refused redirect to plain http:// host %q (the NHSMESH token would cross the network unencrypted)", req.URL.Hostname())
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("mesh: stopped after 10 redirects")
		}
		return nil
	}
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// httpClient builds the HTTP client: TLS ≥ 1.2, client certificate, CA
// pool, no transparent decompression, HTTP/1.1 with large buffers.
func (c Config) httpClient() (*http.Client, error) {
	if u, err := url.Parse(c.URL); err == nil && insecureHTTP(u) {
		c.Logger.Warn("mesh: plain http:// to a host other than loopback: the NHSMESH token and the messages cross the network unencrypted", "host", u.Hostname())
	}
	if c.HTTPClient != nil {
		hc := *c.HTTPClient
		hc.CheckRedirect = c.checkRedirect(hc.CheckRedirect)
		return &hc, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: c.TLS.Certificates, RootCAs: c.TLS.RootCAs}
	if c.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mesh config: client certificate %s / key %s: %w", c.TLS.CertFile, c.TLS.KeyFile, err)
		}
		tc.Certificates = append(tc.Certificates, cert)
	}
	if c.TLS.CAFile != "" {
		pem, err := os.ReadFile(c.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mesh config: CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mesh config: CA bundle %s holds no PEM certificate", c.TLS.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.TLS.InsecureSkipVerify {
		c.Logger.Warn("mesh: TLS server certificate verification is OFF (loopback sandbox only)", "url", c.URL)
		tc.InsecureSkipVerify = true
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: c.ResponseTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		// Keep a connection for each concurrent request (a receiver
		// downloads with many workers): with fewer, every burst closes the
		// extra connections and the next opens them again, and the TLS
		// handshakes cost client and server more CPU than the requests
		// (docs/benchmarks.md, "idle connections per host").
		MaxIdleConnsPerHost: 64,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}
	return &http.Client{Transport: tr, CheckRedirect: c.checkRedirect(nil)}, nil
}
