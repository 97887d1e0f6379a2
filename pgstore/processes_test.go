package pgstore_test

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob/s3blob/s3blobtest"
	"github.com/gpcm/gpcm/internal/testutil"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// TestTwoProcessesOnPostgresAndS3 is the scale-out acceptance with real
// processes: it builds gpcm and starts two `gpcm mesh-server --postgres URL
// --s3 URL` on one schema and one bucket (the bucket created by whichever
// starts first), then runs the same checks as the in-process test.
func TestTwoProcessesOnPostgresAndS3(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs gpcm; skipped with -short")
	}
	pgURL := pgstoretest.URL(t)
	schema := pgstoretest.Schema(t)
	b := s3blobtest.Bucket(t)
	scheme := "http"
	if b.Secure {
		scheme = "https"
	}
	s3URL := (&url.URL{Scheme: scheme, User: url.UserPassword(b.AccessKey, b.SecretKey), Host: b.Endpoint,
		Path: "/" + b.Bucket + "/mesh", RawQuery: url.Values{"create": {"1"}, "region": {b.Region}}.Encode()}).String()

	dir := t.TempDir()
	bin := filepath.Join(dir, "gpcm")
	if err := testutil.BuildGPCM(bin); err != nil {
		t.Fatal(err)
	}
	ca, err := meshserver.NewCA("gpcm pgstore test")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, _, err := ca.Issue("127.0.0.1", []net.IP{net.IPv4(127, 0, 0, 1)}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert, key := write("server.pem", certPEM), write("server-key.pem", keyPEM)
	cfg := write("mesh.json", []byte(`{"shared_key": "TestKey", "mailboxes": [
		{"id": "X26ABC1", "password": "password", "ods_code": "X26", "workflows": ["GPFED_CONSULT_REPORT", "GPFED_CONSULT_REPORT_ACK"]},
		{"id": "X26ABC2", "password": "password", "ods_code": "X26"}]}`))

	// launch starts server n and returns a function that waits for its
	// ready line.
	launch := func(n int) func() endpoint {
		t.Helper()
		cmd := exec.Command(bin, "mesh-server", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, fmt.Sprint("node", n)),
			"--config", cfg, "--tls-cert", cert, "--tls-key", key,
			"--postgres", pgURL, "--postgres-schema", schema, "--s3", s3URL)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { // owner: ends when the process exits
			_ = cmd.Wait()
			close(exited)
		}()
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
				t.Errorf("server %d did not stop on SIGTERM", n)
			}
			if t.Failed() {
				t.Logf("server %d stderr:\n%s", n, stderr.String())
			}
		})
		line := make(chan string, 1)
		go func() { // owner: ends at EOF of stdout, when the process exits
			sc := bufio.NewScanner(stdout)
			if sc.Scan() {
				line <- sc.Text()
			}
			close(line)
			for sc.Scan() {
			}
		}()
		return func() endpoint {
			select {
			case u, ok := <-line:
				if !ok || !strings.HasPrefix(u, "https://127.0.0.1:") {
					<-exited
					t.Fatalf("server %d: ready line %q; stderr:\n%s", n, u, stderr.String())
				}
				return endpoint{URL: u, SharedKey: "TestKey", Roots: ca.Pool()}
			case <-time.After(60 * time.Second):
				t.Fatalf("server %d printed no URL within 60s; stderr:\n%s", n, stderr.String())
			}
			return endpoint{}
		}
	}
	// Started together: concurrent migrations and bucket creation must cope.
	wait1, wait2 := launch(1), launch(2)
	shareState(t, wait1(), wait2())
}
