package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"
)

// Defaults applied by Config.withDefaults.
const (
	DefaultServiceName    = "GP Connect Messaging"
	DefaultSessionTTL     = 8 * time.Hour
	DefaultMaxUploadBytes = 20 << 20
)

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
	// SecureCookies forces the Secure cookie attribute even for plain-HTTP
	// requests (set it behind a TLS-terminating proxy). Requests that arrive
	// over TLS always get Secure cookies.
	SecureCookies bool
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
	sessions  *sessions
	throttle  *loginThrottle
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
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger.WithGroup("web"),
		mux:      http.NewServeMux(),
		sessions: newSessions(cfg.Now),
		throttle: newLoginThrottle(cfg.Now),
		broker:   cfg.Broker,
	}
	if s.broker == nil {
		s.broker = NewBroker(cfg.Logger)
		s.ownBroker = true
	}
	var err error
	if s.static, err = newStaticFiles(cfg.Static); err != nil {
		return nil, err
	}
	if s.pages, err = parsePages(cfg.Templates, s.static.url); err != nil {
		return nil, err
	}
	s.routes()
	s.handler = securityHeaders(s.mux)
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
		{"GET /mesh", roles(RoleAdmin), s.getMeshAdmin},
		{"GET /inbox", roles(RolePractice), s.getInbox},
		{"GET /inbox/{id}", roles(RolePractice), s.getDocument},
		{"GET /inbox/{id}/pdf", roles(RolePractice), s.getDocumentPDF},
		{"POST /inbox/{id}/file", roles(RolePractice), s.postFile},
		{"GET /inbox/{id}/match", roles(RolePractice), s.getMatch},
		{"GET /inbox/{id}/match/confirm", roles(RolePractice), s.getMatchConfirm},
		{"POST /inbox/{id}/match", roles(RolePractice), s.postMatch},
		{"POST /inbox/{id}/reject", roles(RolePractice), s.postReject},
		{"GET /outbox", roles(RoleSender), s.getOutbox},
		{"GET /outbox/send", roles(RoleSender), s.getSend},
		{"POST /outbox/send", roles(RoleSender), s.postSend},
		{"GET /outbox/{id}", roles(RoleSender), s.getTransmission},
		{"POST /outbox/{id}/resend", roles(RoleSender), s.postResend},
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
