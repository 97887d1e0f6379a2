package web_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/updaterecord"
	"github.com/gpcm/gpcm/web"
)

// TestBrowserUpdateRecordBloodPressure: a community pharmacy's Blood
// Pressure Check update (GP Connect Update Record) arrives over real MESH,
// the receiver puts it in the practice worklist for review (UR-F05), and
// the document page shows the consultation as a GP reads it: the service,
// the pharmacist and pharmacy, the readings with their units and the
// "high" flag the pharmacist gave (UR-F10), the notes; filing it records
// who filed it.
func TestBrowserUpdateRecordBloodPressure(t *testing.T) {
	ctx := t.Context()
	l := newLoop(t)
	in := updaterecord.Example(updaterecord.UseCaseBloodPressure)
	in.SenderMailbox = "X27ABC1"
	in.Patient.NHSNumber, in.Patient.BirthDate, in.Patient.Family, in.Patient.Given = l.nhs, "1967-01-26", "Smith", []string{"Jane"}
	b, err := updaterecord.Build(in, updaterecord.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := b.XML()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.client("X27ABC1").Send(ctx, mesh.SendRequest{To: "X26ABC1", WorkflowID: updaterecord.Workflow, Subject: b.Envelope.Subject,
		LocalID: b.Envelope.LocalID, Body: bytes.NewReader(x), Size: int64(len(x))}); err != nil {
		t.Fatal(err)
	}
	if err := l.rcv.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	docs, err := listDocs(l.inbox.ListDocuments(ctx, "X26", web.DocumentFilter{}))
	if err != nil || len(docs) != 1 || docs[0].State != web.StateAwaitingFiling {
		t.Fatalf("inbox: %v, %v; want the update awaiting review", docs, err)
	}

	users := usersWith(t, web.User{Username: "practice-x26", Name: "Pru Practice", Role: web.RolePractice, ODS: "X26"})
	env := MustServer(t, web.Config{Users: users, Inbox: l.inbox})
	br := MustBrowser(t)
	br.login(env.ts.URL, "practice-x26")
	br.Do("open the inbox", chromedp.WaitVisible(chromedp.CSS("#document-table")))
	br.Do("open the update",
		chromedp.Click(chromedp.CSS(`#document-table tbody tr a`)),
		chromedp.WaitVisible(chromedp.CSS("#content")),
	)
	content := br.Text("#content")
	for _, want := range []string{"Blood Pressure Check", "152/96", "mmHg", "high", in.Pharmacy.Name} {
		if !strings.Contains(strings.ToLower(content), strings.ToLower(want)) {
			t.Errorf("the update's content does not show %q:\n%s", want, content)
		}
	}
	// The reading and its flag are on one row, the flag styled as a
	// warning.
	row := br.Eval(`(() => { for (const tr of document.querySelectorAll("#content tr")) { const v = tr.querySelector(".gpcm-value"); if (v && v.innerText.trim() === "152/96") return tr.innerText + "|" + (tr.querySelector(".gpcm-flag.nhsuk-tag--red") ? "red" : ""); } return ""; })()`)
	if !strings.Contains(row, "mmHg") || !strings.Contains(strings.ToLower(row), "high") || !strings.HasSuffix(row, "|red") {
		t.Errorf("blood pressure row %q: want value, unit and a red high flag", row)
	}
	br.Screenshot("update-record-blood-pressure")
	br.Do("file it",
		chromedp.Click(chromedp.CSS(`form[action$="/file"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	if h := br.Text("#history"); !strings.Contains(h, "Filed") || !strings.Contains(h, "practice-x26") && !strings.Contains(h, "Pru Practice") {
		t.Errorf("history %q does not say who filed it", h)
	}
	br.CheckConsole()
}
