package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// allCommands is every command line that parses flags. TestFlagEnvCoversEveryCommand
// checks that each top-level command appears here.
var allCommands = [][]string{
	{"serve"}, {"mesh-server"}, {"receiver"}, {"receiver", "register", "import"},
	{"send", "submit"}, {"send", "run"}, {"send", "list"}, {"send", "show"}, {"send", "alerts"},
	{"send", "resend"}, {"send", "replace"},
	{"mesh", "handshake"}, {"mesh", "send"}, {"mesh", "inbox"}, {"mesh", "get"}, {"mesh", "ack"},
	{"mesh", "count"}, {"mesh", "track"}, {"mesh", "lookup"}, {"mesh", "workflows"},
	{"fhir", "convert"}, {"validate"}, {"senddoc", "example"}, {"senddoc", "build"},
	{"update-record", "example"}, {"update-record", "build"},
	{"bench", "mesh"}, {"bench", "receiver"}, {"version"}, {"healthcheck"},
	{"users", "add"}, {"users", "list"}, {"users", "reset"}, {"users", "disable"}, {"users", "enable"},
}

// longRunning are the services: every one of their flags has a variable,
// but for --json, which every send subcommand shares and run ignores.
var longRunning = map[string]bool{"serve": true, "mesh-server": true, "receiver": true, "send run": true}

var errStop = errors.New("stopped after parsing flags")

// parsed runs the command line with the environment vars and returns its
// flag set as the command would use it, or the command's error if it
// stopped before.
func parsed(t *testing.T, args []string, vars map[string]string) (*flag.FlagSet, int, string) {
	t.Helper()
	var fs *flag.FlagSet
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] },
		afterParse: func(f *flag.FlagSet) error { fs = f; return errStop }}
	code := Main(context.Background(), env, args)
	return fs, code, errb.String()
}

// helpVars reads "--name kind   env VAR" lines from a command's --help.
func helpVars(t *testing.T, args []string) map[string]string {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	if code := Main(context.Background(), env, append(append([]string{}, args...), "--help")); code != 0 {
		t.Fatalf("%s --help: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	vars := map[string]string{}
	_, flags, ok := strings.Cut(out.String(), "\nFlags (")
	if !ok {
		t.Fatalf("%s --help has no Flags section", strings.Join(args, " "))
	}
	for _, line := range strings.Split(flags, "\n") {
		if !strings.HasPrefix(line, "  --") {
			continue
		}
		f := strings.Fields(line)
		name := strings.TrimPrefix(f[0], "--")
		vars[name] = ""
		if n := len(f); n >= 3 && f[n-2] == "env" {
			vars[name] = f[n-1]
		}
	}
	return vars
}

// sample returns a value for f different from its default, and the text
// the flag then shows, and another such pair for the command line.
func sample(t *testing.T, f *flag.Flag) (env, want, cmdline, cmdWant string) {
	t.Helper()
	v := f.Value
	if n, ok := v.(*namedFlag); ok {
		v = n.Value
	}
	switch cv := v.(type) {
	case *choiceValue:
		for _, c := range cv.choices {
			if c != f.DefValue && c != cv.choices[0] {
				return c, c, cv.choices[0], cv.choices[0]
			}
		}
	case levelValue:
		return "debug", "debug", "warn", "warn"
	case *prefixList:
		return "10.0.0.2,192.168.0.0/24", "10.0.0.2/32,192.168.0.0/24", "10.9.9.9", "10.9.9.9/32"
	}
	g, ok := v.(flag.Getter)
	if !ok {
		t.Fatalf("--%s: value type %T: add a sample for it", f.Name, v)
	}
	switch g.Get().(type) {
	case bool:
		if f.DefValue == "true" {
			return "no", "false", "true", "true"
		}
		return "yes", "true", "false", "false"
	case int, int64, uint, uint64:
		return "7", "7", "9", "9"
	case float64:
		return "7.5", "7.5", "9.5", "9.5"
	case time.Duration:
		return "7s", "7s", "9m0s", "9m0s"
	case string:
		return "from-env-" + f.Name, "from-env-" + f.Name, "from-cmdline", "from-cmdline"
	}
	t.Fatalf("--%s: value type %T: add a sample for it", f.Name, g.Get())
	return
}

// TestFlagEnv checks, for every flag of every command, that --help lists
// its variable, that the variable and its _FILE form set the flag, and
// that the command line wins over both.
func TestFlagEnv(t *testing.T) {
	dir := t.TempDir()
	for _, args := range allCommands {
		cmd := strings.Join(args, " ")
		t.Run(strings.ReplaceAll(cmd, " ", "_"), func(t *testing.T) {
			fs, code, stderr := parsed(t, args, nil)
			if fs == nil {
				t.Fatalf("no flag set parsed (exit %d): %s", code, stderr)
			}
			listed := helpVars(t, args)
			n := 0
			fs.VisitAll(func(f *flag.Flag) {
				n++
				name := flagVar(f)
				got, ok := listed[f.Name]
				switch {
				case !ok:
					t.Errorf("--help does not list --%s", f.Name)
				case got != name:
					t.Errorf("--help lists --%s with variable %q, want %q", f.Name, got, name)
				}
				if name == "" {
					if longRunning[cmd] && f.Name != "json" {
						t.Errorf("--%s has no variable, but %s is a service: every flag needs one", f.Name, cmd)
					}
					return
				}
				envVal, want, cmdVal, cmdWant := sample(t, f)
				check := func(how string, vars map[string]string, extra []string, want string) {
					t.Helper()
					fs, code, stderr := parsed(t, append(append([]string{}, args...), extra...), vars)
					if fs == nil {
						t.Errorf("%s: the command stopped (exit %d): %s", how, code, stderr)
						return
					}
					if got := fs.Lookup(f.Name).Value.String(); got != want {
						t.Errorf("%s: --%s = %q, want %q", how, f.Name, got, want)
					}
				}
				check(name+"="+envVal, map[string]string{name: envVal}, nil, want)
				file := filepath.Join(dir, name)
				if err := os.WriteFile(file, []byte(envVal+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				check(name+"_FILE", map[string]string{name + "_FILE": file}, nil, want)
				check("command line over "+name, map[string]string{name: envVal}, []string{"--" + f.Name + "=" + cmdVal}, cmdWant)
			})
			if n == 0 {
				t.Fatal("no flags")
			}
		})
	}
}

func TestFlagEnvCoversEveryCommand(t *testing.T) {
	have := map[string]bool{}
	for _, a := range allCommands {
		have[a[0]] = true
	}
	for _, c := range commands() {
		if !have[c.name] {
			t.Errorf("command %q is missing from allCommands", c.name)
		}
	}
}

// TestFlagEnvNames checks the variables that other MESH tools, earlier
// gpcm releases and the deployment files use.
func TestFlagEnvNames(t *testing.T) {
	tests := []struct {
		cmd  []string
		flag string
		want string
	}{
		{[]string{"receiver"}, "url", "MESH_URL"},
		{[]string{"receiver"}, "mailbox", "MESH_MAILBOX"},
		{[]string{"receiver"}, "password", "MESH_PASSWORD"},
		{[]string{"receiver"}, "shared-key", "MESH_SHARED_KEY"},
		{[]string{"receiver"}, "cert", "MESH_CERT"},
		{[]string{"receiver"}, "key", "MESH_KEY"},
		{[]string{"receiver"}, "ca", "MESH_CA"},
		{[]string{"receiver"}, "cert-pem", "MESH_CERT_PEM"},
		{[]string{"receiver"}, "pkcs12", "MESH_PKCS12"},
		{[]string{"receiver"}, "pkcs12-password", "MESH_PKCS12_PASSWORD"},
		{[]string{"receiver"}, "mesh-config", "MESH_CONFIG"},
		{[]string{"receiver"}, "insecure-skip-verify", "MESH_INSECURE_SKIP_VERIFY"},
		{[]string{"receiver"}, "api-token", "GPCM_RECEIVER_TOKEN"},
		{[]string{"receiver"}, "ods", "GPCM_ODS_CODE"},
		{[]string{"receiver"}, "postgres-password", "GPCM_POSTGRES_PASSWORD"},
		{[]string{"receiver"}, "s3-secret-key", "GPCM_S3_SECRET_KEY"},
		{[]string{"send", "run"}, "token", "GPCM_SEND_TOKEN"},
		{[]string{"send", "run"}, "alert-webhook-token", "GPCM_ALERT_WEBHOOK_TOKEN"},
		{[]string{"send", "run"}, "data", "GPCM_DATA"},
		{[]string{"mesh-server"}, "shared-key", "MESH_SHARED_KEY"},
		{[]string{"mesh-server"}, "admin-token", "MESH_ADMIN_TOKEN"},
		{[]string{"mesh-server"}, "postgres-password", "GPCM_POSTGRES_PASSWORD"},
		{[]string{"serve"}, "log-format", "GPCM_LOG_FORMAT"},
		{[]string{"version"}, "log-level", "GPCM_LOG_LEVEL"},
		{[]string{"mesh", "send"}, "to", ""},
		{[]string{"bench", "receiver"}, "postgres", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.cmd, "_")+"_"+tt.flag, func(t *testing.T) {
			fs, _, stderr := parsed(t, tt.cmd, nil)
			if fs == nil {
				t.Fatal(stderr)
			}
			f := fs.Lookup(tt.flag)
			if f == nil {
				t.Fatalf("no flag --%s", tt.flag)
			}
			if got := flagVar(f); got != tt.want {
				t.Errorf("variable: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFlagEnvErrors(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "pw")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		vars    map[string]string
		want    string
		notWant string
	}{
		{"bad duration names the variable, not its value", map[string]string{"GPCM_POLL": "hunter2"}, "GPCM_POLL (for --poll): invalid value", "hunter2"},
		{"variable and its file", map[string]string{"MESH_PASSWORD": "a", "MESH_PASSWORD_FILE": secret}, "both MESH_PASSWORD and MESH_PASSWORD_FILE are set", "s3cret"},
		{"missing file", map[string]string{"GPCM_POSTGRES_PASSWORD_FILE": filepath.Join(dir, "nope")}, "GPCM_POSTGRES_PASSWORD_FILE", ""},
		{"bad log format", map[string]string{"GPCM_LOG_FORMAT": "xml"}, "want text or json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, code, stderr := parsed(t, []string{"receiver"}, tt.vars)
			if fs != nil || code != ExitUsage {
				t.Fatalf("got exit %d (flags parsed: %v), want a usage error", code, fs != nil)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tt.want)
			}
			if tt.notWant != "" && strings.Contains(stderr, tt.notWant) {
				t.Errorf("stderr %q shows the value %q", stderr, tt.notWant)
			}
		})
	}
}
