package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 23 §6: a data directory open to other users is restricted to its
// owner with a warning at start; the databases and payload directory in it
// are 0600 and 0700 whatever existed before.
func TestDataDirModes(t *testing.T) {
	mode := func(t *testing.T, p string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	loose := func(t *testing.T, dir string, files ...string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const warning = "data directory was open to other users; restricting it to its owner"

	t.Run("mesh-server", func(t *testing.T) {
		dir := t.TempDir()
		cfg := writeFile(t, dir, "mesh.json", issueConfig)
		data := filepath.Join(dir, "data")
		loose(t, data, "mesh.db")
		loose(t, filepath.Join(data, "blobs"))
		p := startMeshServer(t, nil, "--listen", "127.0.0.1:0", "--data", data, "--config", cfg)
		if !strings.Contains(p.stderr.String(), warning) || !strings.Contains(p.stderr.String(), "mode=0755") {
			t.Errorf("no warning naming the old mode on stderr: %s", p.stderr.String())
		}
		for _, c := range []struct {
			path string
			want os.FileMode
		}{{data, 0o700}, {filepath.Join(data, "mesh.db"), 0o600}, {filepath.Join(data, "blobs"), 0o700}} {
			if got := mode(t, c.path); got != c.want {
				t.Errorf("%s: mode %04o, want %04o", c.path, got, c.want)
			}
		}
	})
	t.Run("receiver register import", func(t *testing.T) {
		dir := t.TempDir()
		data := filepath.Join(dir, "practice")
		loose(t, data)
		reg := writeFile(t, dir, "register.csv", "nhs_number,birth_date,family,given\n9434765919,1955-01-09,Smith,Richard\n")
		code, _, stderr := runGPCM(t, nil, "receiver", "register", "import", "--data", data, reg)
		if code != 0 || !strings.Contains(stderr, warning) {
			t.Fatalf("import: exit %d, stderr %q; want 0 and the warning", code, stderr)
		}
		if got := mode(t, data); got != 0o700 {
			t.Errorf("data directory: mode %04o, want 0700", got)
		}
		if got := mode(t, filepath.Join(data, "receiver.db")); got != 0o600 {
			t.Errorf("receiver.db: mode %04o, want 0600", got)
		}
		// A second start finds nothing to restrict and says nothing.
		if code, _, stderr := runGPCM(t, nil, "receiver", "register", "import", "--data", data, reg); code != 0 || strings.Contains(stderr, warning) {
			t.Fatalf("second import: exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("serve", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "gpcm-data")
		loose(t, data)
		loose(t, filepath.Join(data, "mesh"), "mesh.db")
		p := startServe(t, data, "--demo=false")
		if !strings.Contains(p.stderr.String(), warning) {
			t.Errorf("no warning on stderr: %s", p.stderr.String())
		}
		// serve.json (mailbox passwords, the shared key) left readable
		// by an older version is restricted at the next start.
		p.shutdown(t)
		if err := os.Chmod(filepath.Join(data, "serve.json"), 0o644); err != nil {
			t.Fatal(err)
		}
		startServe(t, data)
		for _, c := range []struct {
			path string
			want os.FileMode
		}{{data, 0o700}, {filepath.Join(data, "mesh"), 0o700}, {filepath.Join(data, "mesh", "mesh.db"), 0o600},
			{filepath.Join(data, "receiver", "receiver.db"), 0o600}, {filepath.Join(data, "receiver", "blobs"), 0o700},
			{filepath.Join(data, "sender", "sender.db"), 0o600}, {filepath.Join(data, "serve.json"), 0o600}} {
			if got := mode(t, c.path); got != c.want {
				t.Errorf("%s: mode %04o, want %04o", c.path, got, c.want)
			}
		}
	})
	t.Run("send", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "outbox")
		loose(t, data)
		code, _, stderr := runGPCM(t, nil, "send", "list", "--data", data)
		if code != 0 || !strings.Contains(stderr, warning) {
			t.Fatalf("send list: exit %d, stderr %q; want 0 and the warning", code, stderr)
		}
		if got := mode(t, filepath.Join(data, "sender.db")); got != 0o600 {
			t.Errorf("sender.db: mode %04o, want 0600", got)
		}
	})
}
