package cli_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/web"
)

// accountOf reads an account from the data directory.
func accountOf(t *testing.T, data, username string) web.User {
	t.Helper()
	db, err := sqlitestore.Open(t.Context(), filepath.Join(data, "web", "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := web.NewStoreUsers(db.Users(), nil).FindUser(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUsersCommand(t *testing.T) {
	data := t.TempDir()
	printed := regexp.MustCompile(`(?m)^password: (\S+)$`)
	if code, _, stderr := run(t, "", "users", "list", "--data", data); code != 1 || !strings.Contains(stderr, "no accounts database") {
		t.Fatalf("list before any account: exit %d %q, want 1 naming the missing database", code, stderr)
	}

	code, out, stderr := run(t, "", "users", "add", "--data", data, "--role", "practice", "--ods", "x26", "--name", "Jane Smith", "jane.smith")
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, stderr)
	}
	m := printed.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("add printed no password: %q", out)
	}
	u := accountOf(t, data, "jane.smith")
	if u.Role != web.RolePractice || u.ODS != "X26" || u.Name != "Jane Smith" || bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(m[1])) != nil {
		t.Fatalf("stored account %+v does not match the command or its printed password", u)
	}

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		err   string
	}{
		{"taken", "", []string{"add", "--role", "admin", "jane.smith"}, 1, "already an account"},
		{"bad username", "", []string{"add", "--role", "admin", "Jane"}, 2, "lower-case"},
		{"unknown role", "", []string{"add", "--role", "root", "bob"}, 2, "unknown role"},
		{"practice without ods", "", []string{"add", "--role", "practice", "bob"}, 2, "no ODS code"},
		{"admin with ods", "", []string{"add", "--role", "admin", "--ods", "X1", "bob"}, 2, "no --ods"},
		{"short stdin password", "short\n", []string{"add", "--role", "admin", "--password-stdin", "bob"}, 2, "10 characters"},
		{"no username", "", []string{"reset"}, 2, "one USERNAME"},
		{"unknown user", "", []string{"disable", "nobody"}, 1, "no account"},
		{"unknown subcommand", "", []string{"remove", "x"}, 2, "unknown subcommand"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"users", tc.args[0], "--data", data}, tc.args[1:]...)
			code, _, stderr := run(t, tc.stdin, args...)
			if code != tc.code || !strings.Contains(stderr, tc.err) {
				t.Fatalf("exit %d stderr %q, want %d and %q", code, stderr, tc.code, tc.err)
			}
		})
	}

	if code, out, stderr := run(t, "a chosen passphrase\n", "users", "reset", "--data", data, "--password-stdin", "jane.smith"); code != 0 || printed.MatchString(out) {
		t.Fatalf("reset from stdin: exit %d out %q: %s", code, out, stderr)
	}
	if u := accountOf(t, data, "jane.smith"); bcrypt.CompareHashAndPassword(u.PasswordHash, []byte("a chosen passphrase")) != nil {
		t.Fatal("reset did not store the password read from stdin")
	}
	if code, _, stderr := run(t, "", "users", "disable", "--data", data, "jane.smith"); code != 0 {
		t.Fatalf("disable: exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, "", "users", "add", "--data", data, "--role", "admin", "--name", "Ada Admin", "ada"); code != 0 {
		t.Fatalf("add admin: exit %d: %s", code, stderr)
	}
	code, out, stderr = run(t, "", "users", "list", "--data", data, "--json")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, stderr)
	}
	var rows []struct {
		Username string `json:"username"`
		Role     string `json:"role"`
		Disabled bool   `json:"disabled"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Username != "ada" || rows[0].Disabled || rows[1].Username != "jane.smith" || !rows[1].Disabled {
		t.Fatalf("list: %+v, want ada (active) and jane.smith (disabled)", rows)
	}
	if code, out, _ := run(t, "", "users", "list", "--data", data); code != 0 || !strings.Contains(out, "jane.smith  practice  X26  disabled") {
		t.Fatalf("list as text: %q", out)
	}
	if code, _, _ := run(t, "", "users", "enable", "--data", data, "jane.smith"); code != 0 || accountOf(t, data, "jane.smith").Disabled {
		t.Fatal("enable did not clear disabled")
	}
}

// An account added with gpcm users while gpcm serve runs on the same data
// directory signs in at once; the seeded demo logins still work, and one
// disabled from the command line is refused at once.
func TestUsersCommandWithServe(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, data, "--demo=false")
	pw := p.passwords(t)
	code, out, stderr := run(t, "", "users", "add", "--data", data, "--role", "sender", "--ods", "X27", "--name", "Sam Sender", "sam")
	if code != 0 {
		t.Fatalf("users add: exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("users add printed no password: %q", out)
	}
	sam := login(t, p.url, "sam", m[1])
	get(t, sam, p.url+"/outbox", http.StatusOK)
	login(t, p.url, "practice", pw["practice"])

	if code, _, stderr := run(t, "", "users", "disable", "--data", data, "sam"); code != 0 {
		t.Fatalf("users disable: exit %d: %s", code, stderr)
	}
	res, err := sam.Get(p.url + "/outbox")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/login" {
		t.Fatalf("a disabled account's session still opens the outbox (ended at %s)", res.Request.URL.Path)
	}
}
