package mesh_test

// Integration tests run against gpcm's own MESH server (meshserver via the
// meshtest helper). A thin front server on loopback HTTPS with mutual TLS
// (RequireAndVerifyClientCert, certificates from the meshtest CA) hands
// every request to the real server handler, through an optional hook that
// injects faults: dropped connections, 503s, slow answers.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/meshtest"
)

const (
	testKey = meshtest.DefaultSharedKey
	testPW  = "password"
)

// hookFunc handles a request itself (returning true) or lets it through.
type hookFunc func(w http.ResponseWriter, r *http.Request) bool

type front struct {
	mu   sync.Mutex
	hook hookFunc
	next http.Handler
}

func (f *front) setHook(h hookFunc) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	h := f.hook
	f.mu.Unlock()
	if h != nil && h(w, r) {
		return
	}
	f.next.ServeHTTP(w, r)
}

type env struct {
	mesh  *meshtest.Server
	front *front
	srv   *httptest.Server
	a, b  *mesh.Client
	dir   string
}

// mustEnv starts meshtest (mutual TLS, mailboxes X26ABC1 and X26ABC2) behind
// a front server and returns clients for both mailboxes configured by file.
func mustEnv(tb testing.TB, tweak func(*mesh.Config)) *env {
	tb.Helper()
	ms := meshtest.NewServer(tb, meshtest.Options{MutualTLS: true})
	_, _, serverCert, err := ms.CA.Issue("127.0.0.1", []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, []string{"localhost"}, false)
	if err != nil {
		tb.Fatal(err)
	}
	f := &front{next: ms.Admin}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected in some tests
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: ms.CA.Pool(), MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	e := &env{mesh: ms, front: f, srv: srv, dir: tb.TempDir()}
	e.a = e.mustClient(tb, boxA, tweak)
	e.b = e.mustClient(tb, boxB, tweak)
	return e
}

// files writes the CA and a client certificate for mailbox and returns the paths.
func (e *env) files(tb testing.TB, mailbox string) (ca, cert, key string) {
	tb.Helper()
	certPEM, keyPEM := e.mesh.ClientCertPEM(tb, mailbox)
	ca, cert, key = filepath.Join(e.dir, "ca.pem"), filepath.Join(e.dir, mailbox+".pem"), filepath.Join(e.dir, mailbox+".key")
	for name, b := range map[string][]byte{ca: e.mesh.CACertPEM, cert: certPEM, key: keyPEM} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return ca, cert, key
}

func (e *env) config(tb testing.TB, mailbox string) mesh.Config {
	ca, cert, key := e.files(tb, mailbox)
	return mesh.Config{URL: e.srv.URL, Mailbox: mailbox, Password: testPW, SharedKey: testKey,
		TLS:   mesh.TLSConfig{CertFile: cert, KeyFile: key, CAFile: ca},
		Retry: mesh.Backoff{Retries: 3, Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}}
}

func (e *env) mustClient(tb testing.TB, mailbox string, tweak func(*mesh.Config)) *mesh.Client {
	tb.Helper()
	cfg := e.config(tb, mailbox)
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := mesh.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// messagesSent counts the messages the server holds from mailbox, in any status.
func (e *env) messagesSent(tb testing.TB, mailbox string) int {
	tb.Helper()
	msgs, err := e.mesh.Store.ListMessages(context.Background(), meshserver.ListMessagesParams{Sender: mailbox, Limit: 100000})
	if err != nil {
		tb.Fatal(err)
	}
	return len(msgs)
}

func (e *env) disable(tb testing.TB, mailbox string) {
	tb.Helper()
	ctx := context.Background()
	mb, err := e.mesh.Store.GetMailbox(ctx, mailbox)
	if err != nil {
		tb.Fatal(err)
	}
	mb.Active = false
	if err := e.mesh.Store.PutMailbox(ctx, mb); err != nil {
		tb.Fatal(err)
	}
}

func (e *env) report(tb testing.TB, mailbox, linked, code, desc, workflow string) string {
	tb.Helper()
	m, err := e.mesh.Admin.InjectReport(context.Background(), meshserver.ReportParams{MailboxID: mailbox, Code: code, Description: desc,
		WorkflowID: workflow, LinkedMessageID: linked})
	if err != nil {
		tb.Fatal(err)
	}
	return m.ID
}

// mustRawClient is a plain net/http client with the same TLS material.
func mustRawClient(tb testing.TB, ca, cert, key string) *http.Client {
	tb.Helper()
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		tb.Fatal(err)
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool,
		MinVersion: tls.VersionTLS12}}}
}
