package cli

import (
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// composeService is the part of a compose service the checks read.
type composeService struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// TestComposeFiles reads deploy/compose*.yml as gpcm would run them: each
// gpcm service's command parses with the service's environment, every
// GPCM_* and MESH_* variable there is one of its flags' (or their _FILE
// form) and sets that flag, its state is in a volume at /data, and its
// health check is a valid gpcm healthcheck of the address it listens on.
func TestComposeFiles(t *testing.T) {
	files, err := filepath.Glob("../../deploy/compose*.yml")
	if err != nil || len(files) < 2 {
		t.Fatalf("compose files: %v %v", files, err)
	}
	secrets := t.TempDir()
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Services map[string]composeService `yaml:"services"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		n := 0
		for name, svc := range doc.Services {
			if !strings.Contains(svc.Image, "gpcm") {
				continue
			}
			n++
			t.Run(filepath.Base(file)+"/"+name, func(t *testing.T) {
				fs, code, stderr := parsed(t, svc.Command, nil)
				if fs == nil {
					t.Fatalf("command %q does not parse (exit %d): %s", svc.Command, code, stderr)
				}
				vars := map[string]string{} // variable → flag
				fs.VisitAll(func(f *flag.Flag) {
					if v := flagVar(f); v != "" {
						vars[v] = f.Name
					}
				})
				env := map[string]string{}
				want := map[string]string{} // flag → value
				for k, v := range svc.Environment {
					if !strings.HasPrefix(k, "GPCM_") && !strings.HasPrefix(k, "MESH_") {
						continue
					}
					base, isFile := k, false
					if _, ok := vars[k]; !ok {
						base, isFile = strings.TrimSuffix(k, "_FILE"), strings.HasSuffix(k, "_FILE")
					}
					fl, ok := vars[base]
					if !ok {
						t.Errorf("%s is no variable of gpcm %s", k, strings.Join(svc.Command, " "))
						continue
					}
					if isFile {
						// A secret the platform mounts: stand in for it.
						p := filepath.Join(secrets, strings.ReplaceAll(strings.TrimPrefix(v, "/"), "/", "_"))
						if err := os.WriteFile(p, []byte("secret-"+base+"\n"), 0o600); err != nil {
							t.Fatal(err)
						}
						env[k], want[fl] = p, "secret-"+base
					} else {
						env[k], want[fl] = v, v
					}
				}
				fs, code, stderr = parsed(t, svc.Command, env)
				if fs == nil {
					t.Fatalf("with its environment the command does not parse (exit %d): %s", code, stderr)
				}
				for fl, v := range want {
					if got := fs.Lookup(fl).Value.String(); !sameValue(got, v) {
						t.Errorf("--%s = %q, want %q from the environment", fl, got, v)
					}
				}
				if filepath.Base(file) == "compose.yml" && (svc.Environment["GPCM_POSTGRES"] == "" || svc.Environment["GPCM_POSTGRES_SCHEMA"] == "") {
					t.Errorf("no PostgreSQL database and schema (GPCM_POSTGRES, GPCM_POSTGRES_SCHEMA): %v", svc.Environment)
				}
				if !slices.ContainsFunc(svc.Volumes, func(v string) bool { return strings.HasSuffix(v, ":/data") }) {
					t.Errorf("no volume at /data: %q", svc.Volumes)
				}
				hc := svc.Healthcheck.Test
				if len(hc) < 3 || hc[0] != "CMD" || hc[1] != "/gpcm" || hc[2] != "healthcheck" {
					t.Fatalf("health check %q, want [CMD /gpcm healthcheck …]", hc)
				}
				hfs, code, stderr := parsed(t, hc[2:], nil)
				if hfs == nil {
					t.Fatalf("health check %q does not parse (exit %d): %s", hc, code, stderr)
				}
				u, err := url.Parse(hc[len(hc)-1])
				if err != nil {
					t.Fatal(err)
				}
				listen := fs.Lookup("listen").Value.String()
				if _, port, _ := strings.Cut(listen, ":"); port != u.Port() {
					t.Errorf("health check %s, but the service listens on %s", u, listen)
				}
			})
		}
		if n == 0 {
			t.Errorf("%s runs no gpcm service", file)
		}
	}
}

// sameValue compares a flag's value with the text that set it ("1m" and
// "1m0s" are one duration).
func sameValue(got, set string) bool {
	if got == set {
		return true
	}
	g, err1 := time.ParseDuration(got)
	w, err2 := time.ParseDuration(set)
	return err1 == nil && err2 == nil && g == w
}
