package web_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/storetest"
	"github.com/gpcm/gpcm/web"
	"github.com/gpcm/gpcm/web/internal/htmlcheck"
)

// web.AccountStore and storetest.UserStore have the same methods.
var (
	_ storetest.UserStore = web.AccountStore(nil)
	_ web.AccountStore    = storetest.UserStore(nil)
)

// accountBackends are the UserAdmins the account tests run on, each
// seeded with testAccounts (password testPassword).
var accountBackends = []struct {
	name string
	open func(t *testing.T) web.UserAdmin
}{
	{"memory", func(t *testing.T) web.UserAdmin { return web.NewMemUsers() }},
	{"sqlite", func(t *testing.T) web.UserAdmin {
		db, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "web.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return web.NewStoreUsers(db.Users(), nil)
	}},
}

func mustAccountServer(t *testing.T, ua web.UserAdmin) *testEnv {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range testAccounts {
		u.PasswordHash = h
		if err := ua.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	return MustServer(t, web.Config{Users: ua})
}

// signIn posts the login form and reports whether it signed in.
func (e *testEnv) signIn(username, password string) (*client, bool) {
	c := e.newClient()
	c.get("/login")
	res, _ := c.postForm("/login", url.Values{"username": {username}, "password": {password}})
	return c, res.StatusCode == http.StatusOK && res.Request.URL.Path != "/login"
}

// signedIn reports whether c's session still works.
func signedIn(c *client) bool {
	res, _ := c.get("/validator")
	return res.StatusCode == http.StatusOK && res.Request.URL.Path == "/validator"
}

var shownPassword = regexp.MustCompile(`id="new-password">([a-z0-9-]+)<`)

func TestUsersAdmin(t *testing.T) {
	for _, be := range accountBackends {
		t.Run(be.name, func(t *testing.T) {
			env := mustAccountServer(t, be.open(t))
			admin := env.login("admin")

			res, body := admin.get("/users")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET /users: %d", res.StatusCode)
			}
			mustHTML(t, body, htmlcheck.Count(len(testAccounts), "#users tbody tr"), headingsInOrder)

			// Refused forms name the field.
			for _, tc := range []struct {
				name  string
				form  url.Values
				field string
			}{
				{"taken username", url.Values{"username": {"sender"}, "name": {"X"}, "role": {"sender"}, "ods": {"X99"}}, "username"},
				{"upper-case username", url.Values{"username": {"Jane"}, "name": {"X"}, "role": {"admin"}}, "username"},
				{"no name", url.Values{"username": {"jane"}, "role": {"admin"}}, "name"},
				{"no role", url.Values{"username": {"jane"}, "name": {"Jane"}}, "role-practice"},
				{"unknown role", url.Values{"username": {"jane"}, "name": {"Jane"}, "role": {"root"}}, "role-practice"},
				{"practice without ODS", url.Values{"username": {"jane"}, "name": {"Jane"}, "role": {"practice"}}, "ods"},
				{"bad ODS", url.Values{"username": {"jane"}, "name": {"Jane"}, "role": {"practice"}, "ods": {"A1 1"}}, "ods"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res, body := admin.postForm("/users", tc.form)
					if res.StatusCode != http.StatusUnprocessableEntity {
						t.Fatalf("got %d, want 422", res.StatusCode)
					}
					mustHTML(t, body, htmlcheck.In(`.nhsuk-error-summary a[href="#`+tc.field+`"]`))
				})
			}

			// A new practice user: the password is shown once and works.
			res, body = admin.postForm("/users", url.Values{"username": {"jane.smith"}, "name": {"Jane Smith"}, "role": {"practice"}, "ods": {"a11111"}})
			m := shownPassword.FindStringSubmatch(body)
			if res.StatusCode != http.StatusOK || m == nil {
				t.Fatalf("add user: %d, no password shown", res.StatusCode)
			}
			password := m[1]
			if _, body := admin.get("/users"); strings.Contains(body, password) {
				t.Fatal("the password is shown again on the users page")
			}
			jane, ok := env.signIn("jane.smith", password)
			if !ok {
				t.Fatal("the new user cannot sign in with the password shown")
			}
			if res, _ := jane.get("/inbox"); res.StatusCode != http.StatusOK || res.Request.URL.Path != "/inbox" {
				t.Fatalf("new practice user's inbox: %d at %s", res.StatusCode, res.Request.URL.Path)
			}
			for _, path := range []string{"/users", "/users/jane.smith", "/mesh"} {
				if res, _ := jane.get(path); res.StatusCode != http.StatusForbidden {
					t.Errorf("practice user GET %s: %d, want 403", path, res.StatusCode)
				}
			}
			if res, _ := jane.postForm("/users/jane.smith", url.Values{"name": {"Jane"}, "role": {"admin"}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("practice user making herself admin: %d, want 403", res.StatusCode)
			}

			// The admin changes her role; it takes effect on her next request.
			if res, _ := admin.postForm("/users/jane.smith", url.Values{"name": {"Jane Smith"}, "role": {"sender"}, "ods": {"X99"}}); res.StatusCode != http.StatusOK {
				t.Fatalf("change role: %d", res.StatusCode)
			}
			if res, _ := jane.get("/inbox"); res.StatusCode != http.StatusForbidden {
				t.Fatalf("inbox after the role became sender: %d, want 403", res.StatusCode)
			}

			// Reset: her session ends, the old password fails, the new works.
			res, body = admin.postForm("/users/jane.smith/reset", url.Values{})
			m = shownPassword.FindStringSubmatch(body)
			if res.StatusCode != http.StatusOK || m == nil {
				t.Fatalf("reset: %d, no password shown", res.StatusCode)
			}
			if signedIn(jane) {
				t.Fatal("the user's session survived a password reset")
			}
			if _, ok := env.signIn("jane.smith", password); ok {
				t.Fatal("the old password still works after a reset")
			}
			password = m[1]
			if jane, ok = env.signIn("jane.smith", password); !ok {
				t.Fatal("the reset password does not work")
			}

			// Disable: the session ends and sign-in fails; enable restores.
			if res, _ := admin.postForm("/users/jane.smith/disable", url.Values{}); res.StatusCode != http.StatusOK {
				t.Fatalf("disable: %d", res.StatusCode)
			}
			if signedIn(jane) {
				t.Fatal("a disabled user's session still works")
			}
			if _, ok := env.signIn("jane.smith", password); ok {
				t.Fatal("a disabled user can sign in")
			}
			if res, _ := admin.postForm("/users/jane.smith/enable", url.Values{}); res.StatusCode != http.StatusOK {
				t.Fatalf("enable: %d", res.StatusCode)
			}
			if _, ok := env.signIn("jane.smith", password); !ok {
				t.Fatal("an enabled user cannot sign in")
			}

			// An administrator cannot lock themself out.
			if res, _ := admin.postForm("/users/admin/disable", url.Values{}); res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("disabling oneself: %d, want 422", res.StatusCode)
			}
			if res, _ := admin.postForm("/users/admin", url.Values{"name": {"Ada"}, "role": {"practice"}, "ods": {"A11111"}}); res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("dropping one's own admin role: %d, want 422", res.StatusCode)
			}
			if !signedIn(admin) {
				t.Fatal("the admin was signed out")
			}
			if res, _ := admin.get("/users/nobody"); res.StatusCode != http.StatusNotFound {
				t.Errorf("unknown user: %d, want 404", res.StatusCode)
			}
		})
	}
}

func TestChangePassword(t *testing.T) {
	for _, be := range accountBackends {
		t.Run(be.name, func(t *testing.T) {
			env := mustAccountServer(t, be.open(t))
			c := env.login("sender")
			other := env.login("sender") // another browser of the same person
			const next = "a new long passphrase"
			for _, tc := range []struct {
				name  string
				form  url.Values
				field string
			}{
				{"wrong current", url.Values{"current-password": {"guess"}, "new-password": {next}, "confirm-password": {next}}, "current-password"},
				{"too short", url.Values{"current-password": {testPassword}, "new-password": {"short"}, "confirm-password": {"short"}}, "new-password"},
				{"too long for bcrypt", url.Values{"current-password": {testPassword}, "new-password": {strings.Repeat("x", 73)}, "confirm-password": {strings.Repeat("x", 73)}}, "new-password"},
				{"mismatch", url.Values{"current-password": {testPassword}, "new-password": {next}, "confirm-password": {next + "!"}}, "confirm-password"},
				{"unchanged", url.Values{"current-password": {testPassword}, "new-password": {testPassword}, "confirm-password": {testPassword}}, "new-password"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res, body := c.postForm("/account/password", tc.form)
					if res.StatusCode != http.StatusUnprocessableEntity {
						t.Fatalf("got %d, want 422", res.StatusCode)
					}
					mustHTML(t, body, htmlcheck.In(`.nhsuk-error-summary a[href="#`+tc.field+`"]`), htmlcheck.In("input#"+tc.field+".nhsuk-input--error"))
				})
			}
			res, body := c.postForm("/account/password", url.Values{"current-password": {testPassword}, "new-password": {next}, "confirm-password": {next}})
			if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/account/password" {
				t.Fatalf("change: %d at %s", res.StatusCode, res.Request.URL.Path)
			}
			mustHTML(t, body, htmlcheck.In("#changed"))
			if !signedIn(c) {
				t.Fatal("the browser that changed the password was signed out")
			}
			if signedIn(other) {
				t.Fatal("another session survived the password change")
			}
			if _, ok := env.signIn("sender", testPassword); ok {
				t.Fatal("the old password still works")
			}
			if _, ok := env.signIn("sender", next); !ok {
				t.Fatal("the new password does not work")
			}
		})
	}
}

// Wrong current passwords on the password page count as failed sign-ins.
func TestChangePasswordThrottled(t *testing.T) {
	env := mustAccountServer(t, web.NewMemUsers())
	c := env.login("practice-a")
	var res *http.Response
	for range 8 {
		res, _ = c.postForm("/account/password", url.Values{"current-password": {"guess"}, "new-password": {"x"}, "confirm-password": {"x"}})
		if res.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after repeated wrong passwords: %d Retry-After %q, want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

func TestNewPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		p := web.NewPassword()
		if err := web.CheckNewPassword(p); err != nil || len(p) != 19 || seen[p] {
			t.Fatalf("NewPassword %q: %v (or repeated)", p, err)
		}
		seen[p] = true
	}
}

// The Users page and the password page in a browser (and under axe-core,
// as every page a browser test shows).
func TestBrowserUsersAdmin(t *testing.T) {
	b := MustBrowser(t)
	env := mustAccountServer(t, web.NewMemUsers())
	b.login(env.ts.URL, "admin")
	b.Do("open the users page",
		chromedp.Click(chromedp.CSS(`nav.nhsuk-header__navigation a[href="/users"]`)),
		chromedp.WaitVisible(chromedp.CSS("#users")),
	)
	b.Screenshot("02-users")
	b.Do("add a user",
		chromedp.SendKeys(chromedp.CSS("#username"), "jane.smith"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Jane Smith"),
		chromedp.Click(chromedp.CSS("#role-practice")),
		chromedp.SendKeys(chromedp.CSS("#ods"), "A11111"),
		chromedp.Click(chromedp.CSS(`#add-user button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-password")),
	)
	b.Screenshot("03-user-added")
	b.Do("open the user",
		chromedp.Click(chromedp.CSS(`#users a[href="/users/jane.smith"]`)),
		chromedp.WaitVisible(chromedp.CSS("form#reset")),
	)
	b.Screenshot("05-user")
	b.Do("open the password page",
		chromedp.Click(chromedp.CSS(`.nhsuk-header__account a[href="/account/password"]`)),
		chromedp.WaitVisible(chromedp.CSS("#current-password")),
	)
	b.Screenshot("06-password")
	b.CheckConsole()
	// Last, as the browser logs the 422 of a refused form as an error.
	b.Do("refuse a taken username",
		chromedp.Navigate(env.ts.URL+"/users"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "jane.smith"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Jane Again"),
		chromedp.Click(chromedp.CSS(`#add-user button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-error-summary")),
	)
	b.Screenshot("07-user-taken")
}
