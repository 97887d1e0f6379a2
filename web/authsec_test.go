package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gpcm/gpcm/web"
	"github.com/gpcm/gpcm/web/internal/htmlcheck"
)

// noRedirect makes c stop at redirects so that tests see Location.
func (c *client) noRedirect() *client {
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// Issue 18 §1: only a same-site path survives as the post-login redirect.
func TestSafeRedirectAfterLogin(t *testing.T) {
	env := MustServer(t, web.Config{})
	for _, tc := range []struct{ name, next, want string }{
		{"plain path", "/inbox?state=all", "/inbox?state=all"},
		{"path with escapes", "/inbox/doc%2D1", "/inbox/doc%2D1"},
		{"fragment dropped", "/outbox#top", "/outbox"},
		{"empty", "", "/"},
		{"TAB after slash", "/\t/evil.example", "/"},
		{"encoded TAB", "/%09/evil.example", "/"},
		{"LF", "/\n/evil.example", "/"},
		{"encoded CR LF", "/%0d%0aSet-Cookie:x=1", "/"},
		{"NUL", "/\x00/evil.example", "/"},
		{"DEL", "/\x7f/evil.example", "/"},
		{"protocol-relative", "//evil.example/", "/"},
		{"triple slash", "///evil.example/", "/"},
		{"slash backslash", "/\\evil.example", "/"},
		{"backslashes", "\\\\evil.example", "/"},
		{"encoded backslash", "/%5Cevil.example", "/"},
		{"encoded slash", "/%2F/evil.example", "/"},
		{"encoded slash lower", "/%2f%2fevil.example", "/"},
		{"https URL", "https://evil.example/", "/"},
		{"scheme without slashes", "https:evil.example", "/"},
		{"javascript", "javascript:alert(1)", "/"},
		{"data", "data:text/html,<script>alert(1)</script>", "/"},
		{"relative", "evil.example", "/"},
		{"query only", "?next=//evil.example", "/"},
		{"leading space", " /inbox", "/"},
		{"user info", "//user@evil.example", "/"},
		{"encoded TAB in query", "/inbox?x=%09", "/"},
		{"bad escape", "/inbox%zz", "/"},
		{"very long", "/" + strings.Repeat("a", 3000), "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := env.newClient().noRedirect()
			_, body := c.get("/login?next=" + url.QueryEscape(tc.next))
			mustHTML(t, body, htmlcheck.In(`input[name=next]`, htmlcheck.HasAttr("value", tc.want)))
			res, _ := c.postForm("/login", url.Values{"username": {"admin"}, "password": {testPassword}, "next": {tc.next}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: got %d, want 303", res.StatusCode)
			}
			if got := res.Header.Get("Location"); got != tc.want {
				t.Fatalf("next=%q: Location %q, want %q", tc.next, got, tc.want)
			}
		})
	}
}

// throttleEnv is a server whose login throttling counts clients by the
// X-Forwarded-For its loopback "proxy" (the test) sends, with a settable
// clock.
func throttleEnv(t *testing.T, cfg web.Config) (*testEnv, *atomic.Int64) {
	var offset atomic.Int64
	cfg.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	return MustServer(t, cfg), &offset
}

// sprayUsers is the test accounts plus user-0 … user-(n-1), every one
// with testPassword hashed at bcrypt's minimum cost: a login for an unknown
// name compares against a full-cost hash, which takes seconds under the
// race detector.
func sprayUsers(t *testing.T, n int) *web.MemUsers {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u := web.NewMemUsers()
	accounts := testAccounts
	for i := range n {
		accounts = append(accounts, web.User{Username: fmt.Sprintf("user-%d", i), Name: "Sprayed", Role: web.RoleAdmin})
	}
	for _, a := range accounts {
		a.PasswordHash = h
		if err := u.Put(a); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// from returns a client at address addr with the login form loaded.
func (e *testEnv) from(addr string) *client {
	c := e.newClient()
	c.from = addr
	c.get("/login")
	return c
}

func (c *client) tryLogin(user, password string) (*http.Response, string) {
	c.t.Helper()
	return c.postForm("/login", url.Values{"username": {user}, "password": {password}})
}

// Issue 18 §2: repeated failures back off exponentially instead of
// locking the account.
func TestLoginThrottleBacksOff(t *testing.T) {
	env, offset := throttleEnv(t, web.Config{})
	c := env.from("198.51.100.7")
	for i := range 6 {
		if res, _ := c.tryLogin("sender", "guess"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: got %d, want 401", i+1, res.StatusCode)
		}
	}
	res, body := c.tryLogin("sender", testPassword)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "1" {
		t.Fatalf("after 6 failures, the right password at once: got %d Retry-After %q, want 429 and 1", res.StatusCode, res.Header.Get("Retry-After"))
	}
	mustHTML(t, body, htmlcheck.In(".nhsuk-error-summary", htmlcheck.HasText("Too many failed attempts"), htmlcheck.HasText("Wait 1 second")))
	// The refused attempt is not counted; once the wait is over the next
	// failure doubles it.
	offset.Add(int64(time.Second))
	c.tryLogin("sender", "guess")
	if res, _ := c.tryLogin("sender", testPassword); res.Header.Get("Retry-After") != "2" {
		t.Fatalf("after 7 failures: Retry-After %q, want 2", res.Header.Get("Retry-After"))
	}
	offset.Add(int64(2 * time.Second))
	if res, _ := c.tryLogin("sender", testPassword); res.StatusCode != http.StatusOK || res.Request.URL.Path == "/login" {
		t.Fatalf("after the wait: got %d at %s, want signed in", res.StatusCode, res.Request.URL.Path)
	}
}

// Issue 18 §2: one address's failures at an account do not keep its owner,
// elsewhere, out (the old throttle locked the user name for everyone after
// five failures).
func TestLoginFailuresDoNotLockOthersOut(t *testing.T) {
	env, offset := throttleEnv(t, web.Config{})
	attacker := env.from("198.51.100.7")
	for range 40 {
		res, _ := attacker.tryLogin("practice-a", "guess")
		if res.StatusCode == http.StatusTooManyRequests {
			offset.Add(int64(15 * time.Minute))
		}
	}
	if res, _ := attacker.tryLogin("practice-a", testPassword); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the guessing address with the right password: got %d, want 429", res.StatusCode)
	}
	owner := env.from("203.0.113.9")
	if res, _ := owner.tryLogin("practice-a", testPassword); res.StatusCode != http.StatusOK || res.Request.URL.Path == "/login" {
		t.Fatalf("the owner from another address: got %d at %s, want signed in", res.StatusCode, res.Request.URL.Path)
	}
	// An IPv6 client is counted by its /64.
	v6 := env.from("2001:db8:1:2::1")
	for range 6 {
		v6.tryLogin("sender", "guess")
	}
	neighbour := env.from("2001:db8:1:2::ffff")
	if res, _ := neighbour.tryLogin("sender", testPassword); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("another address of the same /64: got %d, want 429", res.StatusCode)
	}
}

// Issue 18 §2: spraying one password across many accounts from one address
// is slowed (the old throttle never slowed it).
func TestLoginPasswordSprayIsSlowed(t *testing.T) {
	env, _ := throttleEnv(t, web.Config{Users: sprayUsers(t, 20)})
	sprayer := env.from("198.51.100.7")
	for i := range 20 {
		if res, _ := sprayer.tryLogin(fmt.Sprintf("user-%d", i), "Winter2026!"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: got %d, want 401", i+1, res.StatusCode)
		}
	}
	sprayer.tryLogin("sender", "Winter2026!") // the 21st account
	if res, _ := sprayer.tryLogin("admin", "Winter2026!"); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("22nd account, sprayed once: got %d, want 429", res.StatusCode)
	}
	if res, _ := env.from("203.0.113.9").tryLogin("admin", testPassword); res.StatusCode != http.StatusOK {
		t.Fatalf("another address: got %d, want signed in", res.StatusCode)
	}
}

// Issue 18 §2: filling the failure table does not switch throttling off
// (the old table stopped tracking new user names once full).
func TestLoginThrottleTableCannotBeFilled(t *testing.T) {
	limits := web.DefaultLoginLimits()
	limits.Size = 10
	env, _ := throttleEnv(t, web.Config{LoginLimits: limits, Users: sprayUsers(t, 30)})
	for i := range 30 {
		c := env.newClient()
		c.from = fmt.Sprintf("10.0.0.%d", i)
		c.get("/login")
		c.tryLogin(fmt.Sprintf("user-%d", i), "guess")
	}
	c := env.from("198.51.100.7")
	for range 6 {
		c.tryLogin("sender", "guess")
	}
	if res, _ := c.tryLogin("sender", testPassword); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a name first failing with the table full: got %d, want 429", res.StatusCode)
	}
}

// Issue 23 §3: user names are at most 256 bytes, the login form at most a
// few KiB; a long name is neither looked up nor shown back.
func TestLoginInputLimits(t *testing.T) {
	env := MustServer(t, web.Config{})
	c := env.newClient()
	c.get("/login")
	long := strings.Repeat("n", web.MaxUsernameBytes+1)
	res, body := c.tryLogin(long, testPassword)
	if res.StatusCode != http.StatusUnauthorized || strings.Contains(body, long) {
		t.Fatalf("257-byte user name: got %d (echoed %v), want 401 without the name", res.StatusCode, strings.Contains(body, long))
	}
	res, _ = c.tryLogin(strings.Repeat("n", 5<<10), testPassword)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("5 KiB login form: got %d, want 413", res.StatusCode)
	}
	if err := web.NewMemUsers().Add(web.User{Username: long, Role: web.RoleAdmin}, "pw"); err == nil {
		t.Fatal("an account with a 257-byte user name was accepted")
	}
	if res, _ := c.tryLogin("admin", testPassword); res.StatusCode != http.StatusOK {
		t.Fatalf("after the refusals, a normal login: got %d", res.StatusCode)
	}
}

// countingSessions counts the sessions saved.
type countingSessions struct {
	*web.MemSessions
	saved atomic.Int64
}

func (c *countingSessions) SaveSession(ctx context.Context, id string, data []byte, exp time.Time) error {
	c.saved.Add(1)
	return c.MemSessions.SaveSession(ctx, id, data, exp)
}

// Issue 18 §3: the login page keeps nothing on the server, so a cookieless
// flood of it cannot crowd out signed-in sessions.
func TestLoginPageCreatesNoSession(t *testing.T) {
	store := &countingSessions{MemSessions: web.NewMemSessions()}
	env := MustServer(t, web.Config{Sessions: store})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				res, err := http.Get(env.ts.URL + "/login")
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				if findCookie(res, "gpcm_session") != nil {
					t.Error("the login page set a session cookie")
					return
				}
			}
		})
	}
	wg.Wait()
	if n := store.saved.Load(); n != 0 {
		t.Fatalf("400 login pages saved %d sessions, want 0", n)
	}
	env.login("admin")
	if n := store.saved.Load(); n != 1 {
		t.Fatalf("one login saved %d sessions, want 1", n)
	}
}

// Issue 18 §3: the login form's CSRF cookie is signed and short-lived, and
// cross-origin form posts are refused even with a valid token.
func TestLoginCSRF(t *testing.T) {
	var offset atomic.Int64
	env := MustServer(t, web.Config{Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	other := MustServer(t, web.Config{}) // another key
	login := url.Values{"username": {"admin"}, "password": {testPassword}}

	t.Run("cookie from another key", func(t *testing.T) {
		c := other.newClient()
		res, _ := c.get("/login")
		ck := findCookie(res, "gpcm_login")
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, env.ts.URL+"/login",
			strings.NewReader(url.Values{"username": {"admin"}, "password": {testPassword}, "csrf_token": {c.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(ck)
		res, _ = env.newClient().do(req)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("got %d, want 403", res.StatusCode)
		}
	})
	t.Run("token of another form", func(t *testing.T) {
		a, b := env.newClient(), env.newClient()
		a.get("/login")
		b.get("/login")
		form := url.Values{"username": {"admin"}, "password": {testPassword}, "csrf_token": {b.csrf}}
		if res, _ := a.postForm("/login", form); res.StatusCode != http.StatusForbidden {
			t.Fatalf("got %d, want 403", res.StatusCode)
		}
	})
	t.Run("expired", func(t *testing.T) {
		c := env.newClient()
		c.get("/login")
		offset.Store(int64(61 * time.Minute))
		defer offset.Store(0)
		if res, _ := c.postForm("/login", login); res.StatusCode != http.StatusForbidden {
			t.Fatalf("an hour later: got %d, want 403", res.StatusCode)
		}
	})
	t.Run("cross-origin post", func(t *testing.T) {
		c := env.newClient()
		c.get("/login")
		form := url.Values{"username": {"admin"}, "password": {testPassword}, "csrf_token": {c.csrf}}
		for _, h := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}} {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, env.ts.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range h {
				req.Header.Set(k, v)
			}
			if res, _ := c.do(req); res.StatusCode != http.StatusForbidden {
				t.Fatalf("%v: got %d, want 403", h, res.StatusCode)
			}
		}
		// The same form from our own page is fine.
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, env.ts.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if res, _ := c.do(req); res.StatusCode != http.StatusOK || res.Request.URL.Path == "/login" {
			t.Fatalf("same-origin: got %d at %s, want signed in", res.StatusCode, res.Request.URL.Path)
		}
	})
}

func TestSessionCookie(t *testing.T) {
	env := MustServer(t, web.Config{})
	c := env.newClient().noRedirect()
	res, _ := c.get("/login")
	if findCookie(res, "gpcm_session") != nil {
		t.Fatal("the login page set a session cookie")
	}
	form := findCookie(res, "gpcm_login")
	if form == nil || !form.HttpOnly || form.SameSite != http.SameSiteStrictMode || form.Secure {
		t.Fatalf("login form cookie = %+v, want HttpOnly SameSite=Strict, not Secure over plain HTTP", form)
	}
	res, _ = c.postForm("/login", url.Values{"username": {"admin"}, "password": {testPassword}})
	sess := findCookie(res, "gpcm_session")
	if res.StatusCode != http.StatusSeeOther || sess == nil {
		t.Fatalf("login: got %d cookie %v, want 303 and a session cookie", res.StatusCode, sess)
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
		t.Fatalf("session cookie over plain HTTP = %+v, want HttpOnly, Lax, not Secure", sess)
	}
	if res.Header.Get("Strict-Transport-Security") != "" {
		t.Fatal("HSTS over plain HTTP without SecureCookies")
	}

	// Over TLS cookies are Secure, with the __Host- prefix, and HSTS is sent.
	tls := newTLSServer(t, env.srv)
	tc := &client{t: t, base: tls.URL, hc: tls.Client()}
	tc.noRedirect()
	res, _ = tc.get("/login")
	if ck := findCookie(res, "__Host-gpcm_login"); ck == nil || !ck.Secure || ck.Path != "/" || ck.Domain != "" {
		t.Fatalf("login cookie over TLS = %+v, want __Host-gpcm_login, Secure, Path=/", ck)
	}
	if res.Header.Get("Strict-Transport-Security") != web.HSTS {
		t.Fatal("no HSTS over TLS")
	}
}

// Issue 18 §4: with SecureCookies (gpcm serve --secure-cookies, behind a TLS
// proxy) every cookie is Secure with the __Host- prefix and every response
// carries Strict-Transport-Security, although the requests are plain HTTP.
func TestSecureCookies(t *testing.T) {
	env := MustServer(t, web.Config{SecureCookies: true})
	env.seed()
	raw := env.newClient().noRedirect()
	res, body := raw.get("/login")
	ck := findCookie(res, "__Host-gpcm_login")
	if ck == nil || !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" {
		t.Fatalf("login form cookie = %+v, want __Host-gpcm_login Secure HttpOnly Path=/", ck)
	}
	if findCookie(res, "gpcm_login") != nil {
		t.Fatal("a cookie without the prefix was set")
	}
	// The jar keeps Secure cookies off plain HTTP, so carry them by hand.
	post := func(path string, form url.Values, cookies ...*http.Cookie) *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, env.ts.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		res, _ := raw.do(req)
		return res
	}
	_ = body
	res = post("/login", url.Values{"username": {"practice-a"}, "password": {testPassword}, "csrf_token": {raw.csrf}}, ck)
	sess := findCookie(res, "__Host-gpcm_session")
	if res.StatusCode != http.StatusSeeOther || sess == nil || !sess.Secure || !sess.HttpOnly || sess.Path != "/" {
		t.Fatalf("login: got %d, session cookie %+v, want 303 and a Secure __Host- cookie", res.StatusCode, sess)
	}
	if cleared := findCookie(res, "__Host-gpcm_login"); cleared == nil || !cleared.Secure || cleared.MaxAge >= 0 {
		t.Fatalf("login form cookie not cleared as a Secure cookie: %+v", cleared)
	}
	get := func(path string) *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, env.ts.URL+path, nil)
		req.AddCookie(sess)
		res, _ := raw.do(req)
		return res
	}
	if res := get("/inbox"); res.StatusCode != http.StatusOK {
		t.Fatalf("inbox with the Secure session cookie: got %d", res.StatusCode)
	}
	res = post("/logout", url.Values{"csrf_token": {raw.csrf}}, sess)
	if cleared := findCookie(res, "__Host-gpcm_session"); cleared == nil || !cleared.Secure || cleared.MaxAge >= 0 {
		t.Fatalf("logout does not clear the Secure session cookie: %+v", cleared)
	}
	for _, path := range []string{"/login", "/inbox", "/nowhere", "/favicon.ico", "/static/app.css", "/inbox/doc-a1/pdf"} {
		if got := get(path).Header.Get("Strict-Transport-Security"); got != web.HSTS {
			t.Errorf("GET %s: Strict-Transport-Security %q, want %q", path, got, web.HSTS)
		}
	}
}

// Issue 18 §6: one user's live-update streams are capped.
func TestEventStreamsPerUser(t *testing.T) {
	env := MustServer(t, web.Config{MaxEventStreams: 2})
	c := env.login("admin")
	open := func() *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, env.ts.URL+"/events", nil)
		res, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := open(), open()
	if a.StatusCode != 200 || b.StatusCode != 200 {
		t.Fatalf("first two streams: %d %d, want 200", a.StatusCode, b.StatusCode)
	}
	third := open()
	third.Body.Close()
	if third.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third stream: got %d, want 429", third.StatusCode)
	}
	if other := env.login("sender"); other != nil {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, env.ts.URL+"/events", nil)
		res, err := other.hc.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("another user's stream: %v %v, want 200", err, res)
		}
		res.Body.Close()
	}
	a.Body.Close()
	// The closed stream's slot comes back once its handler has returned.
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := open()
		ok := res.StatusCode == 200
		res.Body.Close()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed stream's slot never came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Body.Close()
}

// Issue 23 §7: ?done= picks one of a fixed set of banners; other text is
// never shown.
func TestDoneBannerIsFixed(t *testing.T) {
	env := MustServer(t, web.Config{})
	env.seed()
	c := env.login("practice-a")
	for _, tc := range []struct{ done, want string }{
		{"filed", "Document filed"},
		{"matched", "Document matched"},
		{"rejected", "Document rejected"},
		{"deleted. Call 0800 123 456 to restore it", ""},
		{"<b>filed</b>", ""},
	} {
		t.Run(tc.done, func(t *testing.T) {
			_, body := c.get("/inbox/doc-a1?done=" + url.QueryEscape(tc.done))
			if tc.want == "" {
				mustHTML(t, body, htmlcheck.Absent(".nhsuk-notification-banner--success"))
				if strings.Contains(body, "0800") {
					t.Fatal("the page shows the link's text")
				}
				return
			}
			mustHTML(t, body, htmlcheck.In(".nhsuk-notification-banner--success", htmlcheck.HasText(tc.want)))
		})
	}
	// The sender's dashboard is the same.
	s := env.login("sender")
	_, body := s.get("/outbox/tx-2?done=" + url.QueryEscape("Call 0800 123 456"))
	if strings.Contains(body, "0800") {
		t.Fatal("the transmission page shows the link's text")
	}
}

// Issue 23 §7: the document's PDF is served with our type, never the
// sender's: application/pdf for a real PDF (inline only for our frame, an
// attachment when downloaded), application/octet-stream as an attachment
// for anything else.
func TestDocumentPDFContentType(t *testing.T) {
	env := MustServer(t, web.Config{})
	env.seed()
	c := env.login("practice-a")
	_, body := c.get("/inbox/doc-a1")
	mustHTML(t, body, htmlcheck.In(`a[href="/inbox/doc-a1/pdf?download=1"]`))
	for _, tc := range []struct {
		name, file, path, ctype, disposition string
	}{
		{"frame", "%PDF-1.4 test\n", "/inbox/doc-a1/pdf", "application/pdf", "inline"},
		{"download", "%PDF-1.4 test\n", "/inbox/doc-a1/pdf?download=1", "application/pdf", "attachment"},
		{"html posing as a pdf", "<html><script>alert(1)</script>", "/inbox/doc-a1/pdf", "application/octet-stream", "attachment"},
		{"short", "%P", "/inbox/doc-a1/pdf", "application/octet-stream", "attachment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.inbox.mu.Lock()
			env.inbox.pdf = []byte(tc.file)
			env.inbox.mu.Unlock()
			res, got := c.get(tc.path)
			if ct := res.Header.Get("Content-Type"); ct != tc.ctype {
				t.Fatalf("Content-Type %q, want %q", ct, tc.ctype)
			}
			if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, tc.disposition+";") {
				t.Fatalf("Content-Disposition %q, want %s", cd, tc.disposition)
			}
			if got != tc.file || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("body %q nosniff %q", got, res.Header.Get("X-Content-Type-Options"))
			}
		})
	}
}
