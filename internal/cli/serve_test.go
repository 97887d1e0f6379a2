package cli_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/internal/cli"
	"github.com/gpcm/gpcm/internal/testutil"
)

type serveProc struct {
	url    string
	lines  []string // stdout after the URL line, up to the logins
	stderr *syncBuffer
	done   chan int
	stop   context.CancelFunc
}

// startServe runs "gpcm serve" in-process on a free port and waits for its
// ready line and the login lines after it.
func startServe(t *testing.T, data string, extra ...string) *serveProc {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	p := &serveProc{stderr: newSyncBuffer(), done: make(chan int, 1), stop: cancel}
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: p.stderr, Getenv: func(string) string { return "" }}
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data", data}, extra...)
	go func() {
		code := cli.Main(ctx, env, args)
		pw.Close()
		p.done <- code
	}()
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		cancel()
		t.Fatalf("gpcm serve printed no URL; exit %d; stderr:\n%s", <-p.done, p.stderr)
	}
	p.url = sc.Text()
	if sc.Scan() {
		p.lines = append(p.lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "Demo logins") {
			for range 3 {
				if sc.Scan() {
					p.lines = append(p.lines, sc.Text())
				}
			}
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() { p.shutdown(t) })
	return p
}

// shutdown stops the server (once) and checks it exits 0.
func (p *serveProc) shutdown(t *testing.T) {
	t.Helper()
	if p.stop == nil {
		return
	}
	p.stop()
	p.stop = nil
	select {
	case code := <-p.done:
		if code != 0 {
			t.Errorf("gpcm serve exited %d after SIGINT-equivalent; stderr:\n%s", code, p.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("gpcm serve did not stop within 30s")
	}
}

func (p *serveProc) passwords(t *testing.T) map[string]string {
	t.Helper()
	pw := map[string]string{}
	for _, l := range p.lines[1:] {
		f := strings.Fields(l)
		if len(f) == 2 {
			pw[f[0]] = f[1]
		}
	}
	for _, u := range []string{"practice", "sender", "admin"} {
		if pw[u] == "" {
			t.Fatalf("no password printed for %s in %q", u, p.lines)
		}
	}
	return pw
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// login signs in over HTTP with the token from the login form and returns
// the client carrying the session cookie.
func login(t *testing.T, base, user, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	body := get(t, c, base+"/login", http.StatusOK)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("login form has no csrf_token")
	}
	resp, err := c.PostForm(base+"/login", url.Values{"username": {user}, "password": {password}, "csrf_token": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(b), `name="password"`) {
		t.Fatalf("login as %s: status %d, still on the login form", user, resp.StatusCode)
	}
	return c
}

func get(t *testing.T, c *http.Client, u string, want int) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: status %d, want %d", u, resp.StatusCode, want)
	}
	return string(b)
}

// demoFamilies are the demo patients' family names (internal/cli/serve.go).
var demoFamilies = []string{"SMITH", "PATEL", "JONES", "OKAFOR"}

func inboxRows(body string) int {
	n := 0
	for _, f := range demoFamilies {
		if strings.Contains(strings.ToUpper(body), f) {
			n++
		}
	}
	return n
}

func TestServe(t *testing.T) {
	before := runtime.NumGoroutine()
	data := filepath.Join(t.TempDir(), "gpcm-data")
	start := time.Now()
	p := startServe(t, data)
	if !strings.HasPrefix(p.url, "http://127.0.0.1:") {
		t.Fatalf("ready line %q, want http://127.0.0.1:PORT", p.url)
	}
	pw := p.passwords(t)

	c := login(t, p.url, "practice", pw["practice"])
	body := get(t, c, p.url+"/inbox?state=all", http.StatusOK)
	if n := inboxRows(body); n != len(demoFamilies) {
		t.Fatalf("inbox shows %d of the %d demo patients", n, len(demoFamilies))
	}
	t.Logf("start to inbox with demo data (login included): %s", time.Since(start).Round(time.Millisecond))
	// Next to the Send Document demo, the demo pharmacy's Update Records
	// came through the real loop (issue 19 §7).
	if !strings.Contains(body, "Blood Pressure Check") || !strings.Contains(body, "Park Road Pharmacy") {
		t.Errorf("the inbox does not show the demo pharmacy's Update Records")
	}
	// The report naming the patient by another given name waits for a
	// person to match it.
	if !strings.Contains(strings.ToUpper(get(t, c, p.url+"/inbox?state=unmatched", http.StatusOK)), "OKAFOR") {
		t.Errorf("the held demo document is not among the unmatched")
	}

	// The demo loop ran: the sender sees its transmissions, the admin the
	// MESH mailboxes; the practice user cannot open the admin page.
	sc := login(t, p.url, "sender", pw["sender"])
	if out := get(t, sc, p.url+"/outbox", http.StatusOK); !strings.Contains(out, "X26") && !strings.Contains(out, "GPPROVIDER") {
		t.Errorf("sender dashboard does not list the demo transmissions")
	}
	ac := login(t, p.url, "admin", pw["admin"])
	if out := get(t, ac, p.url+"/mesh", http.StatusOK); !strings.Contains(out, "X26ABC1") || !strings.Contains(out, "X27ABC1") {
		t.Errorf("MESH admin page does not list the demo mailboxes")
	}
	get(t, c, p.url+"/mesh", http.StatusForbidden)
	p.shutdown(t)

	// Second start on the same data: same logins, no new passwords, no
	// second copy of the demo documents.
	p2 := startServe(t, data)
	if len(p2.lines) == 0 || strings.HasPrefix(p2.lines[0], "Demo logins") {
		t.Fatalf("second start printed new logins: %q", p2.lines)
	}
	// The session signed in on the first start is still valid: sessions
	// live in DIR/web/web.db (issue 18 §3).
	if body := get(t, c, p2.url+"/inbox?state=all", http.StatusOK); strings.Contains(body, `name="password"`) || inboxRows(body) != len(demoFamilies) {
		t.Errorf("the session from before the restart was not kept")
	}
	c2 := login(t, p2.url, "practice", pw["practice"])
	if n := inboxRows(get(t, c2, p2.url+"/inbox?state=all", http.StatusOK)); n != len(demoFamilies) {
		t.Errorf("second start: inbox shows %d of the %d demo patients", n, len(demoFamilies))
	}
	p2.shutdown(t)

	// Every component stopped: the goroutines return to where they were.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after stop, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestServeUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"extra argument", []string{"serve", "now"}, `unexpected argument "now"`},
		{"unknown flag", []string{"serve", "--bogus"}, "bogus"},
		{"schema without postgres", []string{"serve", "--postgres-schema", "x"}, "--postgres-schema needs --postgres"},
		{"bad trusted proxy", []string{"serve", "--trusted-proxy", "10.0.0.0/33"}, "neither an IP address nor a CIDR prefix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb strings.Builder
			code := cli.Main(context.Background(), &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, tc.args)
			if code != 2 || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errb.String(), tc.want)
			}
		})
	}
}

// TestServeBinaryFigures builds the binary, starts it on a fresh data
// directory and reports the time until the inbox shows the demo documents
// and the idle RSS after 5 s. It asserts no figure (timings vary with the
// machine); run it with GPCM_SERVE_FIGURES=1.
func TestServeBinaryFigures(t *testing.T) {
	if os.Getenv("GPCM_SERVE_FIGURES") == "" {
		t.Skip("set GPCM_SERVE_FIGURES=1 to measure the built binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gpcm")
	if err := testutil.BuildGPCM(bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"))
	stdout, _ := cmd.StdoutPipe()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(stdout)
	var lines []string
	for len(lines) < 5 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 5 {
		t.Fatalf("gpcm serve printed %q", lines)
	}
	p := &serveProc{url: lines[0], lines: lines[1:]}
	c := login(t, p.url, "practice", p.passwords(t)["practice"])
	if n := inboxRows(get(t, c, p.url+"/inbox?state=all", http.StatusOK)); n != len(demoFamilies) {
		t.Fatalf("inbox shows %d of the %d demo patients", n, len(demoFamilies))
	}
	t.Logf("binary: start to inbox with demo data (login included): %s", time.Since(start).Round(time.Millisecond))
	time.Sleep(5 * time.Second)
	status, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmRSS:") || strings.HasPrefix(l, "VmHWM:") {
			t.Logf("binary after 5 s idle: %s", strings.Join(strings.Fields(l), " "))
		}
	}
}

// With --demo=false a new data directory gets the mailboxes and logins but
// no demo patients or documents.
func TestServeWithoutDemo(t *testing.T) {
	p := startServe(t, filepath.Join(t.TempDir(), "data"), "--demo=false")
	c := login(t, p.url, "practice", p.passwords(t)["practice"])
	if n := inboxRows(get(t, c, p.url+"/inbox?state=all", http.StatusOK)); n != 0 {
		t.Errorf("inbox shows %d demo patients without --demo", n)
	}
}
