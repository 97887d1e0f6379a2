package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gpcm/gpcm/internal/tlscert"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore"
)

const meshServerHelp = `
Usage: gpcm mesh-server --listen ADDR --data DIR --config FILE [flags]

Run a MESH-compatible mailbox server: the NHS MESH REST API (v1 and v2), with
NHSMESH authentication (single-use tokens, 2-hour clock window), optional
mutual TLS, workflow permissions, chunked and compressed messages,
GPPROVIDER_{NHS number}_{date of birth}_{surname} routing with EPL reports,
and 5-day expiry with non-delivery reports.

State lives in DIR (SQLite database mesh.db and payload files under blobs/),
or, to run several servers behind one address, in PostgreSQL (--postgres)
and S3-compatible object storage (--s3); DIR then holds only certificates.
FILE is JSON; it must list the mailboxes and may add a patient register:

  {"shared_key": "TestKey",
   "mailboxes": [{"id": "X26ABC1", "password": "password", "ods_code": "X26",
                  "workflows": ["GPFED_CONSULT_REPORT", "GPFED_CONSULT_REPORT_ACK"]},
                 {"id": "X26ABC2", "password": "password", "ods_code": "X26"}],
   "patients": [{"nhs_number": "9690937286", "birth_date": "19670126",
                 "surname": "Smith", "ods_code": "X26"}],
   "expiry": "120h", "admin_token": "REPLACE-with-32-or-more-random-bytes"}

A mailbox without "workflows" may send and receive any workflow. See
examples/mesh-server.json.

The shared key comes from --shared-key, else MESH_SHARED_KEY, else the
file's "shared_key". The server uses TLS: with --tls-cert/--tls-key it uses
that certificate, otherwise it creates a CA and a certificate for the listen
address in DIR/tls (reused on later starts) and prints their paths on stderr.
With --client-ca every request except GET /healthz must present a client
certificate signed by that CA (lookups, workflow search, /metrics and the
admin API included), and a mailbox request one whose CN is the mailbox id
(or starts with "{mailbox id}."); without one the answer is the MESH 403.

Limits: a request body up to --max-request-bytes (100 MB, as live MESH), a
message's chunks together up to --max-message-bytes (20 GB; a first chunk
whose size times the other chunks already passes it is refused before its
body is read), both answered 413; each mailbox may have waiting at most
--mailbox-quota-messages messages and --mailbox-quota-bytes bytes (100 000,
100 GB), a send past them answered 417 "Recipient mailbox is full".

A request gets --read-timeout to arrive and --write-timeout to be answered,
plus one second for every --min-transfer-rate bytes its body and response
have moved: a 100 MB chunk at any rate above that minimum completes, while a
body trickling in below it is cut about --read-timeout after it began.

When ready it prints exactly one line on stdout: the base URL, for example
https://127.0.0.1:8700. It stops on SIGINT/SIGTERM after finishing requests
in flight (uploads included). Also served: /healthz, /metrics (Prometheus),
and with an admin token of at least 32 bytes (--admin-token, MESH_ADMIN_TOKEN
or "admin_token"; a shorter one is refused at start) the admin API under
/admin/ (Authorization: Bearer TOKEN): PUT /admin/mailboxes/ID,
POST /admin/mailboxes/ID/disable|enable, POST /admin/reports, DELETE
/admin/reset[/MAILBOX], GET /admin/messages, POST /admin/time {"advance":"120h"},
POST /admin/expire, PUT /admin/patients/NHSNUMBER.

Exit status: 0 after a clean stop, 1 if the server cannot start or fails,
2 for a usage error.

Examples:
  gpcm mesh-server --listen 127.0.0.1:8700 --data ./mesh-data --config examples/mesh-server.json
  MESH_SHARED_KEY=TestKey gpcm mesh-server --listen 127.0.0.1:0 --data /tmp/mesh --config mesh.json
  gpcm mesh-server --listen 0.0.0.0:443 --data /var/lib/gpcm-mesh --config mesh.json \
      --tls-cert server.pem --tls-key server-key.pem --client-ca clients-ca.pem
  gpcm mesh-server --listen 127.0.0.1:8701 --data ./node1 --config mesh.json \
      --postgres postgres://mesh@127.0.0.1:5432/mesh --s3 http://KEY:SECRET@127.0.0.1:7070/mesh-payloads
`

type meshServerFlags struct {
	listen, data, config  string
	sharedKey, adminToken string
	tls                   tlscert.Pair
	clientCA              tlscert.CAs
	storage               storageFlags
	expiry                time.Duration
	shutdownTimeout       time.Duration
	maxRequestBytes       int64
	maxMessageBytes       int64
	quotaMessages         int
	quotaBytes            int64
	timeouts              timeoutFlags
}

func runMeshServer(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "mesh-server", meshServerHelp)
	var f meshServerFlags
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8700", "address to listen on (`host:port`; port 0 picks a free one)")
	fs.StringVar(&f.data, "data", "", "state `directory` (database, payloads, generated certificates); required")
	fs.StringVar(&f.config, "config", "", "JSON `file` declaring mailboxes (and optionally patients); required")
	fs.StringVar(&f.sharedKey, "shared-key", "", "MESH shared `key` for NHSMESH HMACs (default the file's shared_key)")
	envName(fs, "shared-key", "MESH_SHARED_KEY")
	fs.StringVar(&f.adminToken, "admin-token", "", "enable the admin API with this bearer `token` (default the file's admin_token)")
	envName(fs, "admin-token", "MESH_ADMIN_TOKEN")
	fs.StringVar(&f.tls.CertFile, "tls-cert", "", "server certificate `file` (PEM); with --tls-key")
	fs.StringVar(&f.tls.KeyFile, "tls-key", "", "server private key `file` (PEM)")
	fs.StringVar(&f.tls.CertPEM, "tls-cert-pem", "", "server certificate as `PEM` text or base64 of it (instead of --tls-cert)")
	fs.StringVar(&f.tls.KeyPEM, "tls-key-pem", "", "server private key as `PEM` text or base64 of it (instead of --tls-key)")
	fs.StringVar(&f.tls.PKCS12File, "tls-pkcs12", "", "server certificate and key as a PKCS#12 `file` (.p12/.pfx), instead of PEM")
	fs.StringVar(&f.tls.PKCS12Password, "tls-pkcs12-password", "", "`password` of the --tls-pkcs12 file (prefer the variable)")
	fs.StringVar(&f.clientCA.File, "client-ca", "", "require client certificates signed by the CAs in this PEM `file` (mutual TLS)")
	fs.StringVar(&f.clientCA.PEM, "client-ca-pem", "", "the same CAs as `PEM` text or base64 of it (with or instead of --client-ca)")
	f.storage.register(fs, true)
	fs.DurationVar(&f.expiry, "expiry", 0, "how long a message may wait for acknowledgement (default 120h, or the file's expiry)")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 2*time.Minute, "how long to wait for requests in flight when stopping")
	fs.Int64Var(&f.maxRequestBytes, "max-request-bytes", meshserver.DefaultMaxRequestBytes, "largest request body accepted, in `bytes`")
	fs.Int64Var(&f.maxMessageBytes, "max-message-bytes", meshserver.DefaultMaxMessageBytes, "largest message accepted, all its chunks together, in `bytes`")
	fs.IntVar(&f.quotaMessages, "mailbox-quota-messages", meshserver.DefaultQuotaMessages, "most `messages` one mailbox may have waiting (uploading or not yet acknowledged)")
	fs.Int64Var(&f.quotaBytes, "mailbox-quota-bytes", meshserver.DefaultQuotaBytes, "most `bytes` one mailbox may have waiting")
	f.timeouts.register(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	hint := "gpcm mesh-server --help"
	switch {
	case fs.NArg() > 0:
		return usagef(hint, "mesh-server: unexpected argument %q", fs.Arg(0))
	case f.data == "":
		return usagef(hint, "mesh-server: --data DIR is required")
	case f.config == "":
		return usagef(hint, "mesh-server: --config FILE is required")
	case (f.tls.CertFile == "") != (f.tls.KeyFile == ""):
		return usagef(hint, "mesh-server: --tls-cert and --tls-key go together")
	case f.expiry < 0:
		return usagef(hint, "mesh-server: --expiry %v cannot be negative", f.expiry)
	case f.maxRequestBytes <= 0:
		return usagef(hint, "mesh-server: --max-request-bytes must be positive")
	case f.maxMessageBytes <= 0 || f.quotaMessages <= 0 || f.quotaBytes <= 0:
		return usagef(hint, "mesh-server: --max-message-bytes, --mailbox-quota-messages and --mailbox-quota-bytes must be positive")
	}
	if err := f.storage.check("mesh-server", hint); err != nil {
		return err
	}
	lim, err := f.timeouts.limits("mesh-server", hint)
	if err != nil {
		return err
	}

	raw, err := os.Open(f.config)
	if err != nil {
		return fmt.Errorf("mesh-server: config: %w", err)
	}
	fc, err := meshserver.ParseFileConfig(raw)
	raw.Close()
	if err != nil {
		return fmt.Errorf("mesh-server: %s: %w", f.config, err)
	}
	key := firstNonEmpty(f.sharedKey, fc.SharedKey)
	if key == "" {
		return usagef(hint, "mesh-server: no shared key: give --shared-key, set MESH_SHARED_KEY or put \"shared_key\" in %s", f.config)
	}
	adminToken, adminFrom := f.adminToken, "--admin-token"
	if adminToken == "" {
		adminToken, adminFrom = fc.AdminToken, "\"admin_token\" in "+f.config
	}
	if err := meshserver.CheckAdminToken(adminToken); err != nil {
		return usagef(hint, "mesh-server: %s: %v", adminFrom, err)
	}
	expiry := f.expiry
	if expiry == 0 {
		expiry = fc.ExpiryDuration()
	}

	if err := dataDir(env.Logger(), f.data); err != nil {
		return fmt.Errorf("mesh-server: data directory: %w", err)
	}
	st := &f.storage
	db, err := st.openDB(ctx, f.data, "mesh.db", pgstore.Options{MinConns: -1, PrepareMesh: true})
	if err != nil {
		return fmt.Errorf("mesh-server: %w", err)
	}
	defer db.Close()
	store := db.Mesh()
	blobs, err := st.openBlobs(ctx, f.data, db)
	if err != nil {
		return fmt.Errorf("mesh-server: %w", err)
	}
	if err := fc.Apply(ctx, store); err != nil {
		return fmt.Errorf("mesh-server: loading %s: %w", f.config, err)
	}
	log := env.Logger()
	mutualTLS := f.clientCA != (tlscert.CAs{})
	srv, err := meshserver.New(meshserver.Config{
		Store: store, Blobs: blobs, SharedKey: key, Logger: log, Expiry: expiry,
		MaxRequestBytes: f.maxRequestBytes, RequireClientCert: mutualTLS,
		MaxMessageBytes: f.maxMessageBytes, QuotaMessages: f.quotaMessages, QuotaBytes: f.quotaBytes,
		AdminToken:          adminToken,
		GPProviderWorkflows: fc.GPProviderWorkflows,
	})
	if err != nil {
		return fmt.Errorf("mesh-server: %w", err)
	}

	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("mesh-server: listen on %s: %w", f.listen, err)
	}
	defer ln.Close()
	tlsCfg, err := meshServerTLS(log, f, ln.Addr().(*net.TCPAddr))
	if err != nil {
		return err
	}
	hs := newHTTPServer(srv, lim, meshserver.HTTPErrorLog(log)) // client resets at Debug, other lines at Warn
	hs.TLSConfig = tlsCfg
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("mesh-server: %w", err)
	}
	defer srv.Stop()

	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.ServeTLS(ln, "", "") }()
	fmt.Fprintf(env.Stdout, "https://%s\n", urlHost(ln.Addr().(*net.TCPAddr)))
	log.Info("mesh server ready", "addr", ln.Addr().String(), "mutual_tls", mutualTLS)

	select {
	case err := <-serveErr:
		return fmt.Errorf("mesh-server: %w", err)
	case <-ctx.Done():
	}
	log.Info("mesh server stopping; finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("mesh-server: shutdown: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("mesh-server: %w", err)
	}
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// urlHost names the listening address as a client should dial it.
func urlHost(a *net.TCPAddr) string {
	ip := a.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(a.Port))
}

// meshServerTLS builds the TLS configuration: the given certificate, or a
// generated one kept in DATA/tls; client CAs when mutual TLS is on.
func meshServerTLS(log *slog.Logger, f meshServerFlags, addr *net.TCPAddr) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	pair := f.tls
	if pair.IsZero() {
		certFile, keyFile, err := selfSignedCert(f.data, addr)
		if err != nil {
			return nil, fmt.Errorf("mesh-server: self-signed certificate: %w", err)
		}
		log.Info("mesh server TLS certificate generated: clients trust its CA", "cert", certFile, "ca", filepath.Join(filepath.Dir(certFile), "ca.pem"))
		pair = tlscert.Pair{CertFile: certFile, KeyFile: keyFile}
	}
	cert, err := pair.Load()
	if err != nil {
		return nil, fmt.Errorf("mesh-server: TLS certificate (--tls-cert/--tls-key, --tls-cert-pem/--tls-key-pem or --tls-pkcs12): %w", err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	pool, err := f.clientCA.Pool()
	if err != nil {
		return nil, fmt.Errorf("mesh-server: --client-ca: %w", err)
	}
	if pool != nil {
		cfg.ClientCAs = pool
		// Verified when given; the handler answers 403 when absent, as a
		// MESH status rather than a TLS alert.
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// selfSignedCert returns DATA/tls/server.pem and server-key.pem, creating a
// CA (ca.pem) and a server certificate for the listen address and loopback
// names if they do not exist yet.
func selfSignedCert(data string, addr *net.TCPAddr) (string, string, error) {
	dir := filepath.Join(data, "tls")
	certFile, keyFile := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
		if c, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil && coversIP(c, addr.IP) {
			return certFile, keyFile, nil
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	ca, err := meshserver.NewCA("gpcm mesh-server local CA")
	if err != nil {
		return "", "", err
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if addr.IP != nil && !addr.IP.IsUnspecified() && !addr.IP.IsLoopback() {
		ips = append(ips, addr.IP)
	}
	host, _ := os.Hostname()
	dns := []string{"localhost"}
	if host != "" && !strings.ContainsAny(host, " /") {
		dns = append(dns, host)
	}
	certPEM, keyPEM, _, err := ca.Issue("gpcm mesh-server", ips, dns, false)
	if err != nil {
		return "", "", err
	}
	for _, w := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{{"ca.pem", ca.CertPEM, 0o644}, {"server-key.pem", keyPEM, 0o600}, {"server.pem", certPEM, 0o644}} {
		if err := os.WriteFile(filepath.Join(dir, w.name), w.data, w.mode); err != nil {
			return "", "", err
		}
	}
	return certFile, keyFile, nil
}

func coversIP(c tls.Certificate, ip net.IP) bool {
	if ip == nil || ip.IsUnspecified() || ip.IsLoopback() {
		return true
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return false
	}
	return leaf.VerifyHostname(ip.String()) == nil
}
