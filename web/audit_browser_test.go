package web_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/web"
)

// TestBrowserConfidentialSubject: a confidential (R) v1 consultation report
// whose MESH subject still says where the patient was seen arrives over
// real MESH, is filed by the receiver, and the practice inbox, list and
// document page, never shows the "seen at …" or "ODS Code …" text
// (1.5.2:GPCM-SD-CS-030; issue 20 item 3).
func TestBrowserConfidentialSubject(t *testing.T) {
	ctx := t.Context()
	l := newLoop(t)
	in := l.input()
	in.SenderMailbox, in.Author, in.Confidential = "X27ABC1", loopAuthor, true
	b, err := senddoc.Build(in, senddoc.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := b.XML()
	if err != nil {
		t.Fatal(err)
	}
	leaky := "Consultation report for Jane Smith, NHS Number " + l.nhs + ", seen at Test Provider, ODS Code X27, Version 1"
	if _, err := l.client("X27ABC1").Send(ctx, mesh.SendRequest{To: "X26ABC1", WorkflowID: senddoc.WorkflowV1, Subject: leaky,
		LocalID: "X27", Body: bytes.NewReader(x), Size: int64(len(x))}); err != nil {
		t.Fatal(err)
	}
	if err := l.rcv.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	docs, err := listDocs(l.inbox.ListDocuments(ctx, "X26", web.DocumentFilter{}))
	if err != nil || len(docs) != 1 {
		t.Fatalf("inbox: %d documents, %v; want the confidential report filed", len(docs), err)
	}

	users := usersWith(t, web.User{Username: "practice-x26", Name: "Pru Practice", Role: web.RolePractice, ODS: "X26"})
	env := MustServer(t, web.Config{Users: users, Inbox: l.inbox})
	br := MustBrowser(t)
	br.login(env.ts.URL, "practice-x26")
	br.Do("open the inbox", chromedp.WaitVisible(chromedp.CSS("#document-table")))
	noWhere := func(page string) {
		t.Helper()
		text := br.Eval(`document.body.innerText`)
		for _, s := range []string{"seen at", "ODS Code", "Test Provider, ODS"} {
			if strings.Contains(text, s) {
				t.Errorf("%s shows %q: %q", page, s, text)
			}
		}
	}
	noWhere("the inbox")
	br.Screenshot("02-inbox")
	br.Do("open the document",
		chromedp.Click(chromedp.CSS(`#document-table tbody tr a`)),
		chromedp.WaitVisible(chromedp.CSS(".gpcm-patient-banner")),
	)
	br.Screenshot("03-document")
	noWhere("the document page")
	if text := br.Eval(`document.body.innerText`); !strings.Contains(text, "Consultation report for Jane Smith, NHS Number "+l.nhs+", Version 1") {
		t.Errorf("the document page does not show the subject without where the patient was seen: %q", text)
	}
	br.CheckConsole()
}

// usersWith holds the given accounts (for the organisations of a test's
// loop), each with testPassword at bcrypt's minimum cost.
func usersWith(t *testing.T, us ...web.User) *web.MemUsers {
	t.Helper()
	users := web.NewMemUsers()
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		u.PasswordHash = h
		if err := users.Put(u); err != nil {
			t.Fatal(err)
		}
	}
	return users
}
