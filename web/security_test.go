package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcm/gpcm/web"
	"github.com/gpcm/gpcm/web/internal/htmlcheck"
)

// concrete turns a route pattern into a request path.
func concrete(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{id}", "doc-a1")
	path = strings.ReplaceAll(path, "{$}", "")
	return method, path
}

func TestEveryRouteNeedsLogin(t *testing.T) {
	env := MustServer(t, web.Config{})
	env.seed()
	noRedirect := env.newClient()
	noRedirect.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, rt := range env.srv.Routes() {
		t.Run(rt.Pattern, func(t *testing.T) {
			method, path := concrete(rt.Pattern)
			req, _ := http.NewRequestWithContext(t.Context(), method, env.ts.URL+path, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, body := noRedirect.do(req)
			switch {
			case method == http.MethodGet && path != "/events":
				if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
					t.Fatalf("got %d Location %q, want 303 to /login", res.StatusCode, res.Header.Get("Location"))
				}
			default:
				if res.StatusCode != http.StatusUnauthorized {
					t.Fatalf("got %d, want 401", res.StatusCode)
				}
			}
			if strings.Contains(body, "Alice") || strings.Contains(body, "9990000018") {
				t.Fatalf("anonymous response carries patient data: %q", body)
			}
		})
	}
}

func TestEveryPostNeedsCSRF(t *testing.T) {
	env := MustServer(t, web.Config{})
	env.seed()
	byRole := map[web.Role]*client{
		web.RolePractice: env.login("practice-a"),
		web.RoleSender:   env.login("sender"),
		web.RoleAdmin:    env.login("admin"),
	}
	var withToken []func()
	for _, rt := range env.srv.Routes() {
		method, path := concrete(rt.Pattern)
		if method != http.MethodPost {
			continue
		}
		path = strings.ReplaceAll(path, "/outbox/doc-a1", "/outbox/tx-2")
		for role, c := range byRole {
			admitted := rt.Roles == nil || slices.Contains(rt.Roles, role)
			for _, tc := range []struct {
				name  string
				token string
			}{{"missing", ""}, {"wrong", "not-the-token"}, {"other session's", byRole[web.RoleAdmin].csrf + "x"}} {
				t.Run(rt.Pattern+" "+string(role)+" "+tc.name, func(t *testing.T) {
					res, body := c.postForm(path, url.Values{"csrf_token": {tc.token}, "reason": {"x"}, "message": {"<x/>"}})
					if res.StatusCode != http.StatusForbidden {
						t.Fatalf("got %d, want 403", res.StatusCode)
					}
					if admitted && !strings.Contains(body, "Your form has expired") {
						t.Fatalf("role %s may use %s, so the refusal must be the CSRF check", role, rt.Pattern)
					}
				})
			}
			if admitted && rt.Pattern != "POST /logout" {
				withToken = append(withToken, func() {
					// The same request with the session's token is not refused.
					t.Run(rt.Pattern+" "+string(role)+" with token", func(t *testing.T) {
						c.get("/validator") // refresh c.csrf
						res, _ := c.postForm(path, url.Values{"reason": {"x"}, "message": {"<x/>"}})
						if res.StatusCode == http.StatusForbidden {
							t.Fatalf("with the session's token: got 403")
						}
					})
				})
			}
		}
	}
	// Nothing changed.
	d, err := env.inbox.GetDocument(t.Context(), "A11111", "doc-a1")
	if err != nil || d.State != web.StateAwaitingFiling {
		t.Fatalf("doc-a1 after refused posts: %v %s, want awaiting-filing", err, d.State)
	}
	for _, f := range withToken {
		f()
	}
	t.Run("login", func(t *testing.T) {
		c := env.newClient()
		c.get("/login")
		res, _ := c.postForm("/login", url.Values{"username": {"admin"}, "password": {testPassword}, "csrf_token": {"forged"}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("login with a forged token: got %d, want 403", res.StatusCode)
		}
		fresh := env.newClient()
		res, _ = fresh.postForm("/login", url.Values{"username": {"admin"}, "password": {testPassword}, "csrf_token": {"x"}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("login without a session: got %d, want 403", res.StatusCode)
		}
	})
}

func TestRoleChecks(t *testing.T) {
	env := MustServer(t, web.Config{})
	env.seed()
	tests := []struct {
		name, user, path string
		want             int
	}{
		{"practice on inbox", "practice-a", "/inbox", 200},
		{"practice on outbox", "practice-a", "/outbox", 403},
		{"practice on mesh", "practice-a", "/mesh", 403},
		{"sender on inbox", "sender", "/inbox", 403},
		{"sender on document", "sender", "/inbox/doc-a1", 403},
		{"sender on outbox", "sender", "/outbox", 200},
		{"admin on inbox", "admin", "/inbox", 403},
		{"admin on outbox", "admin", "/outbox/tx-1", 403},
		{"everyone validates", "sender", "/validator", 200},
	}
	clients := map[string]*client{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := clients[tt.user]
			if !ok {
				c = env.login(tt.user)
				clients[tt.user] = c
			}
			res, body := c.get(tt.path)
			if res.StatusCode != tt.want {
				t.Fatalf("got %d, want %d", res.StatusCode, tt.want)
			}
			if tt.want == 403 && (strings.Contains(body, "Alice") || strings.Contains(body, "tx-1")) {
				t.Fatalf("refused page leaks data")
			}
		})
	}
}

func TestPracticeSeesOnlyItsDocuments(t *testing.T) {
	env := MustServer(t, web.Config{})
	env.seed()
	a := env.login("practice-a")
	_, body := a.get("/inbox?state=all")
	mustHTML(t, body,
		htmlcheck.Count(2, "#document-table tbody tr"),
		htmlcheck.In("#document-table", htmlcheck.HasText("Alice ALPHA")),
	)
	if strings.Contains(body, "BRAVO-SECRET") {
		t.Fatal("practice A's inbox lists practice B's patient")
	}
	for _, path := range []string{"/inbox/doc-b1", "/inbox/doc-b1/pdf"} {
		res, body := a.get(path)
		if res.StatusCode != http.StatusNotFound || strings.Contains(body, "BRAVO") {
			t.Errorf("GET %s as practice A: got %d, want 404 without patient data", path, res.StatusCode)
		}
	}
	for _, act := range []string{"file", "reject", "match"} {
		res, _ := a.postForm("/inbox/doc-b1/"+act, url.Values{"reason": {"not ours"}, "nhs_number": {"9990000034"}})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s on practice B's document: got %d, want 404", act, res.StatusCode)
		}
	}
	if d, _ := env.inbox.GetDocument(t.Context(), "B22222", "doc-b1"); d.State != web.StateAwaitingFiling {
		t.Fatalf("practice B's document changed to %s", d.State)
	}
	// A sender sees only its own transmissions and alerts.
	s := env.login("sender")
	_, body = s.get("/outbox")
	if strings.Contains(body, "tx-other") || strings.Contains(body, "Other organisation") {
		t.Fatal("sender dashboard shows another organisation's transmission")
	}
	if res, _ := s.get("/outbox/tx-other"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another organisation's transmission: got %d, want 404", res.StatusCode)
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	env := MustServer(t, web.Config{})
	env.seed()
	pages := map[string][]string{
		"":           {"/login", "/nowhere"},
		"practice-a": {"/inbox", "/inbox?state=all", "/inbox/doc-a1", "/inbox/doc-a2", "/validator"},
		"sender":     {"/outbox", "/outbox/tx-2"},
		"admin":      {"/validator"},
	}
	for user, paths := range pages {
		c := env.newClient()
		if user != "" {
			c = env.login(user)
		}
		for _, p := range paths {
			t.Run(user+p, func(t *testing.T) {
				res, body := c.get(p)
				if got := res.Header.Get("Content-Security-Policy"); got != web.ContentSecurityPolicy {
					t.Fatalf("CSP = %q, want %q", got, web.ContentSecurityPolicy)
				}
				for _, directive := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
					if !strings.Contains(web.ContentSecurityPolicy, directive) {
						t.Fatalf("CSP lacks %s", directive)
					}
				}
				if strings.Contains(web.ContentSecurityPolicy, "unsafe-") {
					t.Fatal("CSP allows unsafe-*")
				}
				doc, err := htmlcheck.Parse(strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range htmlcheck.MustSelector("script").All(doc) {
					if src, ok := htmlcheck.Attr(s, "src"); !ok || src == "" || htmlcheck.Text(s) != "" {
						t.Errorf("inline script on %s", p)
					}
				}
				if n := htmlcheck.MustSelector("style").First(doc); n != nil {
					t.Errorf("inline <style> on %s", p)
				}
				for _, n := range htmlcheck.MustSelector("*").All(doc) {
					for _, a := range n.Attr {
						if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
							t.Errorf("<%s %s=…> on %s is blocked by the CSP", n.Data, a.Key, p)
						}
						if (a.Key == "href" || a.Key == "src" || a.Key == "action") && strings.HasPrefix(strings.ToLower(a.Val), "javascript:") {
							t.Errorf("javascript: URL on %s", p)
						}
					}
				}
				if res.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Error("missing X-Content-Type-Options")
				}
			})
		}
	}
}

func TestBadLogin(t *testing.T) {
	env := MustServer(t, web.Config{})
	for _, tc := range []struct{ name, user, pass string }{
		{"wrong password", "admin", "nope"},
		{"unknown user", "nobody", testPassword},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := env.newClient()
			c.get("/login")
			res, body := c.postForm("/login", url.Values{"username": {tc.user}, "password": {tc.pass}})
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("got %d, want 401", res.StatusCode)
			}
			mustHTML(t, body,
				htmlcheck.In(".nhsuk-error-summary", htmlcheck.HasText("Enter a correct username and password")),
				htmlcheck.In(`a[href="#username"]`),
			)
			if r, _ := c.get("/validator"); r.Request.URL.Path != "/login" {
				t.Fatal("failed login gave access")
			}
		})
	}
}

func TestLogoutEndsSession(t *testing.T) {
	env := MustServer(t, web.Config{})
	c := env.login("admin")
	res, _ := c.postForm("/logout", url.Values{})
	if res.Request.URL.Path != "/login" {
		t.Fatalf("after logout at %s, want /login", res.Request.URL.Path)
	}
	if res, _ := c.get("/validator"); res.Request.URL.Path != "/login" {
		t.Fatal("session still valid after logout")
	}
}

func TestSessionExpires(t *testing.T) {
	var offset atomic.Int64
	env := MustServer(t, web.Config{Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }, SessionTTL: time.Hour})
	c := env.login("admin")
	if res, _ := c.get("/validator"); res.Request.URL.Path != "/validator" {
		t.Fatal("fresh session refused")
	}
	offset.Store(int64(time.Hour + time.Second))
	if res, _ := c.get("/validator"); res.Request.URL.Path != "/login" {
		t.Fatal("expired session still accepted")
	}
}

func findCookie(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func newTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	return ts
}
