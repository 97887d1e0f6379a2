package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gpcm/gpcm/internal/testutil"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

func benchEnv(t *testing.T, srv *meshtest.Server) func(string) string {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"MESH_URL": srv.URL, "MESH_PASSWORD": "password", "MESH_SHARED_KEY": srv.SharedKey, "MESH_CA": ca}
	return func(k string) string { return vars[k] }
}

func TestBenchMeshText(t *testing.T) {
	srv := meshtest.NewServer(t, meshtest.Options{})
	probeDir := t.TempDir()
	code, out, errs := runWith(t, benchEnv(t, srv), "", "bench", "mesh", "--senders", "3", "--messages", "40", "--size", "2KiB", "--runs", "2",
		"--disk-probe", probeDir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"40 messages of 2048 B per run, 3 senders", "ours run2/run1 msgs/s:", "e2e p99",
		"disk flush (4 KiB + sync every 10ms in " + probeDir + "): p50 "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "  ours  "); n != 2 {
		t.Errorf("got %d run rows, want 2:\n%s", n, out)
	}
	if left, _ := filepath.Glob(filepath.Join(probeDir, "*")); len(left) != 0 {
		t.Errorf("--disk-probe left %v behind", left)
	}
}

func TestBenchMeshVsJSON(t *testing.T) {
	a := meshtest.NewServer(t, meshtest.Options{})
	b := meshtest.NewServer(t, meshtest.Options{SharedKey: "OtherKey"})
	caB := filepath.Join(t.TempDir(), "b.pem")
	if err := os.WriteFile(caB, b.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runWith(t, benchEnv(t, a), "", "bench", "mesh", "--senders", "2", "--messages", "20", "--size", "100",
		"--runs", "2", "--vs", b.URL, "--vs-ca", caB, "--vs-shared-key", "OtherKey", "--json", "--server-pid", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	var rep struct {
		Runs []struct {
			Run        int     `json:"run"`
			Target     string  `json:"target"`
			Messages   int     `json:"messages"`
			MsgsPerSec float64 `json:"msgs_per_sec"`
			E2EP99ms   float64 `json:"e2e_p99_ms"`
		} `json:"runs"`
		Ratios  map[string]float64 `json:"ratios"`
		Machine struct {
			Go string `json:"go"`
		} `json:"machine"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	var order []string
	for _, r := range rep.Runs {
		order = append(order, r.Target)
		if r.Messages != 20 || r.MsgsPerSec <= 0 || r.E2EP99ms <= 0 {
			t.Errorf("run %+v", r)
		}
	}
	if got := strings.Join(order, ","); got != "ours,theirs,ours,theirs" {
		t.Errorf("got runs %s, want alternating ours,theirs", got)
	}
	for _, k := range []string{"ours/theirs msgs/s", "ours run2/run1", "theirs run2/run1"} {
		if rep.Ratios[k] <= 0 {
			t.Errorf("ratio %q missing: %v", k, rep.Ratios)
		}
	}
	if rep.Machine.Go == "" {
		t.Error("machine.go empty")
	}
}

func TestBenchMeshLarge(t *testing.T) {
	srv := meshtest.NewServer(t, meshtest.Options{})
	code, out, errs := runWith(t, benchEnv(t, srv), "", "bench", "mesh", "--large", "3MiB", "--dd-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"disk baseline: dd if=/dev/zero", "large message: 3145728 B in 1 chunks", "large send/dd: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchMeshUsage(t *testing.T) {
	srv := meshtest.NewServer(t, meshtest.Options{})
	env := benchEnv(t, srv)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no benchmark", []string{"bench"}, 2, "name what to measure"},
		{"unknown benchmark", []string{"bench", "disk"}, 2, `unknown benchmark "disk"`},
		{"help", []string{"bench", "--help"}, 0, ""},
		{"mesh help", []string{"bench", "mesh", "--help"}, 0, ""},
		{"not loopback", []string{"bench", "mesh", "--url", "https://msg.intspineservices.nhs.uk"}, 2, "not a loopback address"},
		{"vs not loopback", []string{"bench", "mesh", "--vs", "https://192.0.2.1:443"}, 2, "not a loopback address"},
		{"bad size", []string{"bench", "mesh", "--size", "4 lots"}, 2, "--size"},
		{"zero size", []string{"bench", "mesh", "--size", "0"}, 2, "--size"},
		{"one mailbox", []string{"bench", "mesh", "--mailboxes", "X26ABC1"}, 2, "two mailbox IDs"},
		{"spawn and url", []string{"bench", "mesh", "--spawn", "--url", srv.URL}, 2, "drop --url"},
		{"large and vs", []string{"bench", "mesh", "--large", "1MiB", "--vs", srv.URL}, 2, "drop --vs"},
		{"server args without spawn", []string{"bench", "mesh", "--server-args", "--postgres x"}, 2, "needs --spawn"},
		{"senders", []string{"bench", "mesh", "--senders", "0"}, 2, "--senders 0"},
		{"unreachable recipient", []string{"bench", "mesh", "--messages", "2", "--mailboxes", "X26ABC1,NOSUCH"}, 1, "sends failed"},
		{"receiver help", []string{"bench", "receiver", "--help"}, 0, ""},
		{"receiver messages", []string{"bench", "receiver", "--messages", "0"}, 2, "--messages 0"},
		{"receiver runs", []string{"bench", "receiver", "--runs", "0"}, 2, "--runs 0"},
		{"receiver argument", []string{"bench", "receiver", "extra"}, 2, `unexpected argument "extra"`},
		{"receiver schema without postgres", []string{"bench", "receiver", "--postgres-schema", "x"}, 2, "needs --postgres"},
		{"receiver server that is not gpcm", []string{"bench", "receiver", "--messages", "1", "--server-bin", "/bin/false"}, 1, "start the MESH server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runWith(t, env, "", tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Errorf("got exit %d, stderr %q; want %d and %q", code, errs, tt.code, tt.want)
			}
			if tt.code == 0 && !strings.Contains(out, "Examples:") {
				t.Errorf("help lacks Examples:\n%s", out)
			}
		})
	}
}

// TestBenchMeshSpawnPostgresSchema: a server spawned on PostgreSQL without
// a --postgres-schema gets a schema of its own, so that every bench starts
// from an empty store, and the schema is dropped afterwards.
func TestBenchMeshSpawnPostgresSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gpcm and runs it as a subprocess")
	}
	pgURL := pgstoretest.URL(t)
	bin := filepath.Join(t.TempDir(), "gpcm")
	if err := testutil.BuildGPCM(bin); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runWith(t, func(string) string { return "" }, "", "bench", "mesh", "--spawn", "--server-bin", bin,
		"--server-args", "--postgres "+pgURL, "--senders", "2", "--messages", "20", "--runs", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	m := regexp.MustCompile(`PostgreSQL schema (gpcm_bench_[0-9a-f]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output names no schema of its own:\n%s", out)
	}
	conn, err := pgx.Connect(t.Context(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, m[1]).Scan(&n); err != nil || n != 0 {
		t.Fatalf("schema %s after the bench: %d found (%v), want it dropped", m[1], n, err)
	}
}
