package web_test

import (
	"github.com/gpcm/gpcm/internal/testutil"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/web"
)

// browser drives the UI in headless Chromium (see internal/testutil).
type browser struct{ *testutil.Browser }

// MustBrowser starts headless Chromium for the test and stops it at cleanup.
func MustBrowser(t *testing.T) *browser { return &browser{testutil.MustBrowser(t, 90*time.Second)} }

func (b *browser) login(base, username string) {
	b.T.Helper()
	b.Do("open the sign-in page",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	)
	b.Do("sign in",
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
	)
	b.Screenshot("01-login")
	b.Do("submit sign-in",
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("nav.nhsuk-header__navigation")),
	)
}

func TestBrowserValidator(t *testing.T) {
	b := MustBrowser(t)
	env := MustServer(t, web.Config{})
	example := readExample(t, "consultation_report.xml")

	b.login(env.ts.URL, "admin")
	b.Do("open the validator",
		chromedp.Click(chromedp.CSS(`nav.nhsuk-header__navigation a[href="/validator"]`)),
		chromedp.WaitVisible(chromedp.CSS("textarea#message")),
	)
	if got := b.Eval(`document.body.className`); !strings.Contains(got, "nhsuk-frontend-supported") {
		t.Fatalf("body class %q: app.js did not run under the CSP", got)
	}
	b.Screenshot("02-validator")
	b.Do("paste the official example",
		chromedp.SetValue(chromedp.CSS("textarea#message"), string(example)),
		chromedp.Click(chromedp.CSS(`form[action="/validator"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#results")),
	)
	outcome := b.Text("#outcome")
	t.Logf("outcome: %s", outcome)
	if !strings.Contains(outcome, "found") {
		t.Fatalf("outcome %q does not report a result", outcome)
	}
	if n := b.Eval(`String(document.querySelectorAll("#findings tbody tr").length)`); n == "0" {
		t.Fatal("no findings rows")
	}
	first := b.Text("#findings tbody tr td.gpcm-req")
	if !strings.Contains(first, "-") {
		t.Fatalf("first finding's requirement %q is not an ID", first)
	}
	b.Do("scroll to the findings", chromedp.ScrollIntoView(chromedp.CSS("#findings")))
	b.Screenshot("03-validator-findings")

	// Keyboard use: the skip link is the first thing Tab reaches.
	b.Do("tab to the skip link", chromedp.KeyEvent("\t"))
	if got := b.Eval(`document.activeElement.className`); !strings.Contains(got, "nhsuk-skip-link") {
		t.Errorf("first Tab focuses %q, want the skip link", got)
	}
	b.CheckConsole()
}

func TestBrowserLiveInbox(t *testing.T) {
	b := MustBrowser(t)
	env := MustServer(t, web.Config{})
	env.seed()

	b.login(env.ts.URL, "practice-a")
	b.Do("open the inbox", chromedp.WaitVisible(chromedp.CSS("#document-table")))
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`document.body.dataset.liveConnected === "true"`)); err != nil {
		t.Fatalf("event stream did not connect: %v", err)
	}
	b.Screenshot("02-inbox")

	now := time.Now()
	env.inbox.add(web.Document{DocumentSummary: web.DocumentSummary{
		ID: "doc-live", PracticeODS: "A11111", State: web.StateAwaitingFiling, Type: "Consultation report",
		ForAction: true, ReceivedAt: now, PatientName: "Carol CHARLIE", NHSNumber: "9990000042", Sender: "Demo Urgent Care (X99)",
	}})
	env.srv.Publish(web.Event{Topic: web.InboxTopic("A11111"), Name: "document", Data: "doc-live"})
	b.Do("see the new document without reload",
		chromedp.WaitVisible(chromedp.CSS(`tr[data-id="doc-live"]`)),
	)
	if got := b.Eval(`document.body.dataset.liveRefreshes`); got == "" {
		t.Fatal("the row appeared without a live refresh (page reloaded?)")
	}
	b.Screenshot("03-inbox-live")

	b.Do("open the document",
		chromedp.Click(chromedp.CSS(`tr[data-id="doc-live"] a`)),
		chromedp.WaitVisible(chromedp.CSS(".gpcm-patient-banner")),
	)
	b.Screenshot("04-document")
	b.Do("file it",
		chromedp.Click(chromedp.CSS(`form[action="/inbox/doc-live/file"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.Screenshot("05-filed")
	if d, _ := env.inbox.GetDocument(t.Context(), "A11111", "doc-live"); d.State != web.StateFiled {
		t.Fatalf("doc-live is %s, want filed", d.State)
	}
	b.CheckConsole()
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
	b.Do("see the dashboard", chromedp.WaitVisible(chromedp.CSS("#transmissions")))
	if got := b.Text("#alerts"); !strings.Contains(got, "No business acknowledgement") {
		t.Fatalf("alerts: %q", got)
	}
	b.Screenshot("02-outbox")
	pdf := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(pdf, senddoc.ExamplePDF(), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Do("open the send form",
		chromedp.Click(chromedp.CSS("a#send-link")),
		chromedp.WaitVisible(chromedp.CSS("#nhs_number")),
	)
	b.Do("fill in the report",
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
	b.Screenshot("03-send-form")
	b.Do("check and send",
		chromedp.Click(chromedp.CSS(`form[action="/outbox/send"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.Screenshot("04-sent")
	if len(env.outbox.sent) != 1 || !strings.HasPrefix(string(env.outbox.sent[0].PDF), "%PDF") {
		t.Fatal("the report with its PDF did not reach the outbox")
	}
	b.Do("back to the dashboard",
		chromedp.Click(chromedp.CSS(`a.nhsuk-back-link`)),
		chromedp.WaitVisible(chromedp.CSS("#alerts")),
	)
	b.Do("open the failed transmission",
		chromedp.Click(chromedp.CSS(`#alerts a[href="/outbox/tx-2"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/outbox/tx-2/resend"]`)),
	)
	b.Screenshot("05-transmission-failed")
	b.Do("resend",
		chromedp.Click(chromedp.CSS(`form[action="/outbox/tx-2/resend"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.Screenshot("06-transmission-resent")
	b.Do("sign out",
		chromedp.Click(chromedp.CSS(".nhsuk-header__account-button")),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	)

	b.Do("sign in as admin",
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#mailboxes")),
	)
	if got := b.Text("#undelivered"); !strings.Contains(got, "20261124100000000002_BROWSE") {
		t.Fatalf("undelivered: %q", got)
	}
	b.Screenshot("07-mesh-admin")
	b.CheckConsole()
}

// TestBrowserMatchAndReplace matches an unmatched document by hand to a
// register patient and sends a corrected version of a completed report.
func TestBrowserMatchAndReplace(t *testing.T) {
	b := MustBrowser(t)
	env := MustServer(t, web.Config{})
	env.seed()
	env.seedRegister()

	b.login(env.ts.URL, "practice-a")
	b.Do("open the unmatched document",
		chromedp.Navigate(env.ts.URL+"/inbox/doc-a2"),
		chromedp.WaitVisible(chromedp.CSS("form#find-patient")),
	)
	b.Do("search by last name and date of birth",
		chromedp.Click(chromedp.CSS(`a[href="/inbox/doc-a2/match?by=name"]`)),
		chromedp.WaitVisible(chromedp.CSS("#search-name #family")),
		chromedp.SendKeys(chromedp.CSS("#family"), "Okafor"),
		chromedp.SendKeys(chromedp.CSS("#birth_date"), "2"), // the NHS date input: day, month, year
		chromedp.SendKeys(chromedp.CSS("#birth_date-month"), "5"),
		chromedp.SendKeys(chromedp.CSS("#birth_date-year"), "1971"),
		chromedp.Click(chromedp.CSS("#search-name button")),
		chromedp.WaitVisible(chromedp.CSS("#results")),
	)
	b.Screenshot("02-match-search")
	b.Do("choose David",
		chromedp.Click(chromedp.CSS(`#results button[value="9990000042"]`)),
		chromedp.WaitVisible(chromedp.CSS("#compare")),
	)
	b.Screenshot("03-match-confirm")
	b.Do("confirm with a reason (the details differ, issue 24 §5)",
		chromedp.SendKeys(chromedp.CSS("#reason"), "Date of birth confirmed with the sender by phone"),
		chromedp.Click(chromedp.CSS("#confirm-match")),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	if h := b.Text("#history"); !strings.Contains(h, "Matched by hand") {
		t.Fatalf("history: %q", h)
	}
	b.Screenshot("04-matched")
	b.Do("sign out", chromedp.Click(chromedp.CSS(".nhsuk-header__account-button")), chromedp.WaitVisible(chromedp.CSS("#username")))

	b.login(env.ts.URL, "sender")
	in := senddoc.Example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	id, err := env.outbox.SendReport(t.Context(), "X99", in, "sender", "")
	if err != nil {
		t.Fatal(err)
	}
	env.outbox.setState(id, "complete")
	b.Do("open the complete transmission",
		chromedp.Navigate(env.ts.URL+"/outbox/"+id),
		chromedp.WaitVisible(chromedp.CSS("#replace-link")),
	)
	b.Do("open the correction form", chromedp.Click(chromedp.CSS("#replace-link")), chromedp.WaitVisible(chromedp.CSS("#notes")))
	b.Do("correct the notes", chromedp.SetValue(chromedp.CSS("#notes"), "Corrected notes."))
	b.Screenshot("05-replace-form")
	b.Do("send the corrected version",
		chromedp.Click(chromedp.CSS("#send-replacement")),
		chromedp.WaitVisible(chromedp.CSS(`#replaces a[href="/outbox/`+id+`"]`)),
	)
	b.Screenshot("06-replacement")
	b.Do("see the outbox", chromedp.Navigate(env.ts.URL+"/outbox"), chromedp.WaitVisible(chromedp.CSS("#transmissions")))
	if got := b.Eval(`document.querySelector("#transmissions tbody tr").textContent`); !strings.Contains(got, "Replacement") {
		t.Fatalf("newest outbox row: %q", got)
	}
	b.Screenshot("07-outbox")
	b.CheckConsole()
}
