package meshserver_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/meshtest"
)

// Issue 18 §5: with a client CA, every route but /healthz needs a verified
// client certificate; without one the answer is the MESH 403.
func TestClientCertEveryRoute(t *testing.T) {
	srv := newServer(t, meshtest.Options{MutualTLS: true})
	// A certificate of the CA that names no mailbox is enough for the
	// routes that are not a mailbox's.
	other := srv.ClientCert(t, "monitoring")
	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool(),
		Certificates: []tls.Certificate{other}, MinVersion: tls.VersionTLS12}}}
	// A certificate from another CA is presented but not verified.
	stranger, err := meshserver.NewCA("not the client CA")
	if err != nil {
		t.Fatal(err)
	}
	_, _, foreign, err := stranger.Issue("X26ABC1", nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	foreignCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool(),
		Certificates: []tls.Certificate{foreign}, MinVersion: tls.VersionTLS12}}}
	call := func(hc *http.Client, method, path, auth string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
		req.Header.Set("Accept", v2)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	bearer := func(tok string) func() string { return func() string { return "Bearer " + tok } }
	nhsmesh := func() string { return token("X26ABC1", "password", srv.SharedKey, time.Now()) }
	tests := []struct {
		name, method, path string
		auth               func() string
		// want is the status with a verified certificate of the CA.
		want int
	}{
		{"E10 endpoint lookup", "GET", "/messageexchange/endpointlookup/X26/WF", nil, http.StatusOK},
		{"E11 workflow search", "GET", "/messageexchange/workflowsearch/WF", nil, http.StatusOK},
		{"ping", "GET", "/messageexchange/_ping", nil, http.StatusOK},
		{"health alias", "GET", "/health", nil, http.StatusOK},
		{"metrics", "GET", "/metrics", nil, http.StatusOK},
		{"admin API", "GET", "/admin/mailboxes", bearer(srv.AdminToken), http.StatusOK},
		{"admin API with a wrong token", "GET", "/admin/mailboxes", bearer("wrong"), http.StatusUnauthorized},
		// The mailbox routes want the certificate to name the mailbox too.
		{"E2 inbox with a certificate of no mailbox", "GET", "/messageexchange/X26ABC1/inbox", nhsmesh, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := func() string { return "" }
			if tt.auth != nil {
				auth = tt.auth
			}
			if code, body := call(srv.Client(), tt.method, tt.path, auth()); code != http.StatusForbidden || !strings.Contains(body, "Invalid Authentication Token") {
				t.Errorf("without a client certificate: got %d %s, want the MESH 403", code, body)
			}
			if code, _ := call(foreignCert, tt.method, tt.path, auth()); code != http.StatusForbidden {
				t.Errorf("with a certificate of another CA: got %d, want 403", code)
			}
			if code, body := call(withCert, tt.method, tt.path, auth()); code != tt.want {
				t.Errorf("with a verified certificate: got %d %s, want %d", code, body, tt.want)
			}
		})
	}
	// /healthz stays open for load balancers.
	if code, _ := call(srv.Client(), "GET", "/healthz", ""); code != http.StatusOK {
		t.Fatalf("/healthz without a client certificate: got %d, want 200", code)
	}
	// The refusals are counted as authentication failures.
	if _, body := call(withCert, "GET", "/metrics", ""); !strings.Contains(body, "gpcm_mesh_auth_failures_total") {
		t.Fatalf("metrics: no auth failure counter in %s", body)
	}
}

// Issue 18 §5: an admin token shorter than 32 bytes is refused at start.
func TestAdminTokenLength(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	tests := []struct {
		name    string
		token   string
		wantErr bool
	}{
		{"none: admin API off", "", false},
		{"one byte", "x", true},
		{"31 bytes", strings.Repeat("a", 31), true},
		{"32 bytes", strings.Repeat("a", 32), false},
		{"64 hex digits", strings.Repeat("0f", 32), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := meshserver.New(meshserver.Config{Store: srv.Store, Blobs: srv.Blobs, SharedKey: "k", AdminToken: tt.token})
			if (err != nil) != tt.wantErr {
				t.Fatalf("New: got error %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "at least 32") {
				t.Fatalf("error %q does not say how long a token must be", err)
			}
		})
	}
}
