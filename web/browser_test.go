package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/web"
)

// chromiumPath finds the Debian chromium (or GPCM_CHROMIUM). Without it the
// test skips, or fails when GPCM_TEST_STRICT=1.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("GPCM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("GPCM_TEST_STRICT") == "1" {
		t.Fatal("chromium not found (apt-get install -y chromium) and GPCM_TEST_STRICT=1")
	}
	t.Skip("chromium not found: install the Debian package chromium (scripts/test does) to run browser tests")
	return ""
}

// artifactDir is where screenshots go: GPCM_TEST_ARTIFACTS/<test name> when
// set (kept after the run), else a temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv("GPCM_TEST_ARTIFACTS")
	if base == "" {
		return t.TempDir()
	}
	dir := filepath.Join(base, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless Chromium with a fresh profile, and the messages
// its page wrote to the console.
type browser struct {
	t   *testing.T
	ctx context.Context
	dir string

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// MustBrowser starts headless Chromium for the test and stops it at cleanup.
func MustBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // we run as root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(t.Context()), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	b := &browser{t: t, ctx: ctx, dir: artifactDir(t)}
	if err := chromedp.Do(ctx); err != nil { // start the browser and its tab
		cancelTimeout()
		cancelTab()
		cancelAlloc()
		t.Fatalf("starting chromium %s: %v", path, err)
	}
	consoleCtx, stopConsole := context.WithCancel(ctx)
	msgs := chromedp.Console(consoleCtx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		stopConsole()
		<-done
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return b
}

// do runs one user step. Pages refresh their live regions when a server-sent
// event arrives, so a node found by a query can be replaced before chromedp
// acts on it; such a step failed before it did anything and is tried again.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if err = chromedp.Do(b.ctx, steps...); err == nil || !staleNode(err) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		b.screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
}

// staleNode reports whether err says a node vanished between query and action.
func staleNode(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Could not find node with given id") || strings.Contains(msg, "Node is detached")
}

// screenshot saves a full-page PNG under the artifact directory.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
	return p
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *browser) eval(expr string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// checkConsole fails on an exception or any browser error, such as a
// Content-Security-Policy violation or a missing asset.
func (b *browser) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		if m.IsException() || m.Type == "error" || strings.Contains(m.Text, "Content Security Policy") {
			b.t.Errorf("browser console: %s", m)
		}
	}
}

func (b *browser) login(base, username string) {
	b.t.Helper()
	b.do("open the sign-in page",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	)
	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
	)
	b.screenshot("01-login")
	b.do("submit sign-in",
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("nav.nhsuk-header__navigation")),
	)
}

func TestBrowserValidator(t *testing.T) {
	b := MustBrowser(t)
	env := MustServer(t, web.Config{})
	example := readExample(t, "consultation_report.xml")

	b.login(env.ts.URL, "admin")
	b.do("open the validator",
		chromedp.Click(chromedp.CSS(`nav.nhsuk-header__navigation a[href="/validator"]`)),
		chromedp.WaitVisible(chromedp.CSS("textarea#message")),
	)
	if got := b.eval(`document.body.className`); !strings.Contains(got, "nhsuk-frontend-supported") {
		t.Fatalf("body class %q: app.js did not run under the CSP", got)
	}
	b.screenshot("02-validator")
	b.do("paste the official example",
		chromedp.SetValue(chromedp.CSS("textarea#message"), string(example)),
		chromedp.Click(chromedp.CSS(`form[action="/validator"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#results")),
	)
	outcome := b.text("#outcome")
	t.Logf("outcome: %s", outcome)
	if !strings.Contains(outcome, "found") {
		t.Fatalf("outcome %q does not report a result", outcome)
	}
	if n := b.eval(`String(document.querySelectorAll("#findings tbody tr").length)`); n == "0" {
		t.Fatal("no findings rows")
	}
	first := b.text("#findings tbody tr td.gpcm-req")
	if !strings.Contains(first, "-") {
		t.Fatalf("first finding's requirement %q is not an ID", first)
	}
	b.do("scroll to the findings", chromedp.ScrollIntoView(chromedp.CSS("#findings")))
	b.screenshot("03-validator-findings")

	// Keyboard use: the skip link is the first thing Tab reaches.
	b.do("tab to the skip link", chromedp.KeyEvent("\t"))
	if got := b.eval(`document.activeElement.className`); !strings.Contains(got, "nhsuk-skip-link") {
		t.Errorf("first Tab focuses %q, want the skip link", got)
	}
	b.checkConsole()
}

func TestBrowserLiveInbox(t *testing.T) {
	b := MustBrowser(t)
	env := MustServer(t, web.Config{})
	env.seed()

	b.login(env.ts.URL, "practice-a")
	b.do("open the inbox", chromedp.WaitVisible(chromedp.CSS("#document-table")))
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.body.dataset.liveConnected === "true"`)); err != nil {
		t.Fatalf("event stream did not connect: %v", err)
	}
	b.screenshot("02-inbox")

	now := time.Now()
	env.inbox.add(web.Document{DocumentSummary: web.DocumentSummary{
		ID: "doc-live", PracticeODS: "A11111", State: web.StateAwaitingFiling, Type: "Consultation report",
		ForAction: true, ReceivedAt: now, PatientName: "Carol CHARLIE", NHSNumber: "9990000042", Sender: "Demo Urgent Care (X99)",
	}})
	env.srv.Publish(web.Event{Topic: web.InboxTopic("A11111"), Name: "document", Data: "doc-live"})
	b.do("see the new document without reload",
		chromedp.WaitVisible(chromedp.CSS(`tr[data-id="doc-live"]`)),
	)
	if got := b.eval(`document.body.dataset.liveRefreshes`); got == "" {
		t.Fatal("the row appeared without a live refresh (page reloaded?)")
	}
	b.screenshot("03-inbox-live")

	b.do("open the document",
		chromedp.Click(chromedp.CSS(`tr[data-id="doc-live"] a`)),
		chromedp.WaitVisible(chromedp.CSS(".gpcm-patient-banner")),
	)
	b.screenshot("04-document")
	b.do("file it",
		chromedp.Click(chromedp.CSS(`form[action="/inbox/doc-live/file"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.screenshot("05-filed")
	if d, _ := env.inbox.GetDocument(t.Context(), "A11111", "doc-live"); d.State != web.StateFiled {
		t.Fatalf("doc-live is %s, want filed", d.State)
	}
	b.checkConsole()
}

func TestBrowserSenderAndAdmin(t *testing.T) {
	b := MustBrowser(t)
	db, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "mesh.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := db.Mesh()
	now := time.Now().UTC()
	for _, mb := range []meshserver.Mailbox{
		{ID: "X99OT001", Password: "pw-1", ODSCode: "X99", Name: "Demo Urgent Care", Active: true},
		{ID: "A11111OT001", Password: "pw-2", ODSCode: "A11111", Name: "Demo Practice", Active: true, Workflows: []string{"GPFED_CONSULT_REPORT"}},
	} {
		if err := store.PutMailbox(t.Context(), mb); err != nil {
			t.Fatal(err)
		}
	}
	for i, st := range []string{meshserver.StatusAccepted, meshserver.StatusAcknowledged, meshserver.StatusUndeliverable} {
		m := meshserver.Message{ID: "2026112410000000000" + string(rune('0'+i)) + "_BROWSE", MessageType: meshserver.TypeData,
			Sender: "X99OT001", Recipient: "A11111OT001", WorkflowID: "GPFED_CONSULT_REPORT", Status: st,
			CreatedAt: now, StatusAt: now}
		if st == meshserver.StatusUndeliverable {
			m.StatusCode, m.StatusDescription = "14", "Message not collected by recipient after 5 days"
		}
		if err := store.CreateMessage(t.Context(), m, nil); err != nil {
			t.Fatal(err)
		}
	}
	env := MustServer(t, web.Config{Mesh: store})
	env.seed()

	b.login(env.ts.URL, "sender")
	b.do("see the dashboard", chromedp.WaitVisible(chromedp.CSS("#transmissions")))
	if got := b.text("#alerts"); !strings.Contains(got, "No business acknowledgement") {
		t.Fatalf("alerts: %q", got)
	}
	b.screenshot("02-outbox")
	pdf := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(pdf, senddoc.ExamplePDF(), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do("open the send form",
		chromedp.Click(chromedp.CSS("a#send-link")),
		chromedp.WaitVisible(chromedp.CSS("#nhs_number")),
	)
	b.do("fill in the report",
		chromedp.SendKeys(chromedp.CSS("#nhs_number"), "999 000 0018"),
		chromedp.SendKeys(chromedp.CSS("#given"), "Alice"),
		chromedp.SendKeys(chromedp.CSS("#family"), "ALPHA"),
		chromedp.SetValue(chromedp.CSS("#birth_date"), "1980-03-27"),
		chromedp.SetValue(chromedp.CSS("#encounter_start"), "2026-11-24T09:30"),
		chromedp.SendKeys(chromedp.CSS("#sds_user_id"), "123456789012"),
		chromedp.SendKeys(chromedp.CSS("#practitioner_family"), "GP"),
		chromedp.SendKeys(chromedp.CSS("#notes"), "Chest clear. No treatment needed."),
		chromedp.SetUploadFiles(chromedp.CSS("#pdf"), []string{pdf}),
	)
	b.screenshot("03-send-form")
	b.do("check and send",
		chromedp.Click(chromedp.CSS(`form[action="/outbox/send"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.screenshot("04-sent")
	if len(env.outbox.sent) != 1 || !strings.HasPrefix(string(env.outbox.sent[0].PDF), "%PDF") {
		t.Fatal("the report with its PDF did not reach the outbox")
	}
	b.do("back to the dashboard",
		chromedp.Click(chromedp.CSS(`a.nhsuk-back-link`)),
		chromedp.WaitVisible(chromedp.CSS("#alerts")),
	)
	b.do("open the failed transmission",
		chromedp.Click(chromedp.CSS(`#alerts a[href="/outbox/tx-2"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/outbox/tx-2/resend"]`)),
	)
	b.screenshot("05-transmission-failed")
	b.do("resend",
		chromedp.Click(chromedp.CSS(`form[action="/outbox/tx-2/resend"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.screenshot("06-transmission-resent")
	b.do("sign out",
		chromedp.Click(chromedp.CSS(".nhsuk-header__account-button")),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	)

	b.do("sign in as admin",
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#mailboxes")),
	)
	if got := b.text("#undelivered"); !strings.Contains(got, "20261124100000000002_BROWSE") {
		t.Fatalf("undelivered: %q", got)
	}
	b.screenshot("07-mesh-admin")
	b.checkConsole()
}
