package mesh_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gpcm/gpcm/mesh"
)

// Issue 23 §5: plain http:// is refused unless the host is loopback or
// AllowInsecureHTTP is set, so the NHSMESH token never crosses a network
// unencrypted by accident.
func TestInsecureHTTPRefused(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		allow   bool
		wantErr bool
	}{
		{"http to a remote host", "http://msg.intspineservices.nhs.uk", false, true},
		{"http to a remote IP", "http://10.1.2.3:8700", false, true},
		{"HTTP in capitals", "HTTP://mesh.example", false, true},
		{"http to a remote host allowed", "http://mesh.example:8700", true, false},
		{"http to 127.0.0.1", "http://127.0.0.1:8700", false, false},
		{"http to [::1]", "http://[::1]:8700", false, false},
		{"http to localhost", "http://localhost:8700", false, false},
		{"https to a remote host", "https://msg.intspineservices.nhs.uk", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mesh.NewClient(mesh.Config{URL: tt.url, Mailbox: "X26ABC1", Password: "p", SharedKey: "k", AllowInsecureHTTP: tt.allow})
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewClient(%s): got %v, want error %v", tt.url, err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "NHSMESH token would cross the network unencrypted") {
				t.Fatalf("error %q does not say why", err)
			}
		})
	}
}

// A server that redirects to plain http:// on another host does not get
// the token sent there: the redirect is refused before any request.
func TestInsecureHTTPRedirectRefused(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "http://mesh.invalid"+r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()
	for _, own := range []bool{false, true} {
		cfg := mesh.Config{URL: srv.URL, Mailbox: "X26ABC1", Password: "p", SharedKey: "k", Retry: mesh.NoRetry}
		if own {
			cfg.HTTPClient = srv.Client()
		} else {
			cfg.TLS.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
		}
		c, err := mesh.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Count(t.Context())
		if err == nil || !strings.Contains(err.Error(), `refused redirect to plain http:// host "mesh.invalid"`) {
			t.Fatalf("own HTTP client %v: got %v, want the redirect refused", own, err)
		}
	}
	if n := hits.Load(); n != 2 {
		t.Fatalf("server saw %d requests, want 2", n)
	}
}
