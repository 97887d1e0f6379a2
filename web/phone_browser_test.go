package web_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gpcm/gpcm/web"
)

// Live updates announce politely and leave focus alone (issue 24 §6): the
// refreshed table carries no aria-live of its own, one role=status region
// says what changed, and the link that had keyboard focus keeps it.
func TestBrowserLiveUpdatePolite(t *testing.T) {
	b := MustBrowser(t)
	env := MustServer(t, web.Config{})
	env.seed()
	b.login(env.ts.URL, "practice-a")
	b.Do("open the inbox", chromedp.WaitVisible(chromedp.CSS(`tr[data-id="doc-a1"]`)))
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`document.body.dataset.liveConnected === "true"`)); err != nil {
		t.Fatalf("event stream did not connect: %v", err)
	}
	if got := b.Eval(`String(document.querySelectorAll("[data-live][aria-live], [data-live] [aria-live]").length)`); got != "0" {
		t.Fatalf("%s live regions carry aria-live: a screen reader would re-read the table", got)
	}
	if got := b.Eval(`(s => s ? s.getAttribute("role") + " " + s.getAttribute("aria-live") : "none")(document.getElementById("live-status"))`); got != "status polite" {
		t.Fatalf("#live-status: %q, want role=status aria-live=polite", got)
	}
	b.Do("focus the first document's link", chromedp.Focus(chromedp.CSS(`tr[data-id="doc-a1"] a`)))

	env.inbox.add(web.Document{DocumentSummary: web.DocumentSummary{
		ID: "doc-live", PracticeODS: "A11111", State: web.StateAwaitingFiling, Type: "Consultation report",
		ForAction: true, ReceivedAt: time.Now(), PatientName: "Carol CHARLIE", NHSNumber: "9990000042", Sender: "Demo Urgent Care (X99)",
	}})
	env.srv.Publish(web.Event{Topic: web.InboxTopic("A11111"), Name: "document", Data: "doc-live"})
	b.Do("see the new row", chromedp.WaitVisible(chromedp.CSS(`tr[data-id="doc-live"]`)))
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`/1 new item/.test(document.getElementById("live-status").textContent)`)); err != nil {
		t.Fatalf("no polite announcement of the new row (status %q): %v", b.Eval(`document.getElementById("live-status").textContent`), err)
	}
	if got := b.Eval(`(a => a.tagName + " in " + ((a.closest("tr") || {dataset: {}}).dataset.id || "no row"))(document.activeElement)`); got != "A in doc-a1" {
		t.Fatalf("focus after the live update: %s, want the link of doc-a1", got)
	}
	b.CheckConsole()
}

// At 390 px (a phone) no page scrolls sideways as a whole; a table wider
// than the screen scrolls inside its container, which is then a named,
// focusable region, with its first column sticky (issue 24 §6). With
// GPCM_DOCS_SCREENSHOTS=1 the inbox and document screenshots are written
// to docs/screenshots for the README.
func TestBrowserPhoneWidth(t *testing.T) {
	const width = 390
	b := MustBrowser(t)
	env := MustServer(t, web.Config{})
	env.seed()
	b.Do("phone viewport", chromedp.EmulateViewport(width, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.login(env.ts.URL, "practice-a")
	docs := os.Getenv("GPCM_DOCS_SCREENSHOTS") == "1"
	shot := func(name string) {
		p := b.Screenshot(name)
		if docs && p != "" {
			png, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	fits := func(page string) {
		t.Helper()
		if got := b.Eval(`String(document.documentElement.scrollWidth)`); got != strconv.Itoa(width) {
			t.Errorf("%s at %d px: the page is %s px wide (scrolls sideways)", page, width, got)
		}
		// Every table container that scrolls is a focusable named region
		// with a sticky first column.
		bad := b.Eval(`Array.from(document.querySelectorAll(".nhsuk-table-container")).filter(c => c.scrollWidth > c.clientWidth + 1).filter(c =>
			c.tabIndex !== 0 || c.getAttribute("role") !== "region" || !(c.getAttribute("aria-labelledby") || c.getAttribute("aria-label")) ||
			getComputedStyle(c.querySelector("tr > :first-child")).position !== "sticky").map(c => c.querySelector("table").id).join(",")`)
		if bad != "" {
			t.Errorf("%s: scrolling tables %s are not focusable named regions with a sticky first column", page, bad)
		}
	}
	b.Do("open the inbox", chromedp.WaitVisible(chromedp.CSS(`tr[data-id="doc-a1"]`)))
	fits("inbox")
	shot("inbox-390px")
	b.Do("open a document",
		chromedp.Navigate(env.ts.URL+"/inbox/doc-a1"),
		chromedp.WaitVisible(chromedp.CSS(".gpcm-patient-banner")),
	)
	fits("document")
	shot("document-390px")
	b.CheckConsole()
}
