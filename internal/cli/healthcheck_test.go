package cli_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/meshtest"
)

func TestHealthcheck(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte("ok"))
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer plain.Close()
	mesh := meshtest.NewServer(t, meshtest.Options{})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, mesh.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/healthz"
	ln.Close()

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"2xx is healthy", []string{plain.URL + "/ok"}, 0, ""},
		{"5xx is unhealthy", []string{plain.URL + "/down"}, 1, "503 Service Unavailable"},
		{"a redirect is not followed", []string{plain.URL + "/redirect"}, 1, "302 Found"},
		{"nothing listening", []string{closed}, 1, "connection refused"},
		{"https with the server's CA", []string{"--ca", ca, mesh.URL + "/healthz"}, 0, ""},
		{"https without trusting the CA", []string{mesh.URL + "/healthz"}, 1, "certificate"},
		{"https, loopback, not verified", []string{"--insecure-skip-verify", mesh.URL + "/healthz"}, 0, ""},
		{"not verifying is for loopback only", []string{"--insecure-skip-verify", "https://example.org/healthz"}, 2, "loopback"},
		{"not a URL", []string{"localhost:8080"}, 2, "is not an http(s) URL"},
		{"no URL", nil, 2, "want one URL"},
		{"flags after the URL", []string{plain.URL + "/ok", "--timeout", "2s"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", append([]string{"healthcheck"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit: got %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tt.wantStderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}
