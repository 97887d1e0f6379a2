package testutil

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
)

// Browser is one headless Chromium with a fresh profile for a test of the
// web UI, and the messages its pages wrote to the console. Chromium is
// Debian's (or GPCM_CHROMIUM); without it the test skips, or fails when
// GPCM_TEST_STRICT=1.
type Browser struct {
	T   *testing.T
	Ctx context.Context
	// Dir holds screenshots: GPCM_TEST_ARTIFACTS/<test name> when set (kept
	// after the run), else a temporary directory.
	Dir string

	mu      sync.Mutex
	console []chromedp.ConsoleMessage

	axeMissing sync.Once
	axeChecked int
}

// MustBrowser starts headless Chromium for t, bounded by timeout, and stops
// it at cleanup.
func MustBrowser(t *testing.T, timeout time.Duration) *Browser {
	t.Helper()
	path := chromiumPath(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(t.Context()),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root on CI machines
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// The machines have no network but loopback: stop Chromium's own traffic.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	b := &Browser{T: t, Ctx: ctx, Dir: artifactDir(t)}
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

// Do runs one user step. Pages refresh their live regions when a server-sent
// event arrives, so a node found by a query can be replaced before chromedp
// acts on it; such a step failed before it did anything and is tried again.
// A step that fails leaves a screenshot and fails the test.
func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	var err error
	for range 4 {
		if err = chromedp.Do(b.Ctx, steps...); err == nil || !staleNode(err) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		b.Screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.T.Fatalf("%s: %v", what, err)
	}
}

// staleNode reports whether err says a node vanished between query and action.
func staleNode(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Could not find node with given id") || strings.Contains(msg, "No node with given id found") ||
		strings.Contains(msg, "Node is detached")
}

// Screenshot saves a full-page PNG named name.png in Dir and returns its
// path. Every page a test shows is also checked with axe-core
// (CheckAccessibility), but for the screenshots of failed steps.
func (b *Browser) Screenshot(name string) string {
	b.T.Helper()
	if !strings.HasPrefix(name, "failed-") {
		b.CheckAccessibility(name)
	}
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		b.T.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(b.Dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.T.Fatal(err)
	}
	b.T.Logf("screenshot: %s", p)
	return p
}

// Text returns the text of the element sel selects. Like Do, it tries
// again when the node was replaced between query and read.
func (b *Browser) Text(sel string) string {
	b.T.Helper()
	var s string
	var err error
	for range 4 {
		if s, err = chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(sel))); err == nil || !staleNode(err) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		b.T.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// Eval evaluates a JavaScript expression that yields a string.
func (b *Browser) Eval(expr string) string {
	b.T.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.T.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// CheckConsole fails the test on an exception or any browser error, such as
// a Content-Security-Policy violation or a missing asset.
func (b *Browser) CheckConsole() {
	b.T.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		if m.IsException() || m.Type == "error" || strings.Contains(m.Text, "Content Security Policy") {
			b.T.Errorf("browser console: %s", m)
		}
	}
}
