package cli_test

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// Issue 18 §4: gpcm serve --secure-cookies (for a TLS proxy in front) marks
// every cookie Secure with the __Host- prefix and sends
// Strict-Transport-Security with every response; it is on by default when
// --listen is not a loopback address.
func TestServeSecureCookies(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct {
		name   string
		args   []string
		secure bool
	}{
		{"loopback default", nil, false},
		{"--secure-cookies", []string{"--secure-cookies"}, true},
		{"non-loopback default", []string{"--listen", "0.0.0.0:0"}, true},
		{"non-loopback turned off", []string{"--listen", "0.0.0.0:0", "--secure-cookies=false"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startServe(t, data, append([]string{"--demo=false"}, tc.args...)...)
			defer p.shutdown(t)
			for _, path := range []string{"/login", "/nowhere", "/inbox"} {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+path, nil)
				res, err := (&http.Transport{}).RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if got := res.Header.Get("Strict-Transport-Security"); (got != "") != tc.secure {
					t.Errorf("GET %s: Strict-Transport-Security %q, want set %v", path, got, tc.secure)
				}
				if path != "/login" {
					continue
				}
				cookies := res.Cookies()
				if len(cookies) == 0 {
					t.Fatal("the login page set no cookie")
				}
				for _, c := range cookies {
					if c.Secure != tc.secure || strings.HasPrefix(c.Name, "__Host-") != tc.secure || !c.HttpOnly {
						t.Errorf("cookie %s Secure=%v HttpOnly=%v, want Secure and __Host- %v", c.Name, c.Secure, c.HttpOnly, tc.secure)
					}
				}
			}
		})
	}
}

// Issue 18 §3: two gpcm serve processes on one PostgreSQL schema share the
// signed-in sessions (and the login form: its cookie key is in serve.json).
func TestServePostgresSharedSessions(t *testing.T) {
	pgURL := pgstoretest.URL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "gpcmserve_" + hex.EncodeToString(b[:])
	t.Cleanup(func() { _ = pgstore.DropSchema(t.Context(), pgURL, schema) })
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--demo=false", "--postgres", pgURL, "--postgres-schema", schema}
	a := startServe(t, data, args...)
	pw := a.passwords(t)
	bproc := startServe(t, data, args...)

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	// The form comes from one process and is posted to the other.
	m := csrfRE.FindStringSubmatch(get(t, c, a.url+"/login", http.StatusOK))
	if m == nil {
		t.Fatal("login form has no csrf_token")
	}
	res, err := c.PostForm(bproc.url+"/login", url.Values{"username": {"admin"}, "password": {pw["admin"]}, "csrf_token": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || strings.Contains(string(body), `name="password"`) {
		t.Fatalf("login form of A posted to B: status %d, still on the login form", res.StatusCode)
	}
	for _, p := range []*serveProc{a, bproc} {
		if out := get(t, c, p.url+"/mesh", http.StatusOK); !strings.Contains(out, "X26ABC1") {
			t.Fatalf("%s: the shared session does not reach the MESH admin page", p.url)
		}
	}
	// Signed out on B, the session is gone on A too.
	m = csrfRE.FindStringSubmatch(get(t, c, bproc.url+"/mesh", http.StatusOK))
	if m == nil {
		t.Fatal("no CSRF token on the MESH admin page")
	}
	res, err = c.PostForm(bproc.url+"/logout", url.Values{"csrf_token": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if out := get(t, c, a.url+"/mesh", http.StatusOK); !strings.Contains(out, `name="password"`) {
		t.Fatal("A still accepts the session ended on B")
	}
}
