// Package meshtest starts a real in-process MESH server for tests, as
// net/http/httptest does for plain handlers: loopback HTTPS (optionally
// mutual TLS), SQLite and file storage in t.TempDir() (small bodies inside
// the database, larger ones as files, as gpcm mesh-server keeps them),
// canned mailboxes, and an admin handle for time travel, reports and resets.
//
//	srv := meshtest.NewServer(t, meshtest.Options{})
//	// srv.URL, srv.SharedKey, srv.Mailboxes[0].ID / .Password, srv.Client()
package meshtest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/httptimeout"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/sqlitestore"
)

// DefaultSharedKey is the NHS sandbox's shared key, used unless Options
// says otherwise.
const DefaultSharedKey = "TestKey"

// Mailbox is a mailbox the server knows, with its password.
type Mailbox struct {
	ID        string
	Password  string
	ODSCode   string
	Workflows []string
}

// Options configure NewServer. The zero value gives the sandbox fixtures:
// X26ABC1 and X26ABC2 (ODS X26) and X27ABC1 (ODS X27), password
// "password", any workflow, shared key "TestKey", server TLS only.
type Options struct {
	SharedKey string
	Mailboxes []Mailbox
	Patients  []meshserver.Patient
	// MutualTLS requires a client certificate naming the mailbox; use
	// Server.ClientCert or Server.ClientFor.
	MutualTLS bool
	// Expiry overrides the 5-day expiry period.
	Expiry time.Duration
	// MaxRequestBytes overrides the 100 MB request limit, MaxMessageBytes
	// the 20 GB limit of a chunked message, QuotaMessages and QuotaBytes
	// the quota of each mailbox (meshserver.Config).
	MaxRequestBytes int64
	MaxMessageBytes int64
	QuotaMessages   int
	QuotaBytes      int64
	// Now overrides the clock.
	Now func() time.Time
	// Logger receives server logs, and net/http's error lines (a client
	// dropping mid-handshake at Debug, others at Warn); default discards
	// the server logs and prints net/http's Warn lines to stderr.
	Logger *slog.Logger
	// Store and Blobs replace the SQLite database and payload directory
	// made in t.TempDir() (to run against another backend, or to share
	// state between two servers). Fixture mailboxes are written into Store.
	Store meshserver.Store
	Blobs blob.Store
	// InlineBodies is ignored: the store decides which bodies it keeps
	// with the message (meshserver.Store.InlineMax), and Blobs must read
	// them back (a tier.Store in front of the store's database, as the
	// default storage is).
	//
	// Deprecated: ignored; the store decides.
	InlineBodies int64
	// Limits are the HTTP server's timeouts, as gpcm mesh-server applies
	// them (zero fields: the httptimeout defaults).
	Limits httptimeout.Limits
}

// Server is a running MESH server.
type Server struct {
	// URL is the base URL, "https://127.0.0.1:PORT" (paths start with
	// /messageexchange).
	URL       string
	SharedKey string
	Mailboxes []Mailbox
	// CA signed the server certificate (and client certificates); trust
	// CA.Pool() or use Client.
	CA *meshserver.CA
	// CACertPEM is the CA certificate in PEM, for clients configured by file.
	CACertPEM []byte
	// Admin is the server itself: AdvanceClock, ExpireNow, InjectReport, Reset.
	Admin *meshserver.Server
	// Store is the server's store, for inspection and setup.
	Store meshserver.Store
	// Blobs is the server's payload store: Options for a second server on
	// the same state.
	Blobs blob.Store
	// InlineBodies is zero.
	//
	// Deprecated: see Options.InlineBodies.
	InlineBodies int64
	// AdminToken authenticates the HTTP admin API under URL + "/admin/".
	AdminToken string

	hs        *httptest.Server
	mutualTLS bool
}

// NewServer starts a server that stops when the test ends.
func NewServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.SharedKey == "" {
		opts.SharedKey = DefaultSharedKey
	}
	if opts.Mailboxes == nil {
		opts.Mailboxes = []Mailbox{
			{ID: "X26ABC1", Password: "password", ODSCode: "X26"},
			{ID: "X26ABC2", Password: "password", ODSCode: "X26"},
			{ID: "X27ABC1", Password: "password", ODSCode: "X27"},
		}
	}
	dir := tb.TempDir()
	ctx := context.Background()
	store := opts.Store
	var db *sqlitestore.DB
	if store == nil {
		var err error
		if db, err = sqlitestore.Open(ctx, filepath.Join(dir, "mesh.db")); err != nil {
			tb.Fatalf("meshtest: %v", err)
		}
		tb.Cleanup(func() { db.Close() })
		store = db.Mesh()
	}
	var blobs blob.Store = opts.Blobs
	if blobs == nil {
		fb, err := fileblob.Open(filepath.Join(dir, "blobs"))
		if err != nil {
			tb.Fatalf("meshtest: %v", err)
		}
		blobs = fb
		if db != nil {
			// As gpcm mesh-server stores them: small bodies in the
			// database (with the message row, in one commit), larger
			// ones as files.
			blobs = tier.New(db.Blobs(), fb, tier.DefaultThreshold)
		}
	}
	for _, mb := range opts.Mailboxes {
		if err := store.PutMailbox(ctx, meshserver.Mailbox{ID: mb.ID, Password: mb.Password, ODSCode: mb.ODSCode, Active: true, Workflows: mb.Workflows}); err != nil {
			tb.Fatalf("meshtest: %v", err)
		}
	}
	for _, p := range opts.Patients {
		if err := store.PutPatient(ctx, p); err != nil {
			tb.Fatalf("meshtest: %v", err)
		}
	}
	token := rand.Text() + rand.Text() // 52 random base32 characters
	srv, err := meshserver.New(meshserver.Config{
		Store: store, Blobs: blobs, SharedKey: opts.SharedKey, Logger: opts.Logger, Now: opts.Now,
		Expiry: opts.Expiry, MaxRequestBytes: opts.MaxRequestBytes, RequireClientCert: opts.MutualTLS,
		MaxMessageBytes: opts.MaxMessageBytes, QuotaMessages: opts.QuotaMessages, QuotaBytes: opts.QuotaBytes,
		AdminToken: token, ExpiryInterval: time.Hour,
	})
	if err != nil {
		tb.Fatalf("meshtest: %v", err)
	}
	ca, err := meshserver.NewCA("gpcm meshtest CA")
	if err != nil {
		tb.Fatalf("meshtest: %v", err)
	}
	_, _, serverCert, err := ca.Issue("127.0.0.1", []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, []string{"localhost"}, false)
	if err != nil {
		tb.Fatalf("meshtest: %v", err)
	}
	hs := httptest.NewUnstartedServer(srv)
	opts.Limits.Apply(hs.Config)
	// net/http's own error lines: a client killed or timing out
	// mid-handshake at Debug, anything else at Warn. Without a Logger the
	// Warn lines still reach stderr, as httptest prints them.
	errLog := opts.Logger
	if errLog == nil {
		errLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	hs.Config.ErrorLog = meshserver.HTTPErrorLog(errLog)
	// HTTP/2 and HTTP/1.1, as gpcm mesh-server negotiates them.
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if opts.MutualTLS {
		hs.TLS.ClientAuth = tls.VerifyClientCertIfGiven
		hs.TLS.ClientCAs = ca.Pool()
	}
	hs.StartTLS()
	if err := srv.Start(ctx); err != nil {
		tb.Fatalf("meshtest: %v", err)
	}
	tb.Cleanup(func() {
		hs.Close()
		srv.Stop()
	})
	return &Server{URL: hs.URL, SharedKey: opts.SharedKey, Mailboxes: opts.Mailboxes, CA: ca, CACertPEM: ca.CertPEM,
		Admin: srv, Store: store, Blobs: blobs, AdminToken: token, hs: hs, mutualTLS: opts.MutualTLS}
}

// CertPool returns a pool trusting the server certificate.
func (s *Server) CertPool() *x509.CertPool { return s.CA.Pool() }

// ClientCert issues a client certificate whose CN is the mailbox id.
func (s *Server) ClientCert(tb testing.TB, mailbox string) tls.Certificate {
	tb.Helper()
	_, _, c, err := s.CA.Issue(mailbox, nil, nil, true)
	if err != nil {
		tb.Fatalf("meshtest: %v", err)
	}
	return c
}

// ClientCertPEM issues a client certificate for mailbox and returns it and
// its key in PEM, for clients configured by file.
func (s *Server) ClientCertPEM(tb testing.TB, mailbox string) (certPEM, keyPEM []byte) {
	tb.Helper()
	c, k, _, err := s.CA.Issue(mailbox, nil, nil, true)
	if err != nil {
		tb.Fatalf("meshtest: %v", err)
	}
	return c, k
}

// Client returns an HTTP client trusting the server, without a client
// certificate.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool(), MinVersion: tls.VersionTLS12}}}
}

// ClientFor returns an HTTP client trusting the server that presents a
// client certificate for mailbox (when the server uses mutual TLS).
func (s *Server) ClientFor(tb testing.TB, mailbox string) *http.Client {
	tb.Helper()
	cfg := &tls.Config{RootCAs: s.CA.Pool(), MinVersion: tls.VersionTLS12}
	if s.mutualTLS {
		cfg.Certificates = []tls.Certificate{s.ClientCert(tb, mailbox)}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
}

// Mailbox returns the fixture with the given id, failing the test if absent.
func (s *Server) Mailbox(tb testing.TB, id string) Mailbox {
	tb.Helper()
	for _, mb := range s.Mailboxes {
		if mb.ID == id {
			return mb
		}
	}
	tb.Fatalf("meshtest: no mailbox %s", id)
	return Mailbox{}
}
