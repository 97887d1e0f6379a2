package web_test

import (
	"regexp"
	"testing"

	"github.com/gpcm/gpcm/web"
)

var formTokenRE = regexp.MustCompile(`name="form_token" value="([0-9a-f-]{36})"`)

// TestSendFormResubmitSendsOnce: going back to the send form and sending
// it again (or clicking twice) sends nothing more; the second submit shows
// the first transmission (issue 24 §4).
func TestSendFormResubmitSendsOnce(t *testing.T) {
	env := MustServer(t, web.Config{})
	c := env.login("sender")
	_, body := c.get("/outbox/send")
	m := formTokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the send form carries no form_token")
	}
	fields := map[string]string{
		"form_token": m[1],
		"nhs_number": "999 000 0018", "given": "Alice", "family": "ALPHA", "birth_date": "1980-03-27",
		"encounter_start": "2026-11-24T09:30", "sds_user_id": "123456789012", "practitioner_family": "GP",
		"recipient_type": "FA", "notes": "Chest clear.",
	}
	before := len(env.outbox.sent)
	res1, _ := c.postMultipart("/outbox/send", fields, "", "", nil)
	fields["notes"] = "Chest clear. Edited after going back."
	res2, _ := c.postMultipart("/outbox/send", fields, "", "", nil)
	if res1.StatusCode != 200 || res2.StatusCode != 200 {
		t.Fatalf("submits: %d, %d, want 200 (the transmission page) twice", res1.StatusCode, res2.StatusCode)
	}
	if n := len(env.outbox.sent) - before; n != 1 {
		t.Fatalf("%d reports sent, want 1", n)
	}
	if a, b := res1.Request.URL.Path, res2.Request.URL.Path; a != b {
		t.Errorf("second submit shows %s, want the first transmission %s", b, a)
	}
	_, again := c.get("/outbox/send")
	if n := formTokenRE.FindStringSubmatch(again); n == nil || n[1] == m[1] {
		t.Error("a new form has no token of its own")
	}
}
