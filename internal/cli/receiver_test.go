package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/internal/cli"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

type rcvBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *rcvBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *rcvBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func runGPCM(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = cli.Main(t.Context(), &cli.Env{Stdin: strings.NewReader(""), Stdout: &o, Stderr: &e, Getenv: func(k string) string { return env[k] }}, args)
	return code, o.String(), e.String()
}

// startReceiver runs "gpcm receiver ARGS" in-process and waits for its
// ready line, the API base URL. stop ends it and returns its exit status
// (0 when already stopped); the test's cleanup stops it too.
func startReceiver(t *testing.T, env map[string]string, args ...string) (base string, stderr *rcvBuffer, stop func() int) {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &rcvBuffer{}
	done := make(chan int, 1)
	go func() {
		code := cli.Main(ctx, &cli.Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: stderr, Getenv: func(k string) string { return env[k] }},
			append([]string{"receiver"}, args...))
		pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	go io.Copy(io.Discard, pr)
	if err != nil {
		cancel()
		t.Fatalf("no ready line (%v); stderr: %s", err, stderr.String())
	}
	stopped := false
	stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return strings.TrimSpace(line), stderr, stop
}

func TestReceiverRegisterImport(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "practice")
	good := filepath.Join(dir, "register.csv")
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(good, []byte("nhs_number,birth_date,family,given\n9434765919,1955-01-09,Smith,Richard\n9434765870,1950-05-06,Jones,Bob\n"), 0o600)
	os.WriteFile(bad, []byte("nhs_number,birth_date,family,given\n9434765919,1955-01-09,Smith,Richard\n9434765871,06/05/1950,Jones,Bob\n"), 0o600)

	code, _, stderr := runGPCM(t, nil, "receiver", "register", "import", "--data", data, bad)
	if code != 1 || !strings.Contains(stderr, "bad.csv:3: nhs_number") || !strings.Contains(stderr, "bad.csv:3: birth_date") || !strings.Contains(stderr, "nothing was imported") {
		t.Fatalf("bad file: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, "06/05/1950") || strings.Contains(stderr, "9434765871") {
		t.Errorf("stderr echoes patient data: %q", stderr)
	}
	code, stdout, stderr := runGPCM(t, nil, "receiver", "register", "import", "--data", data, good)
	if code != 0 || stdout != "imported 2 patients: 2 new, 0 updated, 0 unchanged\n" {
		t.Fatalf("good file: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = runGPCM(t, nil, "receiver", "register", "import", good, "--data", data)
	if code != 0 || stdout != "imported 2 patients: 0 new, 0 updated, 2 unchanged\n" {
		t.Fatalf("again (flags after FILE): exit %d, stdout %q", code, stdout)
	}
	for _, args := range [][]string{
		{"receiver", "register", "import", good},
		{"receiver", "register", "import", "--data", data},
		{"receiver", "register", "export", "--data", data, good},
		{"receiver", "register", "import", "--data", data, "--format", "pdf", good},
		{"receiver"},
		{"receiver", "--data", data},
	} {
		if code, _, stderr := runGPCM(t, nil, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, stderr)
		}
	}
	for _, args := range [][]string{
		{"receiver", "--data", data, "--workers", "0"},
		{"receiver", "--data", data, "--batch", "5000"},
	} {
		if code, _, stderr := runGPCM(t, nil, args...); code != 2 || !strings.Contains(stderr, "--workers must be 1..256 and --batch 1..1000") {
			t.Errorf("%v: exit %d, want 2 naming the limits (stderr %q)", args, code, stderr)
		}
	}
	code, stdout, _ = runGPCM(t, nil, "receiver", "--help")
	if code != 0 || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "127.0.0.1:8082") || !strings.Contains(stdout, "nhs_number,birth_date,family,given") || !strings.Contains(stdout, "GET /api/v1/register") {
		t.Fatalf("--help: exit %d, stdout %q", code, stdout)
	}
}

// TestReceiverStartContract runs "gpcm receiver --data DIR" with the MESH
// connection from the environment against a real MESH server, sends it a
// document and checks it is listed by the API and both acks reach the
// sender.
func TestReceiverStartContract(t *testing.T) {
	ms := meshtest.NewServer(t, meshtest.Options{})
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, ms.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "practice")
	in := senddoc.Example(senddoc.UseCaseConsultation, senddoc.GenerationV2)
	in.SenderMailbox, in.PDF = "X26ABC1", senddoc.ExamplePDF()
	reg := filepath.Join(dir, "register.csv")
	os.WriteFile(reg, []byte("nhs_number,birth_date,family,given\n"+in.Patient.NHSNumber+","+in.Patient.BirthDate+","+in.Patient.Family+","+in.Patient.Given[0]+"\n"), 0o600)
	if code, _, stderr := runGPCM(t, nil, "receiver", "register", "import", "--data", data, reg); code != 0 {
		t.Fatalf("register import: %s", stderr)
	}

	env := map[string]string{"MESH_URL": ms.URL, "MESH_MAILBOX": "X26ABC2", "MESH_PASSWORD": "password",
		"MESH_SHARED_KEY": ms.SharedKey, "MESH_CA": ca, "GPCM_LOG_LEVEL": "debug"}
	base, stderr, stop := startReceiver(t, env, "--data", data, "--listen", "127.0.0.1:0", "--poll", "50ms", "--ods", "X26", "--workers", "4", "--batch", "10")
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("ready line %q, want http://127.0.0.1:PORT", base)
	}
	tok, err := os.ReadFile(filepath.Join(data, "api-token"))
	if err != nil {
		t.Fatalf("api-token not created: %v", err)
	}

	sender, err := mesh.NewClient(mesh.Config{URL: ms.URL, Mailbox: "X26ABC1", Password: "password", SharedKey: ms.SharedKey, TLS: mesh.TLSConfig{RootCAs: ms.CertPool()}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := senddoc.Build(in, senddoc.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := b.XML()
	if _, err := sender.Send(t.Context(), mesh.SendRequest{To: "X26ABC2", WorkflowID: b.Envelope.WorkflowID, Subject: b.Envelope.Subject,
		LocalID: b.Envelope.LocalID, Body: bytes.NewReader(x), Size: int64(len(x))}); err != nil {
		t.Fatal(err)
	}

	// Wait (bounded) for the document and both acks.
	deadline := time.Now().Add(60 * time.Second)
	var docs []receiver.Document
	var acks []string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/api/v1/documents", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var l struct{ Documents []receiver.Document }
		json.NewDecoder(resp.Body).Decode(&l)
		resp.Body.Close()
		docs = l.Documents
		if acks, err = sender.Inbox(t.Context(), mesh.InboxOptions{WorkflowFilter: senddoc.WorkflowV2Ack}); err != nil {
			t.Fatal(err)
		}
		if len(docs) == 1 && len(acks) == 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(docs) != 1 || docs[0].State != receiver.DocAwaitingFiling || docs[0].HeaderID != b.HeaderID {
		t.Fatalf("documents: %+v; stderr %s", docs, stderr.String())
	}
	if len(acks) != 2 {
		t.Fatalf("acks in the sender inbox: %d, want 2; stderr %s", len(acks), stderr.String())
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if code := stop(); code != 0 {
		t.Fatalf("exit %d after stop; stderr %s", code, stderr.String())
	}
	if s := stderr.String(); strings.Contains(s, in.Patient.NHSNumber) || strings.Contains(s, in.Patient.Family) {
		t.Errorf("log carries patient data: %s", s)
	}
}

// Issue 18 §8: with --tls-cert/--tls-key the receiver's API is HTTPS
// (plain HTTP to it is refused); a --listen address other than loopback
// needs TLS or --insecure-listen.
func TestReceiverAPIOverTLS(t *testing.T) {
	ms := meshtest.NewServer(t, meshtest.Options{})
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, ms.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	apiCA, err := meshserver.NewCA("receiver API test CA")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, _, err := apiCA.Issue("receiver API", []net.IP{net.IPv4(127, 0, 0, 1)}, []string{"localhost"}, false)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "api.pem"), filepath.Join(dir, "api-key.pem")
	os.WriteFile(certFile, certPEM, 0o600)
	os.WriteFile(keyFile, keyPEM, 0o600)
	data := filepath.Join(dir, "practice")
	env := map[string]string{"MESH_URL": ms.URL, "MESH_MAILBOX": "X26ABC2", "MESH_PASSWORD": "password",
		"MESH_SHARED_KEY": ms.SharedKey, "MESH_CA": ca, "GPCM_RECEIVER_TOKEN": "api-token-for-the-test"}

	for _, tt := range []struct {
		name, want string
		args       []string
	}{
		{"all interfaces without TLS", "--listen 0.0.0.0:0 is not a loopback address", []string{"--listen", "0.0.0.0:0"}},
		{"a host name without TLS", "--tls-cert and --tls-key, or --insecure-listen", []string{"--listen", "receiver.example:8082"}},
		{"certificate without key", "--tls-cert and --tls-key go together", []string{"--tls-cert", certFile}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runGPCM(t, env, append([]string{"receiver", "--data", data}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}

	base, _, _ := startReceiver(t, env, "--data", data, "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile, "--poll", "1h")
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("ready line %q, want https://127.0.0.1:PORT", base)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: apiCA.Pool(), MinVersion: tls.VersionTLS12}}}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/api/v1/documents", nil)
	req.Header.Set("Authorization", "Bearer api-token-for-the-test")
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("API over TLS: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.TLS == nil || !strings.Contains(string(body), `"documents"`) {
		t.Fatalf("API over TLS: got %d %s (TLS %v)", res.StatusCode, body, res.TLS != nil)
	}
	plain, err := http.Get("http://" + strings.TrimPrefix(base, "https://") + "/healthz")
	if err == nil {
		plain.Body.Close()
		if plain.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP to the TLS API answered 200")
		}
	}
}
