package cli

import (
	"bufio"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gpcm/gpcm/internal/tlscert"
	"github.com/gpcm/gpcm/mesh"
)

// meshConn gathers the settings that reach a MESH mailbox. Each comes from
// a flag, else its environment variable (MESH_URL for --url and so on, the
// names every MESH client uses), else the config file named by
// --mesh-config or MESH_CONFIG (KEY=VALUE lines with the same variable
// names, "#" comments). Commands that talk to MESH (mesh, receiver, send)
// share it.
type meshConn struct {
	configFile string
	url        string
	mailbox    string
	password   string
	sharedKey  string
	// The client certificate: PEM files, inline PEM or PKCS#12.
	cert, key         string
	certPEM, keyPEM   string
	pkcs12, pkcs12Pwd string
	// The CAs that sign the server certificate: a PEM file and/or inline.
	ca, caPEM string
	insecure  bool
	plainHTTP bool
	retries   int
	timeout   time.Duration
	// oneShot marks interactive commands: retries are logged only when
	// GPCM_LOG_LEVEL asks for them, so a failure prints one line.
	oneShot bool
}

// meshConnHelp documents the connection settings for command help texts.
const meshConnHelp = `Connection (flag, else environment variable, else config file; NAME_FILE=path
reads any of them from a file):
  --url          MESH_URL          base URL, e.g. https://msg.intspineservices.nhs.uk
  --mailbox      MESH_MAILBOX      your mailbox ID
  --password     MESH_PASSWORD     mailbox password (prefer the variable)
  --shared-key   MESH_SHARED_KEY   environment shared secret
  --cert, --key  MESH_CERT, MESH_KEY  client TLS certificate and key (PEM files)
  --cert-pem, --key-pem  MESH_CERT_PEM, MESH_KEY_PEM  the same as PEM text (or base64 of it)
  --pkcs12       MESH_PKCS12       instead: the certificate and key as PKCS#12 (.p12/.pfx)
  --pkcs12-password  MESH_PKCS12_PASSWORD  its password
  --ca           MESH_CA           CA bundle that signs the server certificate (PEM file)
  --ca-pem       MESH_CA_PEM       the same as PEM text (or base64 of it)
  --allow-insecure-http  MESH_ALLOW_INSECURE_HTTP=1  permit a plain http:// URL to a
                 host other than loopback (refused otherwise: the token would go unencrypted)
  --mesh-config  MESH_CONFIG       file of KEY=VALUE lines using the names above`

// meshConnVars are the variables of the connection flags, also the keys of
// the config file.
var meshConnVars = map[string]string{
	"mesh-config": "MESH_CONFIG", "url": "MESH_URL", "mailbox": "MESH_MAILBOX", "password": "MESH_PASSWORD",
	"shared-key": "MESH_SHARED_KEY", "cert": "MESH_CERT", "key": "MESH_KEY", "cert-pem": "MESH_CERT_PEM",
	"key-pem": "MESH_KEY_PEM", "pkcs12": "MESH_PKCS12", "pkcs12-password": "MESH_PKCS12_PASSWORD",
	"ca": "MESH_CA", "ca-pem": "MESH_CA_PEM", "insecure-skip-verify": "MESH_INSECURE_SKIP_VERIFY",
	"allow-insecure-http": "MESH_ALLOW_INSECURE_HTTP",
	"retries":             "GPCM_MESH_RETRIES", "timeout": "GPCM_MESH_TIMEOUT",
}

// nameMeshVars gives the connection flags defined on fs their variables.
func nameMeshVars(fs *flag.FlagSet) {
	for name, v := range meshConnVars {
		if fs.Lookup(name) != nil {
			envName(fs, name, v)
		}
	}
}

// register adds the connection flags to fs.
func (m *meshConn) register(fs *flag.FlagSet) {
	fs.StringVar(&m.configFile, "mesh-config", "", "`file` of MESH_* settings (KEY=VALUE lines)")
	fs.StringVar(&m.url, "url", "", "MESH base `URL`")
	fs.StringVar(&m.mailbox, "mailbox", "", "your mailbox `ID`")
	fs.StringVar(&m.password, "password", "", "mailbox `password` (prefer the variable: flags show in ps)")
	fs.StringVar(&m.sharedKey, "shared-key", "", "environment shared `secret`")
	fs.StringVar(&m.cert, "cert", "", "client certificate PEM `file` (with --key, or holding the key too)")
	fs.StringVar(&m.key, "key", "", "client key PEM `file`")
	fs.StringVar(&m.certPEM, "cert-pem", "", "client certificate as `PEM` text or base64 of it (instead of --cert)")
	fs.StringVar(&m.keyPEM, "key-pem", "", "client key as `PEM` text or base64 of it (instead of --key)")
	fs.StringVar(&m.pkcs12, "pkcs12", "", "client certificate and key as a PKCS#12 `file` (.p12/.pfx), instead of PEM")
	fs.StringVar(&m.pkcs12Pwd, "pkcs12-password", "", "`password` of the --pkcs12 file (prefer the variable)")
	fs.StringVar(&m.ca, "ca", "", "CA bundle PEM `file` for the server certificate")
	fs.StringVar(&m.caPEM, "ca-pem", "", "CA bundle as `PEM` text or base64 of it (with or instead of --ca)")
	fs.BoolVar(&m.insecure, "insecure-skip-verify", false, "do not verify the server certificate (loopback sandbox only)")
	fs.BoolVar(&m.plainHTTP, "allow-insecure-http", false, "permit a plain http:// --url to a host other than loopback (the NHSMESH token goes unencrypted)")
	fs.IntVar(&m.retries, "retries", 4, "retries of idempotent requests after transient failures")
	fs.DurationVar(&m.timeout, "timeout", 5*time.Minute, "wait at most this long for each response to start")
	nameMeshVars(fs)
}

// config resolves the settings into a mesh.Config. The flags hold the
// command line and the environment already (parseFlags); the config file
// fills what is still empty.
func (m *meshConn) config(env *Env) (mesh.Config, error) {
	file := map[string]string{}
	if m.configFile != "" {
		var err error
		if file, err = readMeshConfigFile(m.configFile); err != nil {
			return mesh.Config{}, err
		}
	}
	pick := func(flagVal, name string) string {
		if flagVal != "" {
			return flagVal
		}
		return file[name]
	}
	yes := func(flagVal bool, name string) bool {
		if flagVal {
			return true
		}
		b, _ := strconv.ParseBool(boolWord(file[name]))
		return b
	}
	cfg := mesh.Config{
		URL:               pick(m.url, "MESH_URL"),
		Mailbox:           pick(m.mailbox, "MESH_MAILBOX"),
		Password:          pick(m.password, "MESH_PASSWORD"),
		SharedKey:         pick(m.sharedKey, "MESH_SHARED_KEY"),
		TLS:               mesh.TLSConfig{InsecureSkipVerify: yes(m.insecure, "MESH_INSECURE_SKIP_VERIFY")},
		AllowInsecureHTTP: yes(m.plainHTTP, "MESH_ALLOW_INSECURE_HTTP"),
		Retry:             mesh.Backoff{Retries: max(m.retries, 0), Initial: 500 * time.Millisecond, Max: 30 * time.Second},
		ResponseTimeout:   m.timeout,
		Logger:            env.Logger(),
	}
	if m.oneShot {
		cfg.Logger = env.loggerAt(slog.LevelError)
	}
	var missing []string
	for _, f := range []struct{ v, name string }{{cfg.URL, "MESH_URL (--url)"}, {cfg.Mailbox, "MESH_MAILBOX (--mailbox)"},
		{cfg.Password, "MESH_PASSWORD (--password)"}, {cfg.SharedKey, "MESH_SHARED_KEY (--shared-key)"}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return cfg, fmt.Errorf("MESH connection incomplete: set %s", strings.Join(missing, ", "))
	}
	pair := tlscert.Pair{CertFile: pick(m.cert, "MESH_CERT"), KeyFile: pick(m.key, "MESH_KEY"),
		CertPEM: pick(m.certPEM, "MESH_CERT_PEM"), KeyPEM: pick(m.keyPEM, "MESH_KEY_PEM"),
		PKCS12File: pick(m.pkcs12, "MESH_PKCS12"), PKCS12Password: pick(m.pkcs12Pwd, "MESH_PKCS12_PASSWORD")}
	if !pair.IsZero() {
		c, err := pair.Load()
		if err != nil {
			return cfg, fmt.Errorf("MESH client certificate (MESH_CERT/MESH_KEY, MESH_CERT_PEM/MESH_KEY_PEM or MESH_PKCS12): %w", err)
		}
		cfg.TLS.Certificates = []tls.Certificate{c}
	}
	pool, err := tlscert.CAs{File: pick(m.ca, "MESH_CA"), PEM: pick(m.caPEM, "MESH_CA_PEM")}.Pool()
	if err != nil {
		return cfg, fmt.Errorf("MESH server CAs (MESH_CA, MESH_CA_PEM): %w", err)
	}
	cfg.TLS.RootCAs = pool
	return cfg, nil
}

// readMeshConfigFile reads KEY=VALUE lines; only MESH_* keys are allowed.
func readMeshConfigFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("MESH config file: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(strings.TrimPrefix(k, "export ")), strings.TrimSpace(v)
		if !ok || !strings.HasPrefix(k, "MESH_") {
			return nil, fmt.Errorf("MESH config file %s line %d: want MESH_NAME=value", path, n)
		}
		if uq, err := strconv.Unquote(v); err == nil && len(v) > 1 && (v[0] == '"' || v[0] == '\'') {
			v = uq
		} else if len(v) > 1 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = v[1 : len(v)-1]
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("MESH config file %s: %w", path, err)
	}
	return out, nil
}

// newMeshClient resolves the settings and builds a client.
func (m *meshConn) client(env *Env) (*mesh.Client, error) {
	cfg, err := m.config(env)
	if err != nil {
		return nil, err
	}
	c, err := mesh.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.TLS.InsecureSkipVerify && m.oneShot {
		// The client logs this at warn level, which one-shot commands hide.
		fmt.Fprintln(env.Stderr, "gpcm: warning: TLS server certificate verification is OFF (loopback only)")
	}
	if cfg.AllowInsecureHTTP && m.oneShot && strings.HasPrefix(strings.ToLower(cfg.URL), "http://") {
		fmt.Fprintln(env.Stderr, "gpcm: warning: plain http:// MESH URL: the NHSMESH token and the messages are not encrypted")
	}
	return c, nil
}

// parseInterspersed parses flags that may come before, between or after
// positional arguments and returns the positional ones. "--" ends flags.
func parseInterspersed(fs *flag.FlagSet, env *Env, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseArgs(fs, env, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), applyFlagEnv(fs, env)
		}
		if len(rest) == 0 {
			return pos, applyFlagEnv(fs, env)
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseSize reads a byte count with an optional KB/MB/GB (10^3) or
// KiB/MiB/GiB (2^10) suffix.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000_000}, {"GB", 1000_000_000}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suf)) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suf)]), u.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("want a number of bytes such as 20MiB or 5000000")
	}
	return n * mult, nil
}
