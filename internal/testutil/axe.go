package testutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core's browser bundle from the npm packages of
// testdata/node (GPCM_TEST_NODE_MODULES), read once per test binary.
var axeSource = sync.OnceValues(func() (string, error) {
	dir := os.Getenv("GPCM_TEST_NODE_MODULES")
	if dir == "" {
		return "", fmt.Errorf("GPCM_TEST_NODE_MODULES is not set")
	}
	b, err := os.ReadFile(filepath.Join(dir, "axe-core", "axe.min.js"))
	if err != nil {
		return "", err
	}
	return string(b), nil
})

// AxeViolation is one rule a page breaks, as axe-core reports it.
type AxeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// axeRun runs axe-core on the page in the document's own context (the
// source is evaluated over DevTools, which the page's Content-Security-
// Policy does not govern) and returns the violations.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({
	id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => ({target: n.target, html: n.html.slice(0, 200)}))}))))`

// ErrNoAxe is returned by Axe when the npm package axe-core is missing.
var ErrNoAxe = errors.New("npm package axe-core not found")

// Axe runs axe-core on the current page and returns its violations.
func (b *Browser) Axe() ([]AxeViolation, error) {
	src, err := axeSource()
	if err != nil {
		return nil, fmt.Errorf("%w (%v; scripts/test installs testdata/node)", ErrNoAxe, err)
	}
	out, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`(() => { if (typeof axe === "undefined") { `+src+`
	}; return `+axeRun+` })()`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, err
	}
	var vs []AxeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		return nil, err
	}
	return vs, nil
}

// CheckAccessibility runs axe-core (npm, pinned in testdata/node) on the
// current page and fails the test for each serious or critical violation,
// naming the page; lesser ones are logged. Screenshot calls it for every
// page a browser test shows. Without the package the check is skipped
// with a log line, or the test fails when GPCM_TEST_STRICT=1.
func (b *Browser) CheckAccessibility(page string) {
	b.T.Helper()
	vs, err := b.Axe()
	switch {
	case errors.Is(err, ErrNoAxe) && os.Getenv("GPCM_TEST_STRICT") != "1":
		b.axeMissing.Do(func() { b.T.Logf("accessibility checks skipped: %v", err) })
		return
	case err != nil:
		b.T.Fatalf("axe-core on %s: %v (GPCM_TEST_STRICT=1 needs it)", page, err)
	}
	b.axeChecked++
	serious := 0
	for _, v := range vs {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target)+" "+n.HTML)
		}
		msg := fmt.Sprintf("axe-core on %s: %s (%s): %s\n\t%s", page, v.ID, v.Impact, v.Help, strings.Join(where, "\n\t"))
		if v.Impact == "serious" || v.Impact == "critical" {
			serious++
			b.T.Error(msg)
		} else {
			b.T.Log(msg)
		}
	}
	b.T.Logf("axe-core on %s: %d violations, %d serious or critical", page, len(vs), serious)
}

// AxeChecked says how many pages CheckAccessibility checked.
func (b *Browser) AxeChecked() int { return b.axeChecked }
