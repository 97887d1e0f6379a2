package cli_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/senddoc"
)

// serveBrowser is one headless Chromium with a fresh profile driving a
// running "gpcm serve", and the messages its pages wrote to the console.
type serveBrowser struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	base string
	pw   map[string]string
	step int

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

func newServeBrowser(t *testing.T, base string, pw map[string]string) *serveBrowser {
	t.Helper()
	path := os.Getenv("GPCM_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path == "" {
			path, _ = exec.LookPath(name)
		}
	}
	if path == "" {
		if os.Getenv("GPCM_TEST_STRICT") == "1" {
			t.Fatal("chromium not found (apt-get install -y chromium) and GPCM_TEST_STRICT=1")
		}
		t.Skip("chromium not found: install the Debian package chromium to run browser tests")
	}
	dir := t.TempDir()
	if base := os.Getenv("GPCM_TEST_ARTIFACTS"); base != "" {
		dir = filepath.Join(base, t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(t.Context()),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	b := &serveBrowser{t: t, ctx: ctx, dir: dir, base: base, pw: pw}
	if err := chromedp.Do(ctx); err != nil {
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

// do runs one user step, again when a live refresh replaced a node between
// query and action (the step then did nothing).
func (b *serveBrowser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	var err error
	for range 4 {
		if err = chromedp.Do(b.ctx, steps...); err == nil || !isStale(err) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
}

func isStale(err error) bool {
	return strings.Contains(err.Error(), "Could not find node with given id") || strings.Contains(err.Error(), "Node is detached")
}

// until reloads path until the JavaScript condition holds, for at most limit.
func (b *serveBrowser) until(what, path, cond string, limit time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		b.do("load "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("main")))
		if b.eval("String(Boolean("+cond+"))") == "true" {
			return
		}
		if time.Now().After(deadline) {
			b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
			b.t.Fatalf("%s: not within %s (%s)", what, limit, cond)
		}
		time.Sleep(time.Second)
	}
}

func (b *serveBrowser) eval(expr string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// shot saves a full-page PNG numbered in step order.
func (b *serveBrowser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.step++
	p := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.step, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
}

// login signs out of any session and signs in as user.
func (b *serveBrowser) login(user string) {
	b.t.Helper()
	b.do("open the sign-in page", chromedp.Navigate(b.base+"/"), chromedp.WaitReady(chromedp.CSS("body")))
	if b.eval(`String(document.querySelector(".nhsuk-header__account-button") !== null)`) == "true" {
		b.do("sign out", chromedp.Click(chromedp.CSS(".nhsuk-header__account-button")), chromedp.WaitVisible(chromedp.CSS("#username")))
	}
	b.do("sign in as "+user,
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), b.pw[user]),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("nav.nhsuk-header__navigation")),
	)
}

// send fills the send form for a patient and submits it; it returns the
// transmission page's path.
func (b *serveBrowser) send(nhs, given, family, birth, gender, pdf string) string {
	b.t.Helper()
	b.do("open the dashboard", chromedp.Navigate(b.base+"/outbox"), chromedp.WaitVisible(chromedp.CSS("a#send-link")))
	b.do("open the send form", chromedp.Click(chromedp.CSS("a#send-link")), chromedp.WaitVisible(chromedp.CSS("#nhs_number")))
	b.do("fill in the report",
		chromedp.SendKeys(chromedp.CSS("#nhs_number"), nhs),
		chromedp.SendKeys(chromedp.CSS("#given"), given),
		chromedp.SendKeys(chromedp.CSS("#family"), family),
		chromedp.SetValue(chromedp.CSS("#birth_date"), birth),
		chromedp.SetValue(chromedp.CSS("#gender"), gender),
		chromedp.SetValue(chromedp.CSS("#encounter_start"), time.Now().Add(-time.Hour).Format("2006-01-02T15:04")),
		chromedp.SendKeys(chromedp.CSS("#sds_user_id"), "123456789012"),
		chromedp.SendKeys(chromedp.CSS("#practitioner_family"), "GP"),
		chromedp.SendKeys(chromedp.CSS("#notes"), "Chest clear. No treatment needed."),
		chromedp.SetUploadFiles(chromedp.CSS("#pdf"), []string{pdf}),
	)
	b.shot("send-form")
	b.do("check and send",
		chromedp.Click(chromedp.CSS(`form[action="/outbox/send"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	return b.eval(`location.pathname`)
}

func (b *serveBrowser) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		if m.IsException() || m.Type == "error" || strings.Contains(m.Text, "Content Security Policy") {
			b.t.Errorf("browser console: %s", m)
		}
	}
}

// TestServeBrowser drives the whole demo loop of "gpcm serve" through the
// web UI: a provider sends a report over MESH, the practice files it, the
// provider sees both acknowledgements, the practice matches the held demo
// document, and a report for a patient MESH does not know raises an alert.
func TestServeBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end browser test")
	}
	p := startServe(t, filepath.Join(t.TempDir(), "gpcm-data"))
	b := newServeBrowser(t, p.url, p.passwords(t))
	pdf := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(pdf, senddoc.ExamplePDF(), 0o644); err != nil {
		t.Fatal(err)
	}

	// The practice's view before: which documents exist, and the demo
	// patient Jane SMITH's NHS number as the inbox shows it.
	b.login("practice")
	b.do("open the whole inbox", chromedp.Navigate(p.url+"/inbox?state=all"), chromedp.WaitVisible(chromedp.CSS("#document-table")))
	before := b.eval(`Array.from(document.querySelectorAll("#document-table tbody tr")).map(r => r.dataset.id).join(",")`)
	smith := b.eval(`(Array.from(document.querySelectorAll("#document-table tbody tr")).find(r => r.textContent.toUpperCase().includes("SMITH")) || {cells: [0,0,{textContent: ""}]}).cells[2].textContent.replace(/\s/g, "")`)
	if len(smith) != 10 {
		t.Fatalf("no NHS number for the demo patient SMITH in the inbox (%q)", smith)
	}
	b.shot("practice-inbox-before")

	// 1. The provider sends a report for Jane SMITH.
	b.login("sender")
	tx := b.send(smith, "Jane", "Smith", "1967-01-26", "female", pdf)
	if !strings.HasPrefix(tx, "/outbox/") {
		t.Fatalf("after sending the browser is on %q, want /outbox/ID", tx)
	}
	b.shot("sent")

	// 2. It arrives in the practice inbox over MESH; the practice files it.
	b.login("practice")
	rowNew := `Array.from(document.querySelectorAll("#document-table tbody tr")).find(r => !(",` + before + `,").includes("," + r.dataset.id + ","))`
	b.until("the report arrives", "/inbox?state=awaiting-filing", rowNew+" !== undefined", time.Minute)
	id := b.eval(rowNew + `.dataset.id`)
	b.shot("practice-inbox-arrived")
	b.do("open the new document",
		chromedp.Click(chromedp.CSS(`tr[data-id="`+id+`"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/inbox/`+id+`/file"]`)),
	)
	b.do("file it",
		chromedp.Click(chromedp.CSS(`form[action="/inbox/`+id+`/file"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.shot("practice-filed")

	// 3. The provider sees the transmission complete: the infrastructure and
	// the business acknowledgement both came back.
	b.login("sender")
	b.until("the transmission completes", tx, `document.querySelector("#live .nhsuk-tag").textContent.trim() === "complete"`, time.Minute)
	timeline := b.eval(`document.querySelector("#timeline").textContent`)
	for _, want := range []string{"InfAck", "BusAck"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline of %s lacks %q:\n%s", tx, want, timeline)
		}
	}
	b.shot("sender-complete")

	// 4. The practice matches the held demo document (it names David OKAFOR
	// as "Dave") to the patient.
	b.login("practice")
	b.do("open the unmatched tab", chromedp.Click(chromedp.CSS(`a[href="/inbox?state=unmatched"]`)), chromedp.WaitVisible(chromedp.CSS("#document-table")))
	held := b.eval(`document.querySelector("#document-table tbody tr").dataset.id`)
	b.do("open the held document",
		chromedp.Click(chromedp.CSS(`tr[data-id="`+held+`"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/inbox/`+held+`/match"]`)),
	)
	nhs := b.eval(`document.querySelector(".gpcm-patient-banner__details dd").textContent.replace(/\s/g, "")`)
	b.do("match it",
		chromedp.SendKeys(chromedp.CSS("#nhs_number"), nhs),
		chromedp.Click(chromedp.CSS(`form[action="/inbox/`+held+`/match"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.shot("practice-matched")

	// 5. A report for a valid NHS number MESH has no record of comes back as
	// an EPL-153 report and raises an alert on the dashboard.
	stranger := patient.GenerateTestNHSNumber(rand.New(rand.NewPCG(7, 7)))
	if strings.Contains(before, stranger) || stranger == smith || stranger == nhs {
		t.Fatalf("generated NHS number is a demo patient's")
	}
	b.login("sender")
	lost := b.send(stranger, "Nobody", "Known", "1990-05-05", "male", pdf)
	b.shot("sent-unknown")
	b.until("the alert appears", "/outbox", `document.querySelector('#alerts a[href="`+lost+`"]') !== null`, time.Minute)
	b.shot("sender-alert")
	if alerts := b.eval(`document.querySelector("#alerts").textContent.replace(/\s+/g, " ")`); !strings.Contains(alerts, "EPL-153") {
		t.Errorf("alert for %s does not name EPL-153: %s", lost, alerts)
	}
	b.checkConsole()
}
