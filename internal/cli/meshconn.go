package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

// meshConn gathers the settings that reach a MESH mailbox. Each comes from
// a flag, else the environment variable, else the config file named by
// --mesh-config or MESH_CONFIG (KEY=VALUE lines with the same variable
// names, "#" comments). Commands that talk to MESH (mesh, receiver, send)
// share it.
type meshConn struct {
	configFile string
	url        string
	mailbox    string
	password   string
	sharedKey  string
	cert       string
	key        string
	ca         string
	insecure   bool
	plainHTTP  bool
	retries    int
	timeout    time.Duration
	// oneShot marks interactive commands: retries are logged only when
	// GPCM_LOG_LEVEL asks for them, so a failure prints one line.
	oneShot bool
}

// meshConnHelp documents the connection settings for command help texts.
const meshConnHelp = `Connection (flag, else environment variable, else config file):
  --url          MESH_URL          base URL, e.g. https://msg.intspineservices.nhs.uk
  --mailbox      MESH_MAILBOX      your mailbox ID
  --password     MESH_PASSWORD     mailbox password (prefer the variable)
  --shared-key   MESH_SHARED_KEY   environment shared secret
  --cert, --key  MESH_CERT, MESH_KEY  client TLS certificate and key (PEM)
  --ca           MESH_CA           CA bundle that signs the server certificate (PEM)
  --allow-insecure-http  MESH_ALLOW_INSECURE_HTTP=1  permit a plain http:// URL to a
                 host other than loopback (refused otherwise: the token would go unencrypted)
  --mesh-config  MESH_CONFIG       file of KEY=VALUE lines using the names above`

// register adds the connection flags to fs.
func (m *meshConn) register(fs *flag.FlagSet) {
	fs.StringVar(&m.configFile, "mesh-config", "", "`file` of MESH_* settings (KEY=VALUE lines); env MESH_CONFIG")
	fs.StringVar(&m.url, "url", "", "MESH base `URL`; env MESH_URL")
	fs.StringVar(&m.mailbox, "mailbox", "", "your mailbox `ID`; env MESH_MAILBOX")
	fs.StringVar(&m.password, "password", "", "mailbox `password`; env MESH_PASSWORD (preferred: flags show in ps)")
	fs.StringVar(&m.sharedKey, "shared-key", "", "environment shared `secret`; env MESH_SHARED_KEY")
	fs.StringVar(&m.cert, "cert", "", "client certificate PEM `file`; env MESH_CERT")
	fs.StringVar(&m.key, "key", "", "client key PEM `file`; env MESH_KEY")
	fs.StringVar(&m.ca, "ca", "", "CA bundle PEM `file` for the server certificate; env MESH_CA")
	fs.BoolVar(&m.insecure, "insecure-skip-verify", false, "do not verify the server certificate (loopback sandbox only); env MESH_INSECURE_SKIP_VERIFY=1")
	fs.BoolVar(&m.plainHTTP, "allow-insecure-http", false, "permit a plain http:// --url to a host other than loopback (the NHSMESH token goes unencrypted); env MESH_ALLOW_INSECURE_HTTP=1")
	fs.IntVar(&m.retries, "retries", 4, "retries of idempotent requests after transient failures")
	fs.DurationVar(&m.timeout, "timeout", 5*time.Minute, "wait at most this long for each response to start")
}

// config resolves the settings into a mesh.Config.
func (m *meshConn) config(env *Env) (mesh.Config, error) {
	file := map[string]string{}
	path := m.configFile
	if path == "" {
		path = env.getenv("MESH_CONFIG")
	}
	if path != "" {
		var err error
		if file, err = readMeshConfigFile(path); err != nil {
			return mesh.Config{}, err
		}
	}
	pick := func(flagVal, name string) string {
		if flagVal != "" {
			return flagVal
		}
		if v := env.getenv(name); v != "" {
			return v
		}
		return file[name]
	}
	yes := func(flagVal bool, name string) bool {
		if flagVal {
			return true
		}
		v := pick("", name)
		return v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "yes")
	}
	insecure := yes(m.insecure, "MESH_INSECURE_SKIP_VERIFY")
	cfg := mesh.Config{
		URL:       pick(m.url, "MESH_URL"),
		Mailbox:   pick(m.mailbox, "MESH_MAILBOX"),
		Password:  pick(m.password, "MESH_PASSWORD"),
		SharedKey: pick(m.sharedKey, "MESH_SHARED_KEY"),
		TLS: mesh.TLSConfig{
			CertFile:           pick(m.cert, "MESH_CERT"),
			KeyFile:            pick(m.key, "MESH_KEY"),
			CAFile:             pick(m.ca, "MESH_CA"),
			InsecureSkipVerify: insecure,
		},
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
		if err := parseFlags(fs, env, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
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
