package web_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/web"
)

// seedDocuments records n accepted documents in state st straight into the
// loop's receiver store, received a minute apart from t0 (the oldest
// first), each for its own patient; it returns them in that order.
func seedDocuments(t *testing.T, l *loop, st receiver.DocumentState, n int, t0 time.Time, rng *rand.Rand) []receiver.Document {
	t.Helper()
	ctx := t.Context()
	ps := make([]receiver.RecordMessageParams, n)
	for i := range ps {
		id := fmt.Sprintf("2026120400000000%04d_%s", i, strings.ToUpper(string(st[:3])))
		ps[i] = receiver.RecordMessageParams{MeshID: id, WorkflowID: "GPFED_CONSULT_REPORT", From: "X27ABC1", To: "X26ABC1",
			Subject: "subject", BlobKey: "seed/" + id, Size: 1, ReceivedAt: t0}
	}
	if _, err := l.store.RecordMessages(ctx, ps); err != nil {
		t.Fatal(err)
	}
	ms, err := l.store.ClaimMessages(ctx, receiver.ClaimParams{Owner: "seed", Now: time.Now(), Lease: time.Hour, Limit: n})
	if err != nil || len(ms) != n {
		t.Fatalf("claim: %d, %v", len(ms), err)
	}
	cps := make([]receiver.CompleteParams, n)
	for i, m := range ms {
		hdr := "seed-" + m.MeshID
		cps[i] = receiver.CompleteParams{ID: m.ID, Owner: "seed", Now: t0.Add(time.Duration(i) * time.Minute), State: receiver.MessageAccepted,
			HeaderID: hdr, InfAckCode: 20013, Keys: []string{"header:" + hdr},
			Document: &receiver.NewDocument{DocumentID: hdr, State: st, Subject: "Consultation report", TypeLabel: "Report of clinical encounter",
				RecipientType: "FA", From: "X27ABC1", Findings: []string{}, HoldUntil: t0.Add(72 * time.Hour),
				Patient: receiver.DocPatient{NHSNumber: patient.GenerateTestNHSNumber(rng), BirthDate: "1960-01-01",
					Family: seedFamily(i), Given: "Pat"},
				Events: []receiver.NewDocumentEvent{{Kind: receiver.EventReceived, Detail: "MESH message " + m.MeshID}}}}
	}
	docs, err := l.store.CompleteMessages(ctx, cps)
	if err != nil || len(docs) != n {
		t.Fatalf("complete: %d, %v", len(docs), err)
	}
	return docs
}

// seedFamily is a family name of letters only, one per i below 676.
func seedFamily(i int) string { return "Fam" + string(rune('a'+i/26%26)) + string(rune('a'+i%26)) }

// rowIDs are the document ids of the inbox table's rows, in order.
func rowIDs(b *browser) []string {
	b.T.Helper()
	s := b.Eval(`[...document.querySelectorAll('#document-table tbody tr')].map(r => r.dataset.id).join(',')`)
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// The practice worklist scales (issue 24 §2): 250 documents awaiting
// filing are paged by the store, oldest first, with correct counts per
// state; a patient search finds one document among them; ten selected
// documents are filed at once, each recorded as filed by the person.
func TestBrowserInboxWorklist(t *testing.T) {
	l := newLoop(t)
	rng := rand.New(rand.NewPCG(24, 2))
	t0 := time.Now().Add(-300 * time.Minute).Truncate(time.Minute)
	awaiting := seedDocuments(t, l, receiver.DocAwaitingFiling, 250, t0, rng)
	held := seedDocuments(t, l, receiver.DocHeld, 3, t0, rng)
	users := usersWith(t, web.User{Username: "amy", Name: "Amy Admin", Role: web.RolePractice, ODS: "X26"})
	env := MustServer(t, web.Config{Users: users, Inbox: l.inbox})
	id := func(d receiver.Document) string { return strconv.FormatInt(d.ID, 10) }

	b := MustBrowser(t)
	b.login(env.ts.URL, "amy")
	b.Do("open the inbox", chromedp.WaitVisible(chromedp.CSS("#document-table")))
	b.Screenshot("02-inbox-page-1")
	counts := func() string {
		return b.Eval(`[...document.querySelectorAll('.gpcm-states a')].map(a => a.getAttribute('href').split('=')[1] + ':' + (a.querySelector('.nhsuk-tag') ? a.querySelector('.nhsuk-tag').textContent : '')).join(' ')`)
	}
	if got, want := counts(), "awaiting-filing:250 unmatched:3 replaced:0 rejected:0 filed:0 all:"; got != want {
		t.Errorf("state counts: got %q, want %q", got, want)
	}
	if got := b.Text("#showing"); !strings.Contains(got, "Showing 1 to 50 of 250") {
		t.Errorf("showing: %q", got)
	}
	rows := rowIDs(b)
	if len(rows) != 50 || rows[0] != id(awaiting[0]) || rows[49] != id(awaiting[49]) {
		t.Fatalf("page 1: %d rows from %v to %v; want the 50 oldest, oldest first (%s…%s)", len(rows), rows[0], rows[len(rows)-1], id(awaiting[0]), id(awaiting[49]))
	}
	for page := 2; page <= 5; page++ {
		b.Do(fmt.Sprintf("go to page %d", page),
			chromedp.Click(chromedp.CSS("#next-page")),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-id="%s"]`, id(awaiting[(page-1)*50])))),
		)
	}
	b.Screenshot("03-inbox-page-5")
	rows = rowIDs(b)
	if len(rows) != 50 || rows[49] != id(awaiting[249]) {
		t.Fatalf("page 5: %d rows, last %s; want the newest, %s, last", len(rows), rows[len(rows)-1], id(awaiting[249]))
	}
	if got := b.Text("#pages"); !strings.Contains(got, "Page 5 of 5") {
		t.Errorf("pager: %q", got)
	}
	if n := b.Eval(`String(document.querySelectorAll('#next-page').length)`); n != "0" {
		t.Errorf("the last page offers a next page")
	}
	markStale(b)
	b.Do("sort newest first",
		chromedp.SetValue(chromedp.CSS("#sort"), "newest"),
		chromedp.Click(chromedp.CSS("#search-button")),
		chromedp.WaitVisible(chromedp.CSS("body:not([data-stale])")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#document-table tbody tr:first-child[data-id="%s"]`, id(awaiting[249])))),
	)
	b.Do("unmatched documents show when they are rejected automatically",
		chromedp.Navigate(env.ts.URL+"/inbox?state=unmatched"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-id="%s"] .gpcm-deadline`, id(held[0])))),
	)

	// Search by NHS number, then by name: one document of the 253.
	target := awaiting[137]
	b.Do("open all documents",
		chromedp.Navigate(env.ts.URL+"/inbox?state=all"),
		chromedp.WaitVisible(chromedp.CSS("#patient")),
	)
	markStale(b)
	b.Do("search by NHS number",
		chromedp.SendKeys(chromedp.CSS("#patient"), patient.FormatNHSNumber(target.Patient.NHSNumber)),
		chromedp.Click(chromedp.CSS("#search-button")),
		chromedp.WaitVisible(chromedp.CSS("body:not([data-stale])")),
		chromedp.WaitVisible(chromedp.CSS("#showing")),
	)
	b.Screenshot("04-search")
	if rows := rowIDs(b); len(rows) != 1 || rows[0] != id(target) {
		t.Fatalf("NHS number search: rows %v, want only %s", rows, id(target))
	}
	markStale(b)
	b.Do("search by name",
		chromedp.SetValue(chromedp.CSS("#patient"), strings.ToUpper(seedFamily(137))),
		chromedp.Click(chromedp.CSS("#search-button")),
		chromedp.WaitVisible(chromedp.CSS("body:not([data-stale])")),
		chromedp.WaitVisible(chromedp.CSS("#showing")),
	)
	if rows := rowIDs(b); len(rows) != 1 || rows[0] != id(target) {
		t.Fatalf("name search: rows %v, want only %s", rows, id(target))
	}

	// Bulk filing: the ten oldest.
	b.Do("open awaiting filing", chromedp.Navigate(env.ts.URL+"/inbox"), chromedp.WaitVisible(chromedp.CSS("#bulk-file")))
	for _, d := range awaiting[:10] {
		b.Do("select "+id(d), chromedp.Click(chromedp.CSS("#select-"+id(d))))
	}
	b.Screenshot("05-selected")
	b.Do("file the selected documents",
		chromedp.Click(chromedp.CSS("#file-selected")),
		chromedp.WaitVisible(chromedp.CSS("#bulk-filed")),
	)
	b.Screenshot("06-bulk-filed")
	if got := b.Text("#bulk-filed"); !strings.Contains(got, "10 documents filed") {
		t.Errorf("banner: %q", got)
	}
	if got, want := counts(), "awaiting-filing:240 unmatched:3 replaced:0 rejected:0 filed:10 all:"; got != want {
		t.Errorf("state counts after filing: got %q, want %q", got, want)
	}
	if rows := rowIDs(b); len(rows) != 50 || rows[0] != id(awaiting[10]) {
		t.Errorf("after filing, page 1 starts at %v, want %s", rows[:1], id(awaiting[10]))
	}
	for _, d := range awaiting[:10] {
		doc, err := l.inbox.GetDocument(t.Context(), "X26", id(d))
		if err != nil || doc.State != web.StateFiled {
			t.Fatalf("document %s: %s, %v; want filed", id(d), doc.State, err)
		}
		last := doc.History[len(doc.History)-1]
		if last.Event != "Filed" || last.By != "amy" {
			t.Errorf("document %s: last event %+v, want Filed by amy", id(d), last)
		}
	}
	b.CheckConsole()
}

// deliver sends what the loop's sender has due and runs the receiver.
func (l *loop) deliver(t *testing.T) {
	t.Helper()
	if _, err := l.svc.SendDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := l.rcv.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// historyRows are the document page's history table as "event|who|detail"
// lines.
func historyRows(b *browser) string {
	b.T.Helper()
	return b.Eval(`[...document.querySelectorAll('#history tbody tr')].map(r => [...r.cells].slice(1).map(c => c.textContent.trim()).join('|')).join('\n')`)
}

// A document's event log says who did what (issue 22: who filed it;
// issue 24 §2 assignment and notes, §3 the log, kept after a replacement
// and exported as CSV), and the reject form tells the truth about whether
// the sender hears of it (issue 24 §1).
func TestBrowserDocumentHistory(t *testing.T) {
	ctx := t.Context()
	l := newLoop(t)
	if _, err := l.outbox.SendReport(ctx, "X27", l.input(), "sender", ""); err != nil {
		t.Fatal(err)
	}
	l.deliver(t)
	docs, err := listDocs(l.inbox.ListDocuments(ctx, "X26", web.DocumentFilter{}))
	if err != nil || len(docs) != 1 {
		t.Fatalf("inbox: %d, %v", len(docs), err)
	}
	first := docs[0].ID
	users := usersWith(t, web.User{Username: "pru", Name: "Pru Practice", Role: web.RolePractice, ODS: "X26"})
	env := MustServer(t, web.Config{Users: users, Inbox: l.inbox})
	b := MustBrowser(t)
	b.login(env.ts.URL, "pru")
	b.Do("open the document", chromedp.Navigate(env.ts.URL+"/inbox/"+first), chromedp.WaitVisible(chromedp.CSS("#history")))
	if hint := b.Text("#reason-hint"); !strings.Contains(hint, "The sender is not told") {
		t.Errorf("reject hint of a document answered 30001: %q; want it to say the sender is not told", hint)
	}
	b.Do("assign it to me",
		chromedp.Click(chromedp.CSS("#assign-me")),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	if got := b.Text("#assigned-to"); !strings.Contains(got, "pru") {
		t.Errorf("assigned to: %q", got)
	}
	b.Do("add a note",
		chromedp.SendKeys(chromedp.CSS("#note"), "Phoned the sender about the dose"),
		chromedp.Click(chromedp.CSS("#note-button")),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.Do("file it",
		chromedp.Click(chromedp.CSS(`form[action="/inbox/`+first+`/file"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.Screenshot("02-filed")

	// The sender corrects the report: the new version replaces the filed one.
	if err := l.rcv.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.svc.PollInbox(ctx); err != nil {
		t.Fatal(err)
	}
	ts, err := l.outbox.ListTransmissions(ctx, "X27", web.TransmissionFilter{})
	if err != nil || len(ts) != 1 {
		t.Fatalf("outbox: %d, %v", len(ts), err)
	}
	orig, err := l.outbox.OriginalReport(ctx, "X27", ts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	orig.Sections[0].Text += " Corrected."
	if _, err := l.outbox.ReplaceReport(ctx, "X27", ts[0].ID, orig, "sender"); err != nil {
		t.Fatal(err)
	}
	l.deliver(t)

	b.Do("open the first version again", chromedp.Navigate(env.ts.URL+"/inbox/"+first), chromedp.WaitVisible(chromedp.CSS("#history")))
	b.Screenshot("03-replaced-history")
	rows := historyRows(b)
	for _, want := range []string{"Received|Receiver|MESH message", "Assigned|pru|to pru", "Note|pru|Phoned the sender about the dose", "Filed|pru|", "Replaced|Receiver|by document "} {
		if !strings.Contains(rows, want) {
			t.Errorf("history of the replaced version lacks %q:\n%s", want, rows)
		}
	}
	if i, j := strings.Index(rows, "Filed|pru"), strings.Index(rows, "Replaced|"); i < 0 || j < i {
		t.Errorf("history out of order:\n%s", rows)
	}
	got := b.Eval(`(() => { const x = new XMLHttpRequest(); x.open('GET', '/inbox/` + first + `/history.csv', false); x.send();
		return x.getResponseHeader('Content-Type') + '\n' + x.responseText })()`)
	if !strings.HasPrefix(got, "text/csv") || !strings.Contains(got, "at,event,by,detail") || !strings.Contains(got, ",Filed,pru,") ||
		!strings.Contains(got, ",Note,pru,Phoned the sender about the dose") || !strings.Contains(got, ",Replaced,,by document ") {
		t.Errorf("history CSV:\n%s", got)
	}
	b.CheckConsole()
}

// A held document shows when it will be rejected automatically and that
// rejecting it tells the sender; matching it to the register patient,
// whose details differ, needs a reason, recorded with the person's name
// (issue 24 §5, §1).
func TestBrowserMatchNeedsReason(t *testing.T) {
	ctx := t.Context()
	l := newLoop(t)
	in := l.input()
	in.Patient.Given = []string{"Janet"} // the register says Jane
	if _, err := l.outbox.SendReport(ctx, "X27", in, "sender", ""); err != nil {
		t.Fatal(err)
	}
	l.deliver(t)
	docs, err := listDocs(l.inbox.ListDocuments(ctx, "X26", web.DocumentFilter{State: web.StateUnmatched}))
	if err != nil || len(docs) != 1 {
		t.Fatalf("unmatched: %d, %v", len(docs), err)
	}
	id := docs[0].ID
	users := usersWith(t, web.User{Username: "pru", Name: "Pru Practice", Role: web.RolePractice, ODS: "X26"})
	env := MustServer(t, web.Config{Users: users, Inbox: l.inbox})
	b := MustBrowser(t)
	b.login(env.ts.URL, "pru")
	b.Do("open the held document", chromedp.Navigate(env.ts.URL+"/inbox/"+id), chromedp.WaitVisible(chromedp.CSS("#hold-deadline")))
	b.Screenshot("02-held")
	if got := b.Text("#hold-deadline"); !strings.Contains(got, "30002") {
		t.Errorf("deadline: %q", got)
	}
	if hint := b.Text("#reason-hint"); !strings.Contains(hint, "The sender is told this reason") {
		t.Errorf("reject hint of a held document: %q", hint)
	}
	b.Do("find the register patient",
		chromedp.Click(chromedp.CSS("#find-patient button")),
		chromedp.WaitVisible(chromedp.CSS("#results")),
		chromedp.Click(chromedp.CSS(`#results button[value="`+l.nhs+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#compare")),
	)
	b.Do("confirm without a reason",
		chromedp.Click(chromedp.CSS("#confirm-match")),
		chromedp.WaitVisible(chromedp.CSS("#reason-error")),
	)
	b.Screenshot("03-reason-needed")
	if d, _ := l.inbox.GetDocument(ctx, "X26", id); d.State != web.StateUnmatched {
		t.Fatalf("matched without a reason: %s", d.State)
	}
	b.Do("confirm with a reason",
		chromedp.SendKeys(chromedp.CSS("#reason"), "Janet is her full name, confirmed with the sender"),
		chromedp.Click(chromedp.CSS("#confirm-match")),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.Screenshot("04-matched")
	if rows := historyRows(b); !strings.Contains(rows, "Matched by hand|pru|") || !strings.Contains(rows, "reason: Janet is her full name, confirmed with the sender") {
		t.Errorf("history:\n%s", rows)
	}
	// No CheckConsole: the refused confirmation is a 422 page, which the
	// browser logs as a failed load.
}

// markStale tags the page shown so that a step submitting a form can wait
// for the page the submission loads (body:not([data-stale])) rather than
// read, or navigate away from, the page it left.
func markStale(b *browser) {
	b.T.Helper()
	b.Eval(`document.body.dataset.stale = "1"`)
}
