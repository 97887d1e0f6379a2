package cli_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/internal/cli"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshtest"
	"software.sslmate.com/src/go-pkcs12"
)

// meshEnv starts a MESH server with mutual TLS and returns a getenv for
// mailbox with certificate files in a temp dir.
func meshEnv(t *testing.T, srv *meshtest.Server, mailbox string) func(string) string {
	t.Helper()
	dir := t.TempDir()
	certPEM, keyPEM := srv.ClientCertPEM(t, mailbox)
	files := map[string][]byte{"ca.pem": srv.CACertPEM, "cert.pem": certPEM, "key.pem": keyPEM}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	vars := map[string]string{
		"MESH_URL": srv.URL, "MESH_MAILBOX": mailbox, "MESH_PASSWORD": "password", "MESH_SHARED_KEY": srv.SharedKey,
		"MESH_CERT": filepath.Join(dir, "cert.pem"), "MESH_KEY": filepath.Join(dir, "key.pem"), "MESH_CA": filepath.Join(dir, "ca.pem"),
	}
	return func(k string) string { return vars[k] }
}

func runWith(t *testing.T, getenv func(string) string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: getenv}
	code := cli.Main(t.Context(), env, args)
	if strings.Contains(errb.String(), "goroutine ") {
		t.Errorf("stack trace on stderr: %s", errb.String())
	}
	return code, out.String(), errb.String()
}

func TestMeshCLIRoundTrip(t *testing.T) {
	srv := meshtest.NewServer(t, meshtest.Options{MutualTLS: true})
	a := meshEnv(t, srv, "X26ABC1")
	b := meshEnv(t, srv, "X26ABC2")
	dir := t.TempDir()

	if code, out, errs := runWith(t, a, "", "mesh", "handshake"); code != 0 || !strings.Contains(out, "X26ABC1: handshake ok") {
		t.Fatalf("handshake: %d %q %q", code, out, errs)
	}
	in := filepath.Join(dir, "in.xml")
	payload := bytes.Repeat([]byte("<Bundle/>\n"), 50_000) // 500 KB, 3 chunks of 200 KB
	if err := os.WriteFile(in, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runWith(t, a, "", "mesh", "send", "--to", "X26ABC2", "--workflow", "GPCONNECT_SEND_DOCUMENT",
		"--local-id", "cli-1", "--subject", "s", "--compress", "--chunk-size", "200KB", "--content-type", "application/fhir+xml", in)
	if code != 0 {
		t.Fatalf("send: %d %q", code, errs)
	}
	id := strings.TrimSpace(out)
	code, out, errs = runWith(t, a, "from stdin", "mesh", "send", "--to", "X26ABC2", "--workflow", "OTHER", "--json", "-")
	var sent struct {
		MessageID string `json:"message_id"`
		Chunks    int    `json:"chunks"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &sent) != nil || sent.MessageID == "" {
		t.Fatalf("send stdin: %d %q %q", code, out, errs)
	}

	if code, out, _ := runWith(t, b, "", "mesh", "inbox"); code != 0 || out != id+"\n"+sent.MessageID+"\n" {
		t.Errorf("inbox: %d %q", code, out)
	}
	if code, out, _ := runWith(t, b, "", "mesh", "inbox", "--all", "--workflow", "GPCONNECT_SEND_DOCUMENT"); code != 0 || out != id+"\n" {
		t.Errorf("inbox filtered: %d %q", code, out)
	}
	if code, out, _ := runWith(t, b, "", "mesh", "count"); code != 0 || out != "2\n" {
		t.Errorf("count: %d %q", code, out)
	}
	if code, out, _ := runWith(t, a, "", "mesh", "track", id); code != 0 || !strings.Contains(out, "status: accepted") {
		t.Errorf("track: %d %q", code, out)
	} else {
		// gpcm mesh-server sends the v2 schema's date-time.
		_, ts, _ := strings.Cut(out, "status_timestamp: ")
		ts, _, _ = strings.Cut(ts, "\n")
		if _, err := mesh.ParseTimestamp(ts); err != nil || !strings.HasSuffix(ts, "Z") {
			t.Errorf("track: status_timestamp %q is not a date-time (%v)", ts, err)
		}
	}
	// Flags after the ID are accepted.
	got := filepath.Join(dir, "got.xml")
	code, out, errs = runWith(t, b, "", "mesh", "get", id, "-o", got, "--ack", "--json")
	if code != 0 {
		t.Fatalf("get: %d %q", code, errs)
	}
	var meta struct {
		Chunks       int    `json:"chunks"`
		Acknowledged bool   `json:"acknowledged"`
		ContentType  string `json:"content_type"`
	}
	if err := json.Unmarshal([]byte(out), &meta); err != nil || meta.Chunks != 3 || !meta.Acknowledged || meta.ContentType != "application/fhir+xml" {
		t.Errorf("get json: %q %v", out, err)
	}
	if b, _ := os.ReadFile(got); !bytes.Equal(b, payload) {
		t.Errorf("downloaded body differs")
	}
	if code, out, _ := runWith(t, b, "", "mesh", "get", sent.MessageID); code != 0 || out != "from stdin" {
		t.Errorf("get stdout: %d %q", code, out)
	}
	if code, _, errs := runWith(t, b, "", "mesh", "ack", sent.MessageID); code != 0 {
		t.Errorf("ack: %d %q", code, errs)
	}
	if code, out, _ := runWith(t, b, "", "mesh", "inbox", "--json"); code != 0 || !strings.Contains(out, `"messages": []`) {
		t.Errorf("inbox json after ack: %d %q", code, out)
	}
	if code, out, _ := runWith(t, a, "", "mesh", "lookup", "X26", "GPCONNECT_SEND_DOCUMENT"); code != 0 || !strings.Contains(out, "X26ABC2\t") {
		t.Errorf("lookup: %d %q", code, out)
	}
	if code, out, _ := runWith(t, a, "", "mesh", "workflows", "GPCONNECT_SEND_DOCUMENT", "--json"); code != 0 || !strings.Contains(out, `"results"`) {
		t.Errorf("workflows: %d %q", code, out)
	}
	// 702: an unknown recipient is a one-line MESH error.
	code, _, errs = runWith(t, a, "", "mesh", "send", "--to", "NOSUCHBOX", "--workflow", "WF", in)
	if code != 1 || !strings.Contains(errs, "417") || strings.Count(errs, "\n") != 1 {
		t.Errorf("send to unknown: %d %q", code, errs)
	}
	// 704
	code, _, errs = runWith(t, b, "", "mesh", "get", "20200601122152994285_D59900")
	if code != 1 || !strings.Contains(errs, "404") {
		t.Errorf("get unknown: %d %q", code, errs)
	}
}

func TestMeshCLIErrors(t *testing.T) {
	unreachable := func(k string) string {
		return map[string]string{"MESH_URL": "https://127.0.0.1:1", "MESH_MAILBOX": "X26ABC1", "MESH_PASSWORD": "p", "MESH_SHARED_KEY": "k"}[k]
	}
	cfgFile := filepath.Join(t.TempDir(), "mesh.env")
	if err := os.WriteFile(cfgFile, []byte("# test\nMESH_URL=https://127.0.0.1:1\nMESH_MAILBOX=x26abc1\nMESH_PASSWORD='p'\nMESH_SHARED_KEY=\"k\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		getenv   func(string) string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "no subcommand", args: []string{"mesh"}, wantCode: 2, wantErr: "Subcommands:"},
		{name: "unknown subcommand", args: []string{"mesh", "frob"}, wantCode: 2, wantErr: `unknown subcommand "frob"`},
		{name: "bad flag", args: []string{"mesh", "inbox", "--nope"}, wantCode: 2, wantErr: "Try: gpcm mesh inbox --help"},
		{name: "send without to", args: []string{"mesh", "send", "--workflow", "W", "f"}, wantCode: 2, wantErr: "--to and --workflow are required"},
		{name: "send two files", args: []string{"mesh", "send", "--to", "A", "--workflow", "W", "f", "g"}, wantCode: 2, wantErr: "want one FILE"},
		{name: "bad chunk size", args: []string{"mesh", "send", "--to", "A", "--workflow", "W", "--chunk-size", "200MB", "f"}, wantCode: 2, wantErr: "--chunk-size"},
		{name: "bad filter", args: []string{"mesh", "inbox", "--workflow", "A*B"}, wantCode: 2, wantErr: "--workflow"},
		{name: "missing connection", args: []string{"mesh", "count"}, wantCode: 1, wantErr: "MESH_URL (--url)"},
		{name: "unreachable server", getenv: unreachable, args: []string{"mesh", "count", "--retries", "0"}, wantCode: 1, wantErr: "connection refused"},
		{name: "config file", args: []string{"mesh", "handshake", "--retries", "0", "--mesh-config", cfgFile}, wantCode: 1, wantErr: "connection refused"},
		{name: "missing config file", args: []string{"mesh", "count", "--mesh-config", "/nonexistent/mesh.env"}, wantCode: 1, wantErr: "MESH config file"},
		{name: "insecure refused off loopback", args: []string{"mesh", "count", "--url", "https://example.org", "--mailbox", "A", "--password", "p", "--shared-key", "k", "--insecure-skip-verify"}, wantCode: 1, wantErr: "only allowed for loopback"},
		{name: "get json needs -o", args: []string{"mesh", "get", "X_1", "--json"}, wantCode: 2, wantErr: "needs -o FILE"},
		{name: "bad message id", args: []string{"mesh", "ack", "../x"}, wantCode: 2, wantErr: "not a message ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := tt.getenv
			if getenv == nil {
				getenv = func(string) string { return "" }
			}
			code, _, errs := runWith(t, getenv, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(errs, tt.wantErr) {
				t.Errorf("got %d %q, want %d and %q", code, errs, tt.wantCode, tt.wantErr)
			}
			if tt.wantCode == 1 && strings.Count(strings.TrimSpace(errs), "\n") > 0 && !strings.Contains(errs, "level=") {
				t.Errorf("error is not one line: %q", errs)
			}
		})
	}
}

func TestMeshSubcommandHelp(t *testing.T) {
	for _, sub := range []string{"handshake", "send", "inbox", "get", "ack", "count", "track", "lookup", "workflows"} {
		t.Run(sub, func(t *testing.T) {
			code, out, _ := runWith(t, nil, "", "mesh", sub, "--help")
			if code != 0 || !strings.Contains(out, "Examples:\n  gpcm mesh "+sub) || !strings.Contains(out, "MESH_URL") {
				t.Errorf("got %d %q", code, out)
			}
		})
	}
}

// Issue 23 §5: gpcm mesh refuses a plain http:// URL to a host other than
// loopback unless --allow-insecure-http (or MESH_ALLOW_INSECURE_HTTP=1,
// also in the --mesh-config file) permits it.
func TestMeshInsecureHTTP(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "mesh.env")
	if err := os.WriteFile(conf, []byte("MESH_ALLOW_INSECURE_HTTP=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"MESH_URL": "http://mesh.invalid:8700", "MESH_MAILBOX": "X26ABC1", "MESH_PASSWORD": "password", "MESH_SHARED_KEY": "TestKey"}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		refused bool
	}{
		{"refused by default", nil, nil, true},
		{"--allow-insecure-http", nil, []string{"--allow-insecure-http"}, false},
		{"MESH_ALLOW_INSECURE_HTTP=1", map[string]string{"MESH_ALLOW_INSECURE_HTTP": "1"}, nil, false},
		{"config file", map[string]string{"MESH_CONFIG": conf}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := maps.Clone(base)
			maps.Copy(vars, tt.env)
			code, _, stderr := runWith(t, func(k string) string { return vars[k] }, "", append([]string{"mesh", "count", "--retries", "0"}, tt.args...)...)
			if code == 0 {
				t.Fatalf("count against mesh.invalid succeeded: %q", stderr)
			}
			if got := strings.Contains(stderr, "NHSMESH token would cross the network unencrypted"); got != tt.refused {
				t.Fatalf("refused %v, want %v (stderr %q)", got, tt.refused, stderr)
			}
			if !tt.refused && !strings.Contains(stderr, "not encrypted") {
				t.Fatalf("no warning on stderr: %q", stderr)
			}
		})
	}
}

// TestMeshClientCertificateForms connects to a mutual-TLS server with the
// client certificate in each form a deployment may hand it over in.
func TestMeshClientCertificateForms(t *testing.T) {
	srv := meshtest.NewServer(t, meshtest.Options{MutualTLS: true})
	const mb = "X26ABC1"
	dir := t.TempDir()
	certPEM, keyPEM := srv.ClientCertPEM(t, mb)
	tc := srv.ClientCert(t, mb)
	leaf, err := x509.ParseCertificate(tc.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	p12, err := pkcs12.Modern.Encode(tc.PrivateKey, leaf, []*x509.Certificate{srv.CA.Cert}, "pfx pass")
	if err != nil {
		t.Fatal(err)
	}
	file := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certFile, keyFile, p12File := file("cert.pem", certPEM), file("key.pem", keyPEM), file("client.p12", p12)
	caFile, pwFile := file("ca.pem", srv.CACertPEM), file("p12-password", []byte("pfx pass\n"))
	opensslP12 := ""
	if bin, err := exec.LookPath("openssl"); err == nil {
		opensslP12 = filepath.Join(dir, "openssl.pfx")
		out, err := exec.Command(bin, "pkcs12", "-export", "-in", certFile, "-inkey", keyFile, "-passout", "pass:pfx pass", "-out", opensslP12).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl pkcs12 -export: %v\n%s", err, out)
		}
	}
	conf := file("mesh.env", []byte("MESH_PKCS12="+p12File+"\nMESH_PKCS12_PASSWORD='pfx pass'\nMESH_CA_PEM="+
		base64.StdEncoding.EncodeToString(srv.CACertPEM)+"\n"))
	base := map[string]string{"MESH_URL": srv.URL, "MESH_MAILBOX": mb, "MESH_PASSWORD": "password", "MESH_SHARED_KEY": srv.SharedKey, "MESH_CA": caFile}
	type row struct {
		name     string
		vars     map[string]string
		args     []string
		wantCode int
		wantErr  string
	}
	tests := []row{
		{"PEM files", map[string]string{"MESH_CERT": certFile, "MESH_KEY": keyFile}, nil, 0, ""},
		{"inline PEM", map[string]string{"MESH_CERT_PEM": string(certPEM), "MESH_KEY_PEM": string(keyPEM)}, nil, 0, ""},
		{"inline base64 PEM", map[string]string{"MESH_CERT_PEM": base64.StdEncoding.EncodeToString(certPEM),
			"MESH_KEY_PEM": base64.StdEncoding.EncodeToString(keyPEM)}, nil, 0, ""},
		{"PEM through _FILE variables", map[string]string{"MESH_CERT_PEM_FILE": certFile, "MESH_KEY_PEM_FILE": keyFile}, nil, 0, ""},
		{"PKCS#12 with password", map[string]string{"MESH_PKCS12": p12File, "MESH_PKCS12_PASSWORD": "pfx pass"}, nil, 0, ""},
		{"PKCS#12 with password file", map[string]string{"MESH_PKCS12": p12File, "MESH_PKCS12_PASSWORD_FILE": pwFile}, nil, 0, ""},
		{"PKCS#12 flags", nil, []string{"--pkcs12", p12File, "--pkcs12-password", "pfx pass"}, 0, ""},
		{"PKCS#12 and inline CA from the config file", map[string]string{"MESH_CONFIG": conf, "MESH_CA": ""}, nil, 0, ""},
		{"wrong PKCS#12 password", map[string]string{"MESH_PKCS12": p12File, "MESH_PKCS12_PASSWORD": "nope"}, nil, 1, "wrong password"},
		{"two forms", map[string]string{"MESH_PKCS12": p12File, "MESH_CERT": certFile, "MESH_KEY": keyFile}, nil, 1, "more than one form"},
		{"no certificate", nil, nil, 1, "403"},
	}
	if opensslP12 != "" {
		tests = append(tests, row{"PKCS#12 written by openssl", map[string]string{"MESH_PKCS12": opensslP12, "MESH_PKCS12_PASSWORD": "pfx pass"}, nil, 0, ""})
	} else if os.Getenv("GPCM_TEST_STRICT") == "1" {
		t.Error("openssl not found (GPCM_TEST_STRICT=1): the PKCS#12 of another writer is not checked")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{}
			for k, v := range base {
				vars[k] = v
			}
			for k, v := range tt.vars {
				vars[k] = v
			}
			args := append([]string{"mesh", "handshake"}, tt.args...)
			code, out, errs := runWith(t, func(k string) string { return vars[k] }, "", args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tt.wantCode, out, errs)
			}
			if code == 0 && !strings.Contains(out, "handshake ok") {
				t.Errorf("stdout %q", out)
			}
			if !strings.Contains(errs, tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errs, tt.wantErr)
			}
			if strings.Contains(errs, "pfx pass") {
				t.Errorf("stderr shows the PKCS#12 password: %q", errs)
			}
		})
	}
}

// gpcm mesh track prints the tracking timestamps as the server sent them,
// in either form a server may use (digest §10.1): the v2 schema's
// date-time, as gpcm mesh-server sends it, or yyyyMMddHHmmss, as older
// servers do. The answers are recorded ones, served as such a server would.
func TestMeshTrackTimestampForms(t *testing.T) {
	const id = "20261204182302707176_E0D988"
	for _, tt := range []struct{ name, upload, status, expiry string }{
		{"MESH-10.1 date-time", "2026-12-04T18:23:02Z", "2026-12-04T18:25:10Z", "2026-12-09T18:23:02Z"},
		{"MESH-10.1 yyyyMMddHHmmss (older servers)", "20261204182302", "20261204182510", "20261209182302"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/messageexchange/X26ABC1/outbox/tracking" || r.URL.Query().Get("messageID") != id {
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/vnd.mesh.v2+json")
				fmt.Fprintf(w, `{"message_id":%q,"status":"acknowledged","recipient":"X26ABC2","workflow_id":"WF","upload_timestamp":%q,"status_timestamp":%q,"expiry_time":%q,"status_success":true,"status_code":"00"}`,
					id, tt.upload, tt.status, tt.expiry)
			}))
			defer srv.Close()
			env := map[string]string{"MESH_URL": srv.URL, "MESH_MAILBOX": "X26ABC1", "MESH_PASSWORD": "password", "MESH_SHARED_KEY": "TestKey"}
			get := func(k string) string { return env[k] }
			code, out, errs := runWith(t, get, "", "mesh", "track", id)
			if code != 0 {
				t.Fatalf("track: %d %q", code, errs)
			}
			for _, want := range []string{"status: acknowledged", "upload_timestamp: " + tt.upload, "status_timestamp: " + tt.status, "expiry_time: " + tt.expiry} {
				if !strings.Contains(out, want+"\n") {
					t.Errorf("track output %q lacks %q", out, want)
				}
			}
			code, out, errs = runWith(t, get, "", "mesh", "track", id, "--json")
			var tr mesh.Tracking
			if code != 0 || json.Unmarshal([]byte(out), &tr) != nil || tr.StatusTimestamp != tt.status {
				t.Fatalf("track --json: %d %q %q", code, out, errs)
			}
			for _, s := range []string{tr.UploadTimestamp, tr.StatusTimestamp, tr.ExpiryTime} {
				if _, err := mesh.ParseTimestamp(s); err != nil {
					t.Error(err)
				}
			}
		})
	}
}
