package cli

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/receiver"
)

const receiverHelp = `
Usage:
  gpcm receiver --data DIR [--listen ADDR] [connection flags] [flags]
  gpcm receiver register import --data DIR [--format csv|fhir] FILE

Run the Generic FHIR Receiver for a practice's MESH mailbox. It collects
every GP Connect Send Document message (workflows GPFED_CONSULT_REPORT and
GPCONNECT_SEND_DOCUMENT; other workflows stay in the inbox), stores it,
acknowledges it on MESH, validates it, answers with the ITK3 infrastructure
ack (20013 or the specific negative code), matches the patient against the
practice register, answers with the business ack (30001 registered, 30004
recently deceased, 30002 not known, 30003 left) and puts the document in
the worklist. A document whose demographics differ from the register is held
for a person until --hold has passed (then 30002).

State lives in DIR: receiver.db (SQLite), blobs/ (payloads and attachments)
and api-token. The JSON API (documented in receiver/API.md) listens on
--listen, default 127.0.0.1:8082; its bearer token comes from --api-token,
else GPCM_RECEIVER_TOKEN, else DIR/api-token (created on first start).
Its endpoints: GET /api/v1/documents (the worklist, filters state,
nhs_number, for_action), GET /api/v1/documents/{id} and
/api/v1/documents/{id}/attachments/{index}, POST /api/v1/documents/{id}/file,
/reject and /match, POST /api/v1/register (upsert patients, CSV or FHIR)
and POST /api/v1/register/search {"nhsNumber": N} or {"family": F,
"birthDate": "YYYY-MM-DD"} (search the register for the patient of a held
document, at most 50; the deprecated GET /api/v1/register?nhs_number=N
still works).
With --tls-cert/--tls-key the API is served over HTTPS (TLS 1.2 or later);
a --listen address other than loopback is refused without them unless
--insecure-listen says a TLS proxy is in front.

` + receiverPolicyHelp + `

When ready the receiver prints exactly one line on stdout: the API base URL,
for example http://127.0.0.1:8082 (https:// with TLS). It stops on
SIGINT/SIGTERM.

"register import" loads the practice register from FILE ("-" for stdin):
CSV with the header nhs_number,birth_date,family,given (birth_date
YYYY-MM-DD; optional columns status = registered|left|deceased, death_date,
left_date), or a FHIR Patient / Bundle of Patients (XML or JSON). Entries
are upserted by NHS number. Every row is checked first; if any is bad,
each problem is listed with its line number and nothing is imported.

` + meshConnHelp + `

Exit status: 0 after a clean stop or import, 1 on failure (including a
register file with bad rows), 2 for a usage error.

Examples:
  MESH_URL=https://127.0.0.1:8700 MESH_MAILBOX=X26ABC2 MESH_PASSWORD=password \
    MESH_SHARED_KEY=TestKey MESH_CA=./mesh-data/tls/ca.pem gpcm receiver --data ./practice
  gpcm receiver --data /var/lib/gpcm-receiver --listen 127.0.0.1:9000 --ods B82005 --mesh-config mesh.env
  gpcm receiver --data /var/lib/gpcm-receiver --listen 0.0.0.0:8443 --tls-cert api.pem --tls-key api-key.pem
  gpcm receiver --data ./practice --attachment-types application/pdf,image/*,text/plain --max-message-bytes 20971520
  gpcm receiver register import --data ./practice register.csv
  gpcm receiver register import --data ./practice --format fhir patients.json
`

func runReceiver(ctx context.Context, env *Env, args []string) error {
	if len(args) >= 1 && args[0] == "register" {
		if len(args) < 2 || args[1] != "import" {
			return usagef("gpcm receiver --help", "receiver register: want \"register import --data DIR FILE\"")
		}
		return runReceiverImport(ctx, env, args[2:])
	}
	fs := newFlagSet(env, "receiver", receiverHelp)
	var conn meshConn
	conn.register(fs)
	var st storageFlags
	st.register(fs, true)
	data := fs.String("data", "", "state `directory` (database, payloads, API token); required")
	listen := fs.String("listen", "127.0.0.1:8082", "API address (`host:port`; port 0 picks a free one); other than loopback it needs --tls-cert/--tls-key or --insecure-listen")
	tlsCert := fs.String("tls-cert", "", "serve the API over HTTPS with this certificate `file` (PEM; with --tls-key)")
	tlsKey := fs.String("tls-key", "", "private key `file` (PEM) of --tls-cert")
	insecureListen := fs.Bool("insecure-listen", false, "allow plain HTTP on a --listen address other than loopback (behind a TLS proxy only)")
	token := fs.String("api-token", "", "bearer `token` for the API (default DIR/api-token)")
	envName(fs, "api-token", "GPCM_RECEIVER_TOKEN")
	ods := fs.String("ods", "", "the practice's ODS `code`, the responder in acknowledgements (default the mailbox ID)")
	envName(fs, "ods", "GPCM_ODS_CODE")
	poll := fs.Duration("poll", 30*time.Second, "wait between inbox polls")
	hold := fs.Duration("hold", 72*time.Hour, "how long a demographics mismatch waits for a person before 30002")
	acceptUsable := fs.Bool("accept-usable", false, "file messages whose only errors are payload findings (20009) when the document is still readable")
	testNHS := fs.Bool("allow-test-nhs-numbers", false, "accept NHS numbers failing the check digit (the official examples carry such numbers)")
	workers := fs.Int("workers", 8, "MESH downloads, acknowledgements and ack sends at once")
	batch := fs.Int("batch", 20, "messages or acks one claim takes (decided in parallel, recorded in one transaction)")
	var timeouts timeoutFlags
	timeouts.register(fs)
	var policy receiverPolicyFlags
	policy.register(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	hint := "gpcm receiver --help"
	switch {
	case fs.NArg() > 0:
		return usagef(hint, "receiver: unexpected argument %q", fs.Arg(0))
	case *data == "":
		return usagef(hint, "receiver: --data DIR is required")
	case *poll <= 0 || *hold <= 0:
		return usagef(hint, "receiver: --poll and --hold must be positive")
	case *workers < 1 || *workers > 256 || *batch < 1 || *batch > 1000:
		return usagef(hint, "receiver: --workers must be 1..256 and --batch 1..1000 (got %d and %d)", *workers, *batch)
	case (*tlsCert == "") != (*tlsKey == ""):
		return usagef(hint, "receiver: --tls-cert and --tls-key go together")
	case *tlsCert == "" && !*insecureListen && !loopbackListen(*listen):
		return usagef(hint, "receiver: --listen %s is not a loopback address, and the API would carry patient data and its token in plain HTTP: give --tls-cert and --tls-key, or --insecure-listen if a TLS proxy is in front", *listen)
	}
	if err := st.check("receiver", hint); err != nil {
		return err
	}
	lim, err := timeouts.limits("receiver", hint)
	if err != nil {
		return err
	}
	rcfg := receiver.Config{PollInterval: *poll, HoldFor: *hold, AcceptUsable: *acceptUsable, AllowTestNHSNumbers: *testNHS,
		Workers: *workers, Batch: *batch}
	if err := policy.apply(&rcfg); err != nil {
		return usagef(hint, "receiver: %v", err)
	}
	mcfg, err := conn.config(env)
	if err != nil {
		return usagef(hint, "receiver: %v", err)
	}
	log := env.Logger()
	if err := dataDir(log, *data); err != nil {
		return fmt.Errorf("receiver: data directory: %w", err)
	}
	tok := *token
	if tok == "" {
		if tok, err = receiverTokenFile(log, *data); err != nil {
			return err
		}
	}
	client, err := conn.client(env)
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	practice := *ods
	if practice == "" {
		practice = mcfg.Mailbox
		log.Warn("no ODS code given (--ods, GPCM_ODS_CODE): acknowledgements name the mailbox ID as the responder")
	}
	db, err := st.openDB(ctx, *data, "receiver.db", pgstore.Options{MinConns: 4})
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	defer db.Close()
	blobs, err := st.openBlobs(ctx, *data, db)
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	rcfg.Store, rcfg.Blobs, rcfg.Mesh, rcfg.ODSCode, rcfg.Logger = db.Receiver(), blobs, client, practice, log
	rcv, err := receiver.New(rcfg)
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	api, err := receiver.NewAPI(rcv, receiver.APIConfig{Token: tok, Logger: log})
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	scheme := "http"
	var tlsCfg *tls.Config
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("receiver: TLS certificate %s / key %s: %w", *tlsCert, *tlsKey, err)
		}
		scheme, tlsCfg = "https", &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("receiver: listen on %s: %w", *listen, err)
	}
	defer ln.Close()
	hs := newHTTPServer(api, lim, debugLog(log))
	hs.TLSConfig = tlsCfg
	if err := rcv.Start(ctx); err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	defer rcv.Stop()
	serveErr := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			serveErr <- hs.ServeTLS(ln, "", "")
			return
		}
		serveErr <- hs.Serve(ln)
	}()
	fmt.Fprintf(env.Stdout, "%s://%s\n", scheme, urlHost(ln.Addr().(*net.TCPAddr)))
	log.Info("receiver ready", "addr", ln.Addr().String(), "mailbox", mcfg.Mailbox, "tls", tlsCfg != nil)
	select {
	case err := <-serveErr:
		return fmt.Errorf("receiver: %w", err)
	case <-ctx.Done():
	}
	log.Info("receiver stopping")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	shutErr := hs.Shutdown(sctx)
	rcv.Stop()
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("receiver: %w", err)
	}
	if shutErr != nil {
		return fmt.Errorf("receiver: shutdown: %w", shutErr)
	}
	return nil
}

// loopbackListen reports whether a --listen address only takes
// connections from this machine: "localhost" or a loopback IP. An empty
// host (every interface) or any other name is not.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// receiverTokenFile reads DIR/api-token, creating it with a random token.
func receiverTokenFile(log *slog.Logger, dir string) (string, error) {
	path := filepath.Join(dir, "api-token")
	if err := restrictFile(path); err != nil {
		return "", fmt.Errorf("receiver: API token: %w", err)
	}
	if b, err := os.ReadFile(path); err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("receiver: %s is empty; delete it to have a new token made", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("receiver: API token: %w", err)
	}
	var r [24]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	t := hex.EncodeToString(r[:])
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("receiver: API token: %w", err)
	}
	log.Info("receiver API token written", "file", path)
	return t, nil
}

func runReceiverImport(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "receiver register import", receiverHelp)
	data := fs.String("data", "", "state `directory` of the receiver; required")
	format := fs.String("format", "", "file format: csv or fhir (default: from the extension; csv unless .json or .xml)")
	testNHS := fs.Bool("allow-test-nhs-numbers", false, "accept NHS numbers failing the check digit")
	var st storageFlags
	st.register(fs, false)
	cmdlineOnly(fs, "format")
	pos, err := parseInterspersed(fs, env, args)
	if err != nil {
		return err
	}
	hint := "gpcm receiver --help"
	switch {
	case *data == "":
		return usagef(hint, "receiver register import: --data DIR is required")
	case len(pos) != 1:
		return usagef(hint, "receiver register import: want exactly one FILE (or - for stdin)")
	}
	if err := st.check("receiver register import", hint); err != nil {
		return err
	}
	file := pos[0]
	f := *format
	if f == "" {
		switch strings.ToLower(filepath.Ext(file)) {
		case ".json", ".xml":
			f = "fhir"
		default:
			f = "csv"
		}
	}
	if f != "csv" && f != "fhir" {
		return usagef(hint, "receiver register import: --format must be csv or fhir")
	}
	var in io.Reader = env.Stdin
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("receiver register import: %w", err)
		}
		defer fh.Close()
		in = fh
	}
	if err := dataDir(env.Logger(), *data); err != nil {
		return fmt.Errorf("receiver register import: data directory: %w", err)
	}
	db, err := st.openDB(ctx, *data, "receiver.db", pgstore.Options{})
	if err != nil {
		return fmt.Errorf("receiver register import: %w", err)
	}
	defer db.Close()
	res, err := receiver.ImportRegister(ctx, db.Receiver(), in, f, receiver.RegisterOptions{AllowTestNHSNumbers: *testNHS}, time.Now())
	var re *receiver.RegisterError
	if errors.As(err, &re) {
		for _, p := range re.Problems {
			if p.Line > 0 {
				fmt.Fprintf(env.Stderr, "%s:%d: %s: %s\n", file, p.Line, p.Field, p.Reason)
			} else {
				fmt.Fprintf(env.Stderr, "%s: %s: %s\n", file, p.Field, p.Reason)
			}
		}
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("register import: %d problem(s) in %s; nothing was imported", len(re.Problems), file)}
	}
	if err != nil {
		return fmt.Errorf("receiver register import: %w", err)
	}
	fmt.Fprintf(env.Stdout, "imported %d patients: %d new, %d updated, %d unchanged\n",
		res.Inserted+res.Updated+res.Unchanged, res.Inserted, res.Updated, res.Unchanged)
	return nil
}
