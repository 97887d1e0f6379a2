package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gpcm/gpcm/sender"
	"github.com/gpcm/gpcm/web"
	"github.com/gpcm/gpcm/web/internal/htmlcheck"
)

// editLoop is the real loop with the default 3-hour edit window, behind a
// web UI whose sender account belongs to the loop's provider (X27).
func editLoop(t *testing.T) (*loop, *testEnv) {
	t.Helper()
	l := newLoop(t, func(c *sender.Config) { c.EditWindow = 0 })
	users := usersWith(t, web.User{Username: "sender-x27", Name: "Sid Sender", Role: web.RoleSender, ODS: "X27"})
	return l, MustServer(t, web.Config{Users: users, Outbox: l.outbox, Inbox: l.inbox})
}

// TestOutboxEditWindow: a consultation report waits for its edit window;
// the outbox says until when, and a person may send it now or cancel it
// (1.5.2:GPCM-SD-CS-075/076; issue 20 item 6).
func TestOutboxEditWindow(t *testing.T) {
	l, env := editLoop(t)
	ctx := t.Context()
	first, err := l.outbox.SendReport(ctx, "X27", l.input(), "sender", "")
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(3 * time.Hour).Local().Format("15:04")
	c := env.login("sender-x27")
	_, body := c.get("/outbox")
	mustHTML(t, body,
		htmlcheck.In(`tr[data-id="`+first+`"] .gpcm-hold`, htmlcheck.HasText("waiting to send until")),
		htmlcheck.In(`tr[data-id="`+first+`"] form[action="/outbox/`+first+`/send-now"] button`),
		htmlcheck.In(`tr[data-id="`+first+`"] form[action="/outbox/`+first+`/cancel"] button`),
	)
	if !strings.Contains(body, until) && !strings.Contains(body, time.Now().Add(3*time.Hour+time.Minute).Local().Format("15:04")) {
		t.Errorf("the outbox does not say the report waits until %s", until)
	}
	// Cancel it: it never leaves.
	res, body := c.postForm("/outbox/"+first+"/cancel", url.Values{"csrf_token": {c.csrf}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "will not be sent") {
		t.Fatalf("cancel: %d %q", res.StatusCode, body)
	}
	if d, _ := l.svc.Detail(ctx, first); d.Transmission.State != sender.StateCancelled {
		t.Fatalf("after cancel: %s, want cancelled", d.Transmission.State)
	}
	if res, _ := c.postForm("/outbox/"+first+"/send-now", url.Values{"csrf_token": {c.csrf}}); res.StatusCode != http.StatusConflict {
		t.Errorf("send now of a cancelled report: %d, want 409", res.StatusCode)
	}
	// A new version: send it now; the practice gets it.
	in := l.input()
	in.Encounter.ID = "7e3d2c1b-0a9f-4e8d-b7c6-a5f4e3d2c1b0"
	second, err := l.outbox.SendReport(ctx, "X27", in, "sender", "")
	if err != nil {
		t.Fatal(err)
	}
	res, body = c.postForm("/outbox/"+second+"/send-now", url.Values{"csrf_token": {c.csrf}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "sent now") {
		t.Fatalf("send now: %d %q", res.StatusCode, body)
	}
	if _, err := l.svc.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := l.svc.Detail(ctx, second); d.Transmission.State != sender.StateSent {
		t.Fatalf("after send now: %s, want sent", d.Transmission.State)
	}
	_, body = c.get("/outbox/" + second)
	if strings.Contains(body, "waiting to send until") || strings.Contains(body, "/send-now") {
		t.Errorf("a sent report still shows as waiting")
	}
}

// TestBrowserOutboxEditWindow drives the same in headless Chromium: the
// outbox row says "waiting to send until HH:MM"; "Send now" releases the
// report, which the practice then receives over MESH.
func TestBrowserOutboxEditWindow(t *testing.T) {
	l, env := editLoop(t)
	ctx := t.Context()
	id, err := l.outbox.SendReport(ctx, "X27", l.input(), "sender", "")
	if err != nil {
		t.Fatal(err)
	}
	b := MustBrowser(t)
	b.login(env.ts.URL, "sender-x27")
	b.Do("open the outbox", chromedp.Navigate(env.ts.URL+"/outbox"), chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+id+`"] .gpcm-hold`)))
	if got := b.Text(`tr[data-id="` + id + `"] .gpcm-hold`); !strings.HasPrefix(got, "waiting to send until ") || len(strings.TrimPrefix(got, "waiting to send until ")) < 5 {
		t.Fatalf("hold text %q, want waiting to send until HH:MM", got)
	}
	b.Screenshot("02-outbox-waiting")
	b.Do("send it now",
		chromedp.Click(chromedp.CSS(`#send-now-`+id)),
		chromedp.WaitVisible(chromedp.CSS(".nhsuk-notification-banner--success")),
	)
	b.Screenshot("03-sent-now")
	if _, err := l.svc.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.rcv.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if docs, err := listDocs(l.inbox.ListDocuments(ctx, "X26", web.DocumentFilter{})); err != nil || len(docs) != 1 {
		t.Fatalf("practice inbox: %d documents, %v; want the report", len(docs), err)
	}
	b.CheckConsole()
}
