package meshserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpcm/gpcm/authlimit"
	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/mesh"
)

// Defaults applied by Config.withDefaults.
const (
	DefaultExpiry          = 5 * 24 * time.Hour
	DefaultMaxRequestBytes = 100 * 1000 * 1000
	// DefaultMaxMessageBytes is 20 GB, the largest chunked message the
	// MESH API documents for its chunk endpoint (its overview says 100 GB,
	// 20 GB with the Java client).
	DefaultMaxMessageBytes = 20 * 1000 * 1000 * 1000
	// DefaultQuotaMessages and DefaultQuotaBytes bound what waits in one
	// mailbox: 100 000 messages, 100 GB.
	DefaultQuotaMessages  = 100_000
	DefaultQuotaBytes     = 100 * 1000 * 1000 * 1000
	DefaultClockSkew      = 2 * time.Hour
	DefaultExpiryInterval = time.Minute
	DefaultRetention      = 30 * 24 * time.Hour
)

// MinAdminTokenBytes is the shortest admin token New accepts: 32 bytes,
// for example the 64 hex digits of "openssl rand -hex 32".
const MinAdminTokenBytes = 32

// GPProviderWorkflows are the workflows for which a Mex-To of the form
// GPPROVIDER_{NHS number}_{date of birth}_{surname} is routed by the
// patient's registered practice: the live list of NHS England's "Endpoint
// lookup service and WorkflowIDs" page (9 Jul 2024). It holds both GP
// Connect Update Record workflows, the message and its acknowledgement,
// but of Send Document v2 only GPCONNECT_SEND_DOCUMENT.
var GPProviderWorkflows = []string{
	"TOC_FHIR_IP_DISCH", "TOC_FHIR_MH_DISCH", "TOC_FHIR_EC_DISCH", "TOC_FHIR_OP_ATTEN", "TOC_OUTP_ATT_DMS",
	"GPFED_CONSULT_REPORT", "GPFED_CONSULT_REPORT_ACK",
	"GPCONNECT_UPDATE_RECORD", "GPCONNECT_UPDATE_RECORD_ACK",
	"GPCONNECT_SEND_DOCUMENT",
}

// Config configures a Server. Store, Blobs and SharedKey are required.
type Config struct {
	Store Store
	Blobs blob.Store
	// SharedKey is the environment secret used in every NHSMESH HMAC.
	SharedKey string
	Logger    *slog.Logger
	// Now is the clock (default time.Now). Admin time travel adds an offset
	// for message lifecycle decisions; authentication uses Now unshifted.
	Now func() time.Time
	// Expiry is how long an accepted message may wait for acknowledgement
	// before it becomes undeliverable (default 5 days).
	Expiry time.Duration
	// ExpiryInterval is how often the background worker looks for expired
	// messages (default 1 minute).
	ExpiryInterval time.Duration
	// Retention is how long finished messages and reports are kept before
	// they and their payloads are deleted (default 30 days).
	Retention time.Duration
	// MaxRequestBytes bounds each request body (default 100 MB).
	MaxRequestBytes int64
	// MaxMessageBytes bounds a message's chunks together (default 20 GB).
	// A first chunk whose Content-Length times (total chunks − 1) already
	// passes it is refused before its body is read.
	MaxMessageBytes int64
	// QuotaMessages and QuotaBytes bound what may wait in one mailbox:
	// messages addressed to it that are uploading or accepted, and their
	// bytes (defaults 100 000 and 100 GB). A send or chunk past either is
	// refused. The server reads each recipient's usage from the store at
	// most once a second and counts what it accepts in between, so several
	// processes may together pass a quota by what they take in a second.
	QuotaMessages int
	QuotaBytes    int64
	// ClockSkew is the accepted distance between a token's timestamp and
	// Now (default 2 hours).
	ClockSkew time.Duration
	// RequireClientCert makes every request but GET /healthz present a
	// verified TLS client certificate (the TLS config must verify one when
	// given: tls.VerifyClientCertIfGiven and ClientCAs), and every mailbox
	// request one whose CN names the mailbox (the CN equals the mailbox id
	// or starts with "{mailbox id}.").
	RequireClientCert bool
	// SkipTimestampCheck and SkipReplayCheck relax authentication for
	// parity with the NHS sandbox. Off by default.
	SkipTimestampCheck bool
	SkipReplayCheck    bool
	// AdminToken enables the /admin API (Authorization: Bearer TOKEN). It
	// must have at least MinAdminTokenBytes bytes.
	AdminToken string
	// GPProviderWorkflows overrides the list of workflows routed by
	// GPPROVIDER addresses; nil means the package default.
	GPProviderWorkflows []string
	// AuthLimits throttles failed MESH and admin authentications by
	// mailbox and client address (zero: DefaultAuthLimits; clock Now).
	AuthLimits authlimit.Config
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Expiry == 0 {
		c.Expiry = DefaultExpiry
	}
	if c.ExpiryInterval == 0 {
		c.ExpiryInterval = DefaultExpiryInterval
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.QuotaMessages == 0 {
		c.QuotaMessages = DefaultQuotaMessages
	}
	if c.QuotaBytes == 0 {
		c.QuotaBytes = DefaultQuotaBytes
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = DefaultClockSkew
	}
	if c.GPProviderWorkflows == nil {
		c.GPProviderWorkflows = GPProviderWorkflows
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Store == nil:
		return errors.New("meshserver: Config.Store is required")
	case c.Blobs == nil:
		return errors.New("meshserver: Config.Blobs is required")
	case c.SharedKey == "":
		return errors.New("meshserver: Config.SharedKey is required (the MESH environment shared secret)")
	case c.Expiry < 0:
		return fmt.Errorf("meshserver: Config.Expiry %v cannot be negative", c.Expiry)
	case c.ExpiryInterval < 0:
		return fmt.Errorf("meshserver: Config.ExpiryInterval %v cannot be negative", c.ExpiryInterval)
	case c.Retention < 0:
		return fmt.Errorf("meshserver: Config.Retention %v cannot be negative", c.Retention)
	case c.MaxRequestBytes < 0:
		return fmt.Errorf("meshserver: Config.MaxRequestBytes %d cannot be negative", c.MaxRequestBytes)
	case c.MaxMessageBytes < 0:
		return fmt.Errorf("meshserver: Config.MaxMessageBytes %d cannot be negative", c.MaxMessageBytes)
	case c.QuotaMessages < 0 || c.QuotaBytes < 0:
		return fmt.Errorf("meshserver: Config.QuotaMessages %d and QuotaBytes %d cannot be negative", c.QuotaMessages, c.QuotaBytes)
	}
	if err := CheckAdminToken(c.AdminToken); err != nil {
		return fmt.Errorf("meshserver: Config.AdminToken: %w", err)
	}
	return nil
}

// CheckAdminToken refuses a non-empty admin token shorter than
// MinAdminTokenBytes; an empty one (admin API off) is fine.
func CheckAdminToken(tok string) error {
	if tok != "" && len(tok) < MinAdminTokenBytes {
		return fmt.Errorf("the admin token has %d bytes; it needs at least %d (make one with \"openssl rand -hex 32\")", len(tok), MinAdminTokenBytes)
	}
	return nil
}

// Server is the MESH HTTP API. It is an http.Handler; Start and Stop run
// its background expiry worker.
type Server struct {
	cfg   Config
	store Store
	blobs blob.Store
	// callers holds the mailboxes of recent requests (see authenticate).
	callers mailboxCache
	log     *slog.Logger
	mux     *http.ServeMux
	offset  atomic.Int64 // admin time travel, nanoseconds
	metrics *metrics
	ids     mesh.IDGenerator

	authFailures authLog
	quota        quotaCache
	limiter      *authlimit.Limiter

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	started bool
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: cfg.Store, blobs: cfg.Blobs, log: cfg.Logger.WithGroup("meshserver"), metrics: newMetrics()}
	var err error
	if s.limiter, err = newAuthLimiter(cfg); err != nil {
		return nil, fmt.Errorf("meshserver: Config.AuthLimits: %w", err)
	}
	s.routes()
	return s, nil
}

// now is the lifecycle clock: Config.Now plus any admin time travel.
func (s *Server) now() time.Time {
	return s.cfg.Now().Add(time.Duration(s.offset.Load())).UTC()
}

func (s *Server) routes() {
	inner := http.NewServeMux()
	mb := func(pattern string, h handlerFunc) { inner.Handle(pattern, s.mailboxRoute(h, false)) }
	// These requests record their token with their work, in their one
	// store method (see authenticate); the others record it first.
	deferred := func(pattern string, h handlerFunc) { inner.Handle(pattern, s.mailboxRoute(h, true)) }
	mb("POST /messageexchange/{mailbox}", s.handshake)
	mb("GET /messageexchange/{mailbox}", s.handshake)
	deferred("GET /messageexchange/{mailbox}/inbox", s.listInbox)
	deferred("GET /messageexchange/{mailbox}/inbox/rich", s.richInbox)
	deferred("GET /messageexchange/{mailbox}/outbox/rich", s.richOutbox)
	deferred("GET /messageexchange/{mailbox}/inbox/{id}", s.download)
	deferred("GET /messageexchange/{mailbox}/inbox/{id}/{n}", s.download)
	deferred("PUT /messageexchange/{mailbox}/inbox/{id}/status/acknowledged", s.acknowledge)
	mb("GET /messageexchange/{mailbox}/count", s.count)
	deferred("POST /messageexchange/{mailbox}/outbox", s.send)
	mb("POST /messageexchange/{mailbox}/outbox/{id}/{n}", s.sendChunk)
	deferred("GET /messageexchange/{mailbox}/outbox/tracking", s.trackByID)
	deferred("GET /messageexchange/{mailbox}/outbox/tracking/{localid}", s.trackByLocalID)
	mb("POST /messageexchange/{mailbox}/update", func(w http.ResponseWriter, r *http.Request, c *call) error {
		writeEmpty(w, http.StatusOK)
		return nil
	})

	// With Config.RequireClientCert every route but /healthz needs a
	// verified client certificate; the mailbox routes check it (and its
	// CN) as they authenticate.
	outer := http.NewServeMux()
	open := func(pattern string, h http.Handler) { outer.Handle(pattern, s.certified(h)) }
	open("GET /messageexchange/endpointlookup/{ods}/{workflow}", s.openRoute(s.endpointLookup))
	open("GET /messageexchange/workflowsearch/{workflow}", s.openRoute(s.workflowSearch))
	open("GET /messageexchange/_ping", http.HandlerFunc(s.health))
	outer.HandleFunc("GET /healthz", s.health)
	open("GET /health", http.HandlerFunc(s.health))
	open("GET /metrics", http.HandlerFunc(s.serveMetrics))
	outer.Handle("/messageexchange/", inner)
	s.adminRoutes(func(pattern string, h http.HandlerFunc) { open(pattern, h) })
	s.mux = outer
}

// ServeHTTP serves the MESH API, health, metrics and (if enabled) admin routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.cfg.Now()
	rw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rw, r)
	discardBody(r)
	s.metrics.request(r.Pattern, rw.status, rw.n)
	s.log.DebugContext(r.Context(), "request", "method", r.Method, "route", r.Pattern, "status", rw.status,
		"bytes", rw.n, "took", s.cfg.Now().Sub(start))
}

// maxDiscard bounds the unread request body discardBody reads.
const maxDiscard = 64 << 10

// discardBody reads what is left of a request body the handler did not
// read (an acknowledgement with a JSON body, as the NHS Node client sends
// one; a send refused before its upload), up to maxDiscard bytes, before
// the response leaves: with the body unread, net/http ends an HTTP/2
// stream with RST_STREAM after the response, which curl reports as a
// stream error instead of the answer.
func discardBody(r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		_, _ = io.CopyN(io.Discard, r.Body, maxDiscard)
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if _, err := s.store.CountInbox(r.Context(), ""); err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

// call is what an authenticated mailbox request knows about its caller.
type call struct {
	mailbox Mailbox
	version int
	// auth is the request's token as parsed, verified at time at.
	auth mesh.Token
	at   time.Time
	// token, when not nil, is the request's token not yet recorded, as
	// verified against mailbox. See authenticate and withToken.
	token *Token
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// apiVersion picks the API version from Accept (mesh.Version), capped at 2.
func apiVersion(accept string) (int, error) {
	v, err := mesh.Version(accept)
	if err != nil {
		return 1, errBadAccept
	}
	return min(v, 2), nil
}

// openRoute serves a route that needs no token (lookups).
func (s *Server) openRoute(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := apiVersion(r.Header.Get("Accept"))
		if err == nil {
			err = h(w, r, &call{version: v})
		}
		if err != nil {
			s.writeError(w, r, v, err)
		}
	})
}

// mailboxRoute authenticates the caller (mTLS, NHSMESH token) for the
// mailbox in the path before calling h. With deferToken the token is still
// pending when h runs (see authenticate): h records it with its store
// method (withToken), and whatever is written first waits until it is
// (tokenGate; without a pending token the gate lets everything through).
// Without deferToken it is recorded before h runs.
func (s *Server) mailboxRoute(h handlerFunc, deferToken bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := apiVersion(r.Header.Get("Accept"))
		if err != nil {
			s.writeError(w, r, v, err)
			return
		}
		mailbox := strings.ToUpper(r.PathValue("mailbox"))
		if s.throttled(w, r, v, mailbox) {
			return
		}
		c, err := s.authenticate(r, v)
		if err == nil && !deferToken {
			err = s.spend(r, c)
		}
		if err != nil {
			s.refuse(w, r, v, err)
			return
		}
		s.limiter.Succeed(mailbox, authlimit.Address(r.RemoteAddr))
		g := &tokenGate{ResponseWriter: w, s: s, r: r, c: c}
		err = h(g, r, c)
		var af authFailure
		var sf storeFailure
		switch {
		case g.refused:
		case errors.As(err, &af) || errors.As(err, &sf):
			s.refuse(w, r, v, err)
		case err != nil:
			// Through the gate: a replayed request gets the 403, not what
			// the request would have got.
			s.writeError(g, r, v, err)
		default:
			// A handler that wrote nothing gets net/http's empty 200,
			// which waits for the token too.
			g.pass()
		}
	})
}

// refuse answers a request that failed authentication: a 500 when the
// store failed, otherwise the live 403, counted and logged.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, v int, err error) {
	var sf storeFailure
	if errors.As(err, &sf) {
		s.writeError(w, r, v, err)
		return
	}
	s.metrics.authFailure()
	s.limiter.Fail(strings.ToUpper(r.PathValue("mailbox")), authlimit.Address(r.RemoteAddr))
	s.authFailures.add(AuthFailure{At: s.now(), Mailbox: r.PathValue("mailbox"), Reason: err.Error(), RemoteAddr: r.RemoteAddr})
	s.log.InfoContext(r.Context(), "authentication failed", "route", r.Pattern, "reason", err.Error())
	s.writeError(w, r, v, errAuth)
}

// tokenGate holds back a response until the request's pending token is
// recorded; if the store refuses it, the client gets the 403 instead and
// everything the handler writes is dropped.
type tokenGate struct {
	http.ResponseWriter
	s       *Server
	r       *http.Request
	c       *call
	refused bool
}

// pass records the pending token; false when the response is refused.
func (g *tokenGate) pass() bool {
	if g.refused {
		return false
	}
	if err := g.s.spend(g.r, g.c); err != nil {
		g.refused = true
		h := g.ResponseWriter.Header()
		for k := range h {
			delete(h, k)
		}
		g.s.refuse(g.ResponseWriter, g.r, g.c.version, err)
		return false
	}
	return true
}

func (g *tokenGate) WriteHeader(code int) {
	if g.pass() {
		g.ResponseWriter.WriteHeader(code)
	}
}

func (g *tokenGate) Write(p []byte) (int, error) {
	if !g.pass() {
		return 0, errTokenRefusedWrite
	}
	return g.ResponseWriter.Write(p)
}

// Flush lets streaming handlers flush through the gate.
func (g *tokenGate) Flush() {
	if g.pass() {
		if f, ok := g.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (g *tokenGate) Unwrap() http.ResponseWriter { return g.ResponseWriter }

var errTokenRefusedWrite = errors.New("meshserver: response refused: token not recorded")

// newMessageID mints a live-format id, yyyyMMddHHmmssffffff_XXXXXX (UTC),
// increasing within this process.
func (s *Server) newMessageID() string { return s.ids.New(s.now()) }

type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
	wrote  bool
}

func (c *countingWriter) WriteHeader(code int) {
	if !c.wrote {
		c.status, c.wrote = code, true
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.wrote = true
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// Flush lets streaming handlers flush through the counter.
func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
