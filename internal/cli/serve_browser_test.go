package cli_test

import (
	"fmt"
	"github.com/gpcm/gpcm/internal/testutil"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/senddoc"
)

// serveBrowser drives a running "gpcm serve" in headless Chromium (see
// internal/testutil), numbering its screenshots in step order.
type serveBrowser struct {
	*testutil.Browser
	base string
	pw   map[string]string
	step int
}

func newServeBrowser(t *testing.T, base string, pw map[string]string) *serveBrowser {
	t.Helper()
	return &serveBrowser{Browser: testutil.MustBrowser(t, 4*time.Minute), base: base, pw: pw}
}

// until reloads path until the JavaScript condition holds, for at most limit.
func (b *serveBrowser) until(what, path, cond string, limit time.Duration) {
	b.T.Helper()
	deadline := time.Now().Add(limit)
	for {
		b.Do("load "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("main")))
		if b.Eval("String(Boolean("+cond+"))") == "true" {
			return
		}
		if time.Now().After(deadline) {
			b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
			b.T.Fatalf("%s: not within %s (%s)", what, limit, cond)
		}
		time.Sleep(time.Second)
	}
}

// shot saves a full-page PNG numbered in step order.
func (b *serveBrowser) shot(name string) {
	b.T.Helper()
	b.step++
	b.Screenshot(fmt.Sprintf("%02d-%s", b.step, name))
}

// login signs out of any session and signs in as user.
func (b *serveBrowser) login(user string) {
	b.T.Helper()
	b.Do("open the sign-in page", chromedp.Navigate(b.base+"/"), chromedp.WaitReady(chromedp.CSS("body")))
	if b.Eval(`String(document.querySelector(".nhsuk-header__account-button") !== null)`) == "true" {
		b.Do("sign out", chromedp.Click(chromedp.CSS(".nhsuk-header__account-button")), chromedp.WaitVisible(chromedp.CSS("#username")))
	}
	b.Do("sign in as "+user,
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
	b.T.Helper()
	b.Do("open the dashboard", chromedp.Navigate(b.base+"/outbox"), chromedp.WaitVisible(chromedp.CSS("a#send-link")))
	b.Do("open the send form", chromedp.Click(chromedp.CSS("a#send-link")), chromedp.WaitVisible(chromedp.CSS("#nhs_number")))
	b.Do("fill in the report",
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
	b.Do("check and send",
		chromedp.Click(chromedp.CSS(`form[action="/outbox/send"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	return b.Eval(`location.pathname`)
}

// TestServeBrowser drives the whole demo loop of "gpcm serve" through the
// web UI: a provider sends a report over MESH, the practice files it, the
// provider sees both acknowledgements, the practice matches the held demo
// document, and a report for a patient MESH does not know raises an alert.
func TestServeBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end browser test")
	}
	// Reports go at once (the edit window and its "Send now" are web's
	// TestBrowserOutboxEditWindow), so the demo loop keeps its time budget.
	p := startServe(t, filepath.Join(t.TempDir(), "gpcm-data"), "--edit-window", "0")
	b := newServeBrowser(t, p.url, p.passwords(t))
	pdf := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(pdf, senddoc.ExamplePDF(), 0o644); err != nil {
		t.Fatal(err)
	}

	// The practice's view before: which documents exist, and the demo
	// patient Jane SMITH's NHS number as the inbox shows it.
	b.login("practice")
	b.Do("open the whole inbox", chromedp.Navigate(p.url+"/inbox?state=all"), chromedp.WaitVisible(chromedp.CSS("#document-table")))
	before := b.Eval(`Array.from(document.querySelectorAll("#document-table tbody tr")).map(r => r.dataset.id).join(",")`)
	smith := b.Eval(`(Array.from(document.querySelectorAll("#document-table tbody tr")).find(r => r.textContent.toUpperCase().includes("SMITH")) || {cells: [0,0,{textContent: ""}]}).cells[2].textContent.replace(/\s/g, "")`)
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
	id := b.Eval(rowNew + `.dataset.id`)
	b.shot("practice-inbox-arrived")
	b.Do("open the new document",
		chromedp.Click(chromedp.CSS(`tr[data-id="`+id+`"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/inbox/`+id+`/file"]`)),
	)
	b.Do("file it",
		chromedp.Click(chromedp.CSS(`form[action="/inbox/`+id+`/file"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.shot("practice-filed")

	// 3. The provider sees the transmission complete: the infrastructure and
	// the business acknowledgement both came back.
	b.login("sender")
	b.until("the transmission completes", tx, `document.querySelector("#live .nhsuk-tag").textContent.trim() === "complete"`, time.Minute)
	timeline := b.Eval(`document.querySelector("#timeline").textContent`)
	for _, want := range []string{"InfAck", "BusAck"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline of %s lacks %q:\n%s", tx, want, timeline)
		}
	}
	b.shot("sender-complete")

	// 3b. The provider sends a corrected version of the report; the
	// practice receives it flagged as a replacement and the first version is
	// archived.
	b.Do("open the correction form", chromedp.Click(chromedp.CSS("#replace-link")), chromedp.WaitVisible(chromedp.CSS("#notes")))
	if got := b.Eval(`document.querySelector("#nhs_number").value.replace(/\s/g, "")`); got != smith {
		t.Errorf("correction form NHS number %q, want the original's %s", got, smith)
	}
	b.Do("correct the notes", chromedp.SetValue(chromedp.CSS("#notes"), "Chest clear. Corrected: review in two weeks."))
	b.shot("sender-replace-form")
	b.Do("send the corrected version",
		chromedp.Click(chromedp.CSS("#send-replacement")),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	replacement := b.Eval(`location.pathname`)
	if got := b.Eval(`(document.querySelector("#replaces a") || {}).getAttribute ? document.querySelector("#replaces a").getAttribute("href") : ""`); got != tx {
		t.Errorf("replacement %s links to %q, want %s", replacement, got, tx)
	}
	b.shot("sender-replacement-sent")
	b.until("the outbox flags the replacement", "/outbox", `(document.querySelector('#transmissions tr[data-id="`+strings.TrimPrefix(replacement, "/outbox/")+`"]') || {textContent: ""}).textContent.includes("Replacement")`, 10*time.Second)
	b.shot("sender-outbox-replacement")
	b.until("the original links to its replacement", tx, `document.querySelector('#replaced-by a[href="`+replacement+`"]') !== null`, 10*time.Second)
	b.login("practice")
	b.until("the corrected version arrives", "/inbox?state=awaiting-filing", `document.querySelector("#document-table tbody tr .gpcm-replacement") !== null`, time.Minute)
	b.shot("practice-inbox-replacement")
	b.until("the first version is archived", "/inbox?state=replaced", `document.querySelector('#document-table tr[data-id="`+id+`"]') !== null`, 10*time.Second)
	b.shot("practice-inbox-replaced")

	// 4. The practice matches the held demo document (it names David OKAFOR
	// as "Dave") to the patient.
	b.login("practice")
	b.Do("open the unmatched tab", chromedp.Click(chromedp.CSS(`a[href="/inbox?state=unmatched"]`)), chromedp.WaitVisible(chromedp.CSS("#document-table")))
	held := b.Eval(`document.querySelector("#document-table tbody tr").dataset.id`)
	b.Do("open the held document",
		chromedp.Click(chromedp.CSS(`tr[data-id="`+held+`"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`form#find-patient`)),
	)
	b.shot("practice-held")
	b.Do("find the patient on the register by the NHS number",
		chromedp.Click(chromedp.CSS(`form#find-patient button`)),
		chromedp.WaitVisible(chromedp.CSS(`#results`)),
	)
	b.shot("practice-match-search")
	nhs := b.Eval(`document.querySelector("#results tbody tr").dataset.nhs`)
	b.Do("choose the patient",
		chromedp.Click(chromedp.CSS(`#results tbody tr button`)),
		chromedp.WaitVisible(chromedp.CSS(`#compare`)),
	)
	if cmp := b.Eval(`document.querySelector("#compare").textContent.replace(/\s+/g, " ")`); !strings.Contains(cmp, "OKAFOR") || !strings.Contains(cmp, "Differs") {
		t.Errorf("comparison does not show both patients and the difference: %s", cmp)
	}
	b.shot("practice-match-confirm")
	b.Do("match it, with the reason the differing details need",
		chromedp.SendKeys(chromedp.CSS(`#reason`), "confirmed date of birth with the sender by phone"),
		chromedp.Click(chromedp.CSS(`#confirm-match`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	// The history is a table: the manual match is one row whose Who cell
	// names the practice user who made it.
	if row := b.Eval(`Array.from(document.querySelectorAll("#history tr")).map(r => Array.from(r.cells).map(c => c.textContent.trim()).join("|")).find(r => r.includes("Matched by hand")) || ""`); !strings.Contains(row, "|practice|") {
		t.Errorf("history lacks a 'Matched by hand' row by the practice user: %q", row)
	}
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
	if alerts := b.Eval(`document.querySelector("#alerts").textContent.replace(/\s+/g, " ")`); !strings.Contains(alerts, "EPL-153") {
		t.Errorf("alert for %s does not name EPL-153: %s", lost, alerts)
	}
	b.CheckConsole()
}
