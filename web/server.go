package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gpcm/gpcm/authlimit"
)

// Defaults applied by Config.withDefaults.
const (
	DefaultServiceName     = "GP Connect Messaging"
	DefaultSessionTTL      = 8 * time.Hour
	DefaultMaxUploadBytes  = 20 << 20
	DefaultMaxEventStreams = 8
)

// DefaultLoginLimits is the sign-in throttling of Config.LoginLimits:
// five failures for one account from one address, twenty from one address
// over any accounts, and twenty for one account over many addresses (each
// address counting for at most five) are free; then every failure doubles
// the wait before the next attempt, from one second up to fifteen minutes
// (one minute for the account over all addresses, so that nobody can keep
// an account's owner out for long).
func DefaultLoginLimits() authlimit.Config {
	return authlimit.Config{
		Pair:    authlimit.Policy{Free: 5, Base: time.Second, Max: 15 * time.Minute},
		Address: authlimit.Policy{Free: 20, Base: time.Second, Max: 15 * time.Minute},
		Account: authlimit.Policy{Free: 20, Base: time.Second, Max: time.Minute},
	}
}

// Config configures a Server. Users is required; every back end is optional
// and its pages are left out when nil.
type Config struct {
	// ServiceName is shown in the header and page titles.
	ServiceName string
	// Users finds login accounts.
	Users Users
	// Inbox backs the practice inbox (implemented by the receiver).
	Inbox Inbox
	// Outbox backs the sender dashboard (implemented by the sender).
	Outbox Outbox
	// Mesh backs the MESH admin page (a meshserver.Store satisfies it).
	Mesh MeshAdmin
	// AuthFailures, if set, lists recent MESH authentication failures on
	// the MESH admin page (the MESH server keeps them, not its store).
	AuthFailures AuthFailureLog
	// Broker carries live updates to open pages; nil makes a new one that
	// Server.Start and Server.Stop run.
	Broker *Broker
	// Templates and Static default to the embedded files (the Templates and
	// Static variables); development builds may pass os.DirFS.
	Templates fs.FS
	Static    fs.FS
	// SessionTTL is how long a session lasts after login (default 8 hours).
	SessionTTL time.Duration
	// Sessions keeps signed-in sessions (default MemSessions: lost when
	// the process ends and not shared with other processes).
	Sessions SessionStore
	// CookieKey signs the login form's cookie; at least 32 bytes. Processes
	// that serve one address together need the same key. Default: random
	// for this Server.
	CookieKey []byte
	// SecureCookies marks every cookie Secure (named with the __Host-
	// prefix) and sends Strict-Transport-Security with every response, even
	// for plain-HTTP requests: set it behind a TLS-terminating proxy.
	// Requests that arrive over TLS get both anyway.
	SecureCookies bool
	// TrustedProxies are the reverse proxies in front of the UI: for a
	// request from one of them, the client is the right-most address of
	// X-Forwarded-For that is not a trusted proxy. Login throttling counts
	// failures by that address. Default: none (the peer address).
	TrustedProxies []netip.Prefix
	// LoginLimits throttles failed sign-ins (zero: DefaultLoginLimits;
	// its clock defaults to Now).
	LoginLimits authlimit.Config
	// MaxEventStreams bounds the live-update streams one user may have
	// open on this server (default 8).
	MaxEventStreams int
	// MaxUploadBytes bounds a form body, uploads included (default 20 MiB).
	MaxUploadBytes int64
	Logger         *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.ServiceName == "" {
		c.ServiceName = DefaultServiceName
	}
	if c.Templates == nil {
		c.Templates = Templates
	}
	if c.Static == nil {
		c.Static = Static
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.MaxUploadBytes == 0 {
		c.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sessions == nil {
		c.Sessions = NewMemSessions()
	}
	if c.CookieKey == nil {
		c.CookieKey = make([]byte, 32)
		_, _ = rand.Read(c.CookieKey) // never fails (crypto/rand)
	}
	if ll := c.LoginLimits; ll.Pair == (authlimit.Policy{}) && ll.Account == (authlimit.Policy{}) && ll.Address == (authlimit.Policy{}) {
		d := DefaultLoginLimits()
		c.LoginLimits.Pair, c.LoginLimits.Account, c.LoginLimits.Address = d.Pair, d.Account, d.Address
	}
	if c.LoginLimits.Now == nil {
		c.LoginLimits.Now = c.Now
	}
	if c.MaxEventStreams == 0 {
		c.MaxEventStreams = DefaultMaxEventStreams
	}
	return c
}

func (c Config) validate() error {
	if c.Users == nil {
		return errors.New("web: Config.Users is required")
	}
	if c.SessionTTL < time.Minute {
		return fmt.Errorf("web: Config.SessionTTL %s is shorter than a minute", c.SessionTTL)
	}
	if c.MaxUploadBytes < 1024 {
		return fmt.Errorf("web: Config.MaxUploadBytes %d is below 1024", c.MaxUploadBytes)
	}
	if len(c.CookieKey) < 32 {
		return fmt.Errorf("web: Config.CookieKey has %d bytes, want at least 32", len(c.CookieKey))
	}
	if c.MaxEventStreams < 1 {
		return fmt.Errorf("web: Config.MaxEventStreams %d is below 1", c.MaxEventStreams)
	}
	return nil
}

// Server is the web UI. It is an http.Handler.
type Server struct {
	cfg       Config
	log       *slog.Logger
	mux       *http.ServeMux
	handler   http.Handler
	pages     *pages
	static    *staticFiles
	limiter   *authlimit.Limiter
	lastSweep atomic.Int64 // unix seconds of the last DeleteExpiredSessions
	streams   streamCounter
	broker    *Broker
	ownBroker bool
}

// New checks cfg, parses every template and indexes the static files. It
// fails if a page's template is missing or does not parse.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	limiter, err := authlimit.New(cfg.LoginLimits)
	if err != nil {
		return nil, fmt.Errorf("web: Config.LoginLimits: %w", err)
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger.WithGroup("web"),
		mux:     http.NewServeMux(),
		limiter: limiter,
		broker:  cfg.Broker,
	}
	if s.broker == nil {
		s.broker = NewBroker(cfg.Logger)
		s.ownBroker = true
	}
	if s.static, err = newStaticFiles(cfg.Static); err != nil {
		return nil, err
	}
	if s.pages, err = parsePages(cfg.Templates, s.static.url); err != nil {
		return nil, err
	}
	s.routes()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveError(w, r, errCrossOrigin)
	}))
	s.handler = s.securityHeaders(cop.Handler(s.mux))
	return s, nil
}

// ServeHTTP serves the UI.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Start runs the live-update broker if the server made it. Starting twice is
// an error.
func (s *Server) Start(ctx context.Context) error {
	if !s.ownBroker {
		return nil
	}
	return s.broker.Start(ctx)
}

// Stop ends the broker the server made (closing open event streams) and waits
// for it. It is safe to call more than once and before Start.
func (s *Server) Stop() {
	if s.ownBroker {
		s.broker.Stop()
	}
}

// Publish sends a live update to the pages subscribed to ev.Topic. Back ends
// (or the wiring around them) call it when a document arrives or a
// transmission changes state.
func (s *Server) Publish(ev Event) { s.broker.Publish(ev) }

// handlerFunc is a handler that returns its error for serveError to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one authenticated page or API.
type route struct {
	pattern string
	allow   roleSet
	h       handlerFunc
}

func (s *Server) authRoutes() []route {
	return []route{
		{"POST /logout", anyRole, s.postLogout},
		{"GET /{$}", anyRole, s.getHome},
		{"GET /events", anyRole, s.getEvents},
		{"GET /validator", anyRole, s.getValidator},
		{"POST /validator", anyRole, s.postValidator},
		{"GET /account/password", anyRole, s.getPassword},
		{"POST /account/password", anyRole, s.postPassword},
		{"GET /users", roles(RoleAdmin), s.getUsers},
		{"POST /users", roles(RoleAdmin), s.postUsers},
		{"GET /users/{username}", roles(RoleAdmin), s.getUser},
		{"POST /users/{username}", roles(RoleAdmin), s.postUser},
		{"POST /users/{username}/reset", roles(RoleAdmin), s.postUserReset},
		{"POST /users/{username}/disable", roles(RoleAdmin), s.postUserDisabled(true)},
		{"POST /users/{username}/enable", roles(RoleAdmin), s.postUserDisabled(false)},
		{"GET /mesh", roles(RoleAdmin), s.getMeshAdmin},
		{"GET /inbox", roles(RolePractice), s.getInbox},
		{"GET /inbox/{id}", roles(RolePractice), s.getDocument},
		{"GET /inbox/{id}/pdf", roles(RolePractice), s.getDocumentPDF},
		{"POST /inbox/{id}/file", roles(RolePractice), s.postFile},
		{"GET /inbox/{id}/match", roles(RolePractice), s.getMatch},
		{"POST /inbox/{id}/match/search", roles(RolePractice), s.postMatchSearch},
		{"POST /inbox/{id}/match/confirm", roles(RolePractice), s.postMatchConfirm},
		{"POST /inbox/{id}/match", roles(RolePractice), s.postMatch},
		{"POST /inbox/{id}/reject", roles(RolePractice), s.postReject},
		{"POST /inbox/file", roles(RolePractice), s.postBulkFile},
		{"POST /inbox/{id}/assign", roles(RolePractice), s.postAssign},
		{"POST /inbox/{id}/note", roles(RolePractice), s.postNote},
		{"GET /inbox/{id}/history.csv", roles(RolePractice), s.getHistoryCSV},
		{"GET /outbox", roles(RoleSender), s.getOutbox},
		{"GET /outbox/send", roles(RoleSender), s.getSend},
		{"POST /outbox/send", roles(RoleSender), s.postSend},
		{"GET /outbox/{id}", roles(RoleSender), s.getTransmission},
		{"POST /outbox/{id}/resend", roles(RoleSender), s.postResend},
		{"POST /outbox/{id}/send-now", roles(RoleSender), s.postHold(false)},
		{"POST /outbox/{id}/cancel", roles(RoleSender), s.postHold(true)},
		{"GET /outbox/{id}/replace", roles(RoleSender), s.getReplace},
		{"POST /outbox/{id}/replace", roles(RoleSender), s.postReplace},
	}
}

func (s *Server) routes() {
	s.mux.Handle("GET "+s.static.prefix+"{path...}", http.HandlerFunc(s.static.serve))
	s.mux.Handle("GET /static/", http.HandlerFunc(s.static.serveStale))
	s.mux.Handle("GET /favicon.ico", http.HandlerFunc(s.static.serveFavicon))
	s.mux.Handle("GET /login", s.public(s.getLogin))
	s.mux.Handle("POST /login", s.public(s.postLogin))
	for _, rt := range s.authRoutes() {
		s.mux.Handle(rt.pattern, s.auth(rt.allow, rt.h))
	}
	s.mux.Handle("/", s.public(func(http.ResponseWriter, *http.Request) error { return errNotFound }))
}

// Route describes one route that needs a login.
type Route struct {
	// Pattern is the ServeMux pattern ("POST /inbox/{id}/file").
	Pattern string
	// Roles admitted; nil means every role.
	Roles []Role
}

// Routes lists every route that needs a login, for tests that check each
// one refuses anonymous requests, other roles and POSTs without a CSRF
// token.
func (s *Server) Routes() []Route {
	var out []Route
	for _, rt := range s.authRoutes() {
		out = append(out, Route{Pattern: rt.pattern, Roles: rt.allow})
	}
	return out
}
