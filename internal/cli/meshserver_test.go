package cli_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob/s3blob/s3blobtest"
	"github.com/gpcm/gpcm/internal/cli"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"software.sslmate.com/src/go-pkcs12"
)

// The configuration shape from the issue, accepted as it is.
const issueConfig = `{"shared_key": "TestKey",
 "mailboxes": [{"id": "X26ABC1", "password": "password", "ods_code": "X26", "workflows": ["GPFED_CONSULT_REPORT", "GPFED_CONSULT_REPORT_ACK"]},
               {"id": "X26ABC2", "password": "password", "ods_code": "X26"}]}`

type meshServerProc struct {
	url    string
	stderr *syncBuffer
	done   chan int
	stop   context.CancelFunc
}

type syncBuffer struct {
	mu chan struct{}
	b  strings.Builder
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.String()
}

// startMeshServer runs "gpcm mesh-server" in-process and waits for its
// ready line.
func startMeshServer(t *testing.T, env map[string]string, args ...string) *meshServerProc {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	p := &meshServerProc{stderr: newSyncBuffer(), done: make(chan int, 1), stop: cancel}
	e := &cli.Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: p.stderr, Getenv: func(k string) string { return env[k] }}
	go func() {
		code := cli.Main(ctx, e, append([]string{"mesh-server"}, args...))
		pw.Close()
		p.done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	go io.Copy(io.Discard, pr)
	if err != nil {
		cancel()
		t.Fatalf("no ready line (err %v); stderr: %s", err, p.stderr.String())
	}
	p.url = strings.TrimSpace(line)
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMeshServerStartContract(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "mesh.json", issueConfig)
	data := filepath.Join(dir, "data")
	p := startMeshServer(t, nil, "--listen", "127.0.0.1:0", "--data", data, "--config", cfg)
	if !strings.HasPrefix(p.url, "https://127.0.0.1:") || strings.Contains(p.url, " ") {
		t.Fatalf("ready line: got %q, want https://127.0.0.1:PORT", p.url)
	}
	caPEM, err := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	if err != nil {
		t.Fatalf("generated CA: %v", err)
	}
	if !strings.Contains(p.stderr.String(), filepath.Join(data, "tls", "server.pem")) {
		t.Errorf("stderr does not name the generated certificate: %s", p.stderr.String())
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	do := func(method, path, mailbox string, hdr map[string]string, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, p.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", mesh.NewToken(mailbox, "password", "TestKey", mesh.NewNonce(), 0, time.Now()).String())
		req.Header.Set("Accept", mesh.MediaTypeV2)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	res := do("POST", "/messageexchange/X26ABC1/outbox", "X26ABC1", map[string]string{"Mex-To": "X26ABC2", "Mex-WorkflowID": "GPFED_CONSULT_REPORT"}, "hello")
	if res.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("send: got %d %s", res.StatusCode, b)
	}
	res = do("POST", "/messageexchange/X26ABC1/outbox", "X26ABC1", map[string]string{"Mex-To": "X26ABC2", "Mex-WorkflowID": "OTHER"}, "hello")
	if res.StatusCode != http.StatusExpectationFailed {
		t.Fatalf("send of a workflow X26ABC1 may not use: got %d, want 417", res.StatusCode)
	}
	res = do("GET", "/messageexchange/X26ABC2/inbox", "X26ABC2", nil, "")
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `"approx_inbox_count":1`) {
		t.Fatalf("inbox: got %d %s", res.StatusCode, b)
	}
	hres, err := hc.Get(p.url + "/healthz")
	if err != nil || hres.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", hres, err)
	}
	hres.Body.Close()

	p.stop()
	if code := <-p.done; code != 0 {
		t.Fatalf("exit status after stop: got %d, want 0; stderr %s", code, p.stderr.String())
	}
	p.done <- 0 // for the cleanup
}

func TestMeshServerGivenCertificate(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "mesh.json", issueConfig)
	// A first start generates a CA and certificate; pass them explicitly.
	first := startMeshServer(t, nil, "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "gen"), "--config", cfg)
	first.stop()
	<-first.done
	first.done <- 0
	tlsDir := filepath.Join(dir, "gen", "tls")
	p := startMeshServer(t, map[string]string{"MESH_SHARED_KEY": "EnvKey"}, "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"),
		"--config", cfg, "--tls-cert", filepath.Join(tlsDir, "server.pem"), "--tls-key", filepath.Join(tlsDir, "server-key.pem"))
	caPEM, _ := os.ReadFile(filepath.Join(tlsDir, "ca.pem"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("GET", p.url+"/messageexchange/X26ABC1/inbox", nil)
	// MESH_SHARED_KEY wins over the file's shared_key.
	req.Header.Set("Authorization", mesh.NewToken("X26ABC1", "password", "EnvKey", mesh.NewNonce(), 0, time.Now()).String())
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("inbox with env shared key: got %d", res.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "tls")); err == nil {
		t.Fatal("a certificate was generated although --tls-cert was given")
	}
}

func TestMeshServerUsage(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "mesh.json", issueConfig)
	noKey := writeFile(t, dir, "nokey.json", `{"mailboxes": [{"id": "X26ABC1", "password": "p"}]}`)
	bad := writeFile(t, dir, "bad.json", `{"mailboxes": [{"id": "X26 ABC1", "password": "p"}]}`)
	shortAdmin := writeFile(t, dir, "short.json", `{"shared_key": "k", "admin_token": "change-me", "mailboxes": [{"id": "X26ABC1", "password": "p"}]}`)
	data := filepath.Join(dir, "data")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"missing --config", []string{"--data", data}, 2, "--config FILE is required"},
		{"missing --data", []string{"--config", cfg}, 2, "--data DIR is required"},
		{"cert without key", []string{"--data", data, "--config", cfg, "--tls-cert", "x.pem"}, 2, "--tls-cert and --tls-key go together"},
		{"no shared key", []string{"--data", data, "--config", noKey}, 2, "no shared key"},
		{"invalid mailbox", []string{"--data", data, "--config", bad}, 1, "mailboxes[0]"},
		{"missing config file", []string{"--data", data, "--config", filepath.Join(dir, "none.json")}, 1, "none.json"},
		{"bad postgres URL", []string{"--data", data, "--config", cfg, "--postgres", "mysql://x y"}, 1, "--postgres"},
		{"schema without postgres", []string{"--data", data, "--config", cfg, "--postgres-schema", "s"}, 2, "--postgres-schema needs --postgres"},
		{"bad s3 URL", []string{"--data", data, "--config", cfg, "--s3", "ftp://h/b"}, 1, "--s3"},
		{"short --admin-token", []string{"--data", data, "--config", cfg, "--admin-token", "0123456789abcdef0123456789abcde"}, 2, "--admin-token: the admin token has 31 bytes; it needs at least 32"},
		{"short admin_token in the file", []string{"--data", data, "--config", shortAdmin}, 2, `"admin_token" in ` + shortAdmin + ": the admin token has 9 bytes"},
		{"zero quota", []string{"--data", data, "--config", cfg, "--mailbox-quota-messages", "0"}, 2, "--mailbox-quota-bytes must be positive"},
		{"bad --min-transfer-rate", []string{"--data", data, "--config", cfg, "--min-transfer-rate", "fast"}, 2, "--min-transfer-rate \"fast\""},
		{"help has examples", []string{"--help"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", append([]string{"mesh-server"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit status: got %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Fatalf("stderr: got %q, want it to contain %q", stderr, tt.wantStderr)
			}
			if tt.wantCode == 0 && !strings.Contains(stdout, "Examples:") {
				t.Fatalf("help: no Examples block in %q", stdout)
			}
		})
	}
}

func TestMeshServerExampleConfig(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "examples", "mesh-server.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fc, err := meshserver.ParseFileConfig(f)
	if err != nil {
		t.Fatalf("examples/mesh-server.json: %v", err)
	}
	if len(fc.Mailboxes) == 0 || len(fc.Patients) == 0 {
		t.Fatalf("example lacks mailboxes or patients: %+v", fc)
	}
}

// Two "gpcm mesh-server" instances on one PostgreSQL schema (payloads in a
// shared directory here; S3 is covered by pgstore's two-server test): a
// message sent via one is downloaded and acknowledged via the other, and a
// token used on one is refused by the other.
func TestMeshServerTwoOnPostgres(t *testing.T) {
	schema := pgstoretest.Schema(t)
	pgURL := pgstoretest.URL(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "mesh.json", issueConfig)
	start := func(name string) (*meshServerProc, *http.Client) {
		data := filepath.Join(dir, name)
		p := startMeshServer(t, nil, "--listen", "127.0.0.1:0", "--data", data, "--config", cfg, "--postgres", pgURL, "--postgres-schema", schema)
		caPEM, err := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		return p, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	one, c1 := start("one")
	two, c2 := start("two")
	do := func(p *meshServerProc, hc *http.Client, method, path, auth string, hdr map[string]string, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, p.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Accept", mesh.MediaTypeV2)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	tok := func(mb string) string {
		return mesh.NewToken(mb, "password", "TestKey", mesh.NewNonce(), 0, time.Now()).String()
	}
	// Without --s3 each server keeps payloads in its own --data directory,
	// so this checks the shared metadata (inbox) and tokens.
	code, body := do(one, c1, "POST", "/messageexchange/X26ABC1/outbox", tok("X26ABC1"), map[string]string{"Mex-To": "X26ABC2", "Mex-WorkflowID": "GPFED_CONSULT_REPORT"}, "hello")
	if code != http.StatusAccepted {
		t.Fatalf("send via one: %d %s", code, body)
	}
	code, body = do(two, c2, "GET", "/messageexchange/X26ABC2/inbox", tok("X26ABC2"), nil, "")
	if code != http.StatusOK || !strings.Contains(body, `"approx_inbox_count":1`) {
		t.Fatalf("inbox via two: %d %s", code, body)
	}
	used := tok("X26ABC1")
	if code, _ := do(one, c1, "GET", "/messageexchange/X26ABC1/inbox", used, nil, ""); code != http.StatusOK {
		t.Fatalf("token on one: %d", code)
	}
	if code, _ := do(two, c2, "GET", "/messageexchange/X26ABC1/inbox", used, nil, ""); code != http.StatusForbidden {
		t.Fatalf("same token on two: got %d, want 403", code)
	}
}

// Stopping the server lets a request in flight (an upload) finish.
func TestMeshServerGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "mesh.json", issueConfig)
	data := filepath.Join(dir, "data")
	p := startMeshServer(t, nil, "--listen", "127.0.0.1:0", "--data", data, "--config", cfg)
	caPEM, _ := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", p.url+"/messageexchange/X26ABC1/outbox", pr)
	req.Header.Set("Authorization", mesh.NewToken("X26ABC1", "password", "TestKey", mesh.NewNonce(), 0, time.Now()).String())
	req.Header.Set("Accept", mesh.MediaTypeV2)
	req.Header.Set("Mex-To", "X26ABC2")
	req.Header.Set("Mex-WorkflowID", "GPFED_CONSULT_REPORT")
	got := make(chan int, 1)
	go func() {
		res, err := hc.Do(req)
		if err != nil {
			got <- 0
			return
		}
		res.Body.Close()
		got <- res.StatusCode
	}()
	// The server has the request once the first bytes are read.
	if _, err := pw.Write([]byte("first half, ")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the request reach the handler; not a timing assertion
	p.stop()
	if _, err := pw.Write([]byte("second half")); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-got; code != http.StatusAccepted {
		t.Fatalf("upload in flight during shutdown: got %d, want 202", code)
	}
	if code := <-p.done; code != 0 {
		t.Fatalf("exit status: got %d; stderr %s", code, p.stderr.String())
	}
	p.done <- 0
}

// TestMeshServerCertificateFromEnv starts the server with its certificate
// handed over in the environment, inline or as PKCS#12, as a container
// platform does, and checks a client trusting the issuing CA connects.
func TestMeshServerCertificateFromEnv(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "mesh.json", issueConfig)
	ca, err := meshserver.NewCA("env test CA")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, tc, err := ca.Issue("127.0.0.1", []net.IP{net.IPv4(127, 0, 0, 1)}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	p12, err := pkcs12.Modern.Encode(tc.PrivateKey, tc.Leaf, nil, "server pfx")
	if err != nil {
		t.Fatal(err)
	}
	p12File := writeFile(t, dir, "server.p12", string(p12))
	pwFile := writeFile(t, dir, "pfx-password", "server pfx\n")
	caFile := writeFile(t, dir, "ca.pem", string(ca.CertPEM))
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"inline PEM", map[string]string{"GPCM_TLS_CERT_PEM": string(certPEM), "GPCM_TLS_KEY_PEM": string(keyPEM)}},
		{"PKCS#12 with a password file", map[string]string{"GPCM_TLS_PKCS12": p12File, "GPCM_TLS_PKCS12_PASSWORD_FILE": pwFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["GPCM_DATA"] = filepath.Join(t.TempDir(), "data")
			tt.env["GPCM_CONFIG"] = cfg
			p := startMeshServer(t, tt.env, "--listen", "127.0.0.1:0")
			if code, _, stderr := run(t, "", "healthcheck", "--ca", caFile, p.url+"/healthz"); code != 0 {
				t.Fatalf("healthcheck trusting the issuing CA: exit %d: %s", code, stderr)
			}
			if _, err := os.Stat(filepath.Join(tt.env["GPCM_DATA"], "tls", "server.pem")); err == nil {
				t.Error("the server generated a certificate of its own instead of using the given one")
			}
		})
	}
}

// TestMeshServerStorageCredentialsApart gives the S3 keys apart from the
// --s3 URL (GPCM_S3_ACCESS_KEY, GPCM_S3_SECRET_KEY_FILE), so that no
// secret is on the command line.
func TestMeshServerStorageCredentialsApart(t *testing.T) {
	pgURL, schema := pgstoretest.URL(t), pgstoretest.Schema(t)
	bucket := s3blobtest.Bucket(t)
	scheme := "http"
	if bucket.Secure {
		scheme = "https"
	}
	s3URL := fmt.Sprintf("%s://%s/%s?create=1", scheme, bucket.Endpoint, bucket.Bucket)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "mesh.json", issueConfig)
	secret := writeFile(t, dir, "s3-secret", bucket.SecretKey+"\n")
	wrong := writeFile(t, dir, "wrong-secret", "not-the-secret\n")
	args := []string{"mesh-server", "--listen", "127.0.0.1:0", "--config", cfg, "--postgres", pgURL, "--postgres-schema", schema, "--s3", s3URL}

	env := map[string]string{"GPCM_DATA": filepath.Join(dir, "bad"), "GPCM_S3_ACCESS_KEY": bucket.AccessKey, "GPCM_S3_SECRET_KEY_FILE": wrong}
	code, _, stderr := runGPCM(t, env, args...)
	if code != 1 || !strings.Contains(stderr, "--s3") {
		t.Fatalf("wrong secret key: exit %d, stderr %q; want exit 1 naming --s3", code, stderr)
	}
	if strings.Contains(stderr, "not-the-secret") {
		t.Errorf("stderr shows the secret key: %q", stderr)
	}

	env = map[string]string{"GPCM_DATA": filepath.Join(dir, "good"), "GPCM_S3_ACCESS_KEY": bucket.AccessKey, "GPCM_S3_SECRET_KEY_FILE": secret}
	p := startMeshServer(t, env, args[1:]...)
	if code, _, stderr := run(t, "", "healthcheck", "--ca", filepath.Join(dir, "good", "tls", "ca.pem"), p.url+"/healthz"); code != 0 {
		t.Fatalf("healthcheck: exit %d: %s", code, stderr)
	}
}
