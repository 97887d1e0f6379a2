package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/web"
	"github.com/gpcm/gpcm/web/internal/htmlcheck"
)

func TestReplacePages(t *testing.T) {
	env := MustServer(t, web.Config{})
	env.seed()
	c := env.login("sender")
	c.get("/outbox/send")
	fields := map[string]string{
		"nhs_number": "999 000 0018", "given": "Alice", "family": "ALPHA", "birth_date": "1980-03-27", "gender": "female",
		"practice_ods": "A11111", "practice_name": "Demo Practice", "encounter_start": "2026-11-24T09:30", "encounter_id": "enc-42",
		"sds_user_id": "123456789012", "practitioner_given": "Gail", "practitioner_family": "GP", "practitioner_role": "GP",
		"recipient_type": "FA", "reason": "Cough", "notes": "Chest clear.", "plan": "Review in a week",
	}
	pdf := senddoc.ExamplePDF()
	res, _ := c.postMultipart("/outbox/send", fields, "pdf", "report.pdf", pdf)
	if res.Request.URL.Path != "/outbox/tx-sent-1" {
		t.Fatalf("after sending at %s", res.Request.URL)
	}
	// Queued: nothing to correct yet.
	_, body := c.get("/outbox/tx-sent-1")
	mustHTML(t, body, htmlcheck.Absent("#replace-link"))
	if res, _ := c.get("/outbox/tx-sent-1/replace"); res.StatusCode != http.StatusConflict {
		t.Fatalf("replace a queued report: got %d, want 409", res.StatusCode)
	}

	env.outbox.setState("tx-sent-1", "complete")
	_, body = c.get("/outbox/tx-sent-1")
	mustHTML(t, body, htmlcheck.In(`a#replace-link[href="/outbox/tx-sent-1/replace"]`, htmlcheck.HasText("Send a corrected version")), headingsInOrder)
	_, body = c.get("/outbox/tx-sent-1/replace")
	mustHTML(t, body,
		htmlcheck.In(`form[action="/outbox/tx-sent-1/replace"]`, htmlcheck.HasAttr("enctype", "multipart/form-data")),
		htmlcheck.In("#nhs_number", htmlcheck.HasAttr("value", "9990000018")),
		htmlcheck.In("#given", htmlcheck.HasAttr("value", "Alice")),
		htmlcheck.In("#practice_ods", htmlcheck.HasAttr("value", "A11111")),
		htmlcheck.In("#encounter_start", htmlcheck.HasAttr("value", "2026-11-24T09:30")),
		htmlcheck.In("#sds_user_id", htmlcheck.HasAttr("value", "123456789012")),
		htmlcheck.In("textarea#notes", htmlcheck.HasText("Chest clear.")),
		htmlcheck.In("textarea#plan", htmlcheck.HasText("Review in a week")),
		htmlcheck.In("#encounter_ref", htmlcheck.HasText("enc-42")),
		htmlcheck.Absent("input#encounter_id"),
		htmlcheck.In("input#pdf_choice_original[checked]"),
		htmlcheck.In("input#pdf[type=file]"),
		headingsInOrder,
	)

	corrected := map[string]string{}
	for k, v := range fields {
		corrected[k] = v
	}
	corrected["encounter_id"] = "someone-else" // ignored: versions share the reference
	corrected["notes"], corrected["reason"], corrected["plan"] = "", "", ""
	res, body = c.postMultipart("/outbox/tx-sent-1/replace", corrected, "", "", nil)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("replacement without notes: got %d, want 422", res.StatusCode)
	}
	mustHTML(t, body, htmlcheck.In(`.nhsuk-error-summary a[href="#notes"]`), htmlcheck.In("#encounter_ref", htmlcheck.HasText("enc-42")))
	res, body = c.postMultipart("/outbox/tx-sent-1/replace", corrected, "pdf", "notes.txt", []byte("not a pdf"))
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("replacement with a PDF that is not one: got %d, want 422", res.StatusCode)
	}
	mustHTML(t, body, htmlcheck.In(`.nhsuk-error-summary a[href="#pdf"]`))

	corrected["notes"], corrected["reason"], corrected["plan"] = "Chest clear. Corrected: no antibiotics.", "Cough", "Review in a week"
	res, body = c.postMultipart("/outbox/tx-sent-1/replace", corrected, "", "", nil)
	if res.Request.URL.String() != env.ts.URL+"/outbox/tx-sent-2?done=replacement" {
		t.Fatalf("after replacing at %s (%d): %s", res.Request.URL, res.StatusCode, body)
	}
	mustHTML(t, body,
		htmlcheck.In(".nhsuk-notification-banner--success", htmlcheck.HasText("Corrected version queued")),
		htmlcheck.In(`#replaces a[href="/outbox/tx-sent-1"]`),
		htmlcheck.In(".nhsuk-caption-l", htmlcheck.HasText("Replacement")),
	)
	env.outbox.mu.Lock()
	got := env.outbox.sent[len(env.outbox.sent)-1]
	env.outbox.mu.Unlock()
	if got.Replaces == nil || got.Replaces.DocumentID != replacedDocID || got.Version != 2 || got.Encounter.ID != "enc-42" ||
		!bytes.Equal(got.PDF, pdf) || len(got.Sections) != 3 || got.Sections[1].Text != "Chest clear. Corrected: no antibiotics." {
		t.Fatalf("replacement input: replaces %+v version %d encounter %q pdf %d bytes sections %+v",
			got.Replaces, got.Version, got.Encounter.ID, len(got.PDF), got.Sections)
	}

	_, body = c.get("/outbox/tx-sent-1")
	mustHTML(t, body, htmlcheck.In(`#replaced-by a[href="/outbox/tx-sent-2"]`), htmlcheck.Absent("#replace-link"))
	if res, body := c.get("/outbox/tx-sent-1/replace"); res.StatusCode != http.StatusConflict || !strings.Contains(body, "newer version") {
		t.Fatalf("replace a replaced report: got %d, want 409 naming the newer version", res.StatusCode)
	}
	_, body = c.get("/outbox")
	mustHTML(t, body,
		htmlcheck.In(`tr[data-id="tx-sent-2"]`, htmlcheck.HasText("Replacement")),
		htmlcheck.In(`tr[data-id="tx-sent-1"]`),
	)

	// Drawing the corrected version from the notes drops the original PDF.
	env.outbox.setState("tx-sent-2", "sent")
	c.get("/outbox/tx-sent-2/replace")
	corrected["pdf_choice"] = "notes"
	res, _ = c.postMultipart("/outbox/tx-sent-2/replace", corrected, "", "", nil)
	if res.Request.URL.Path != "/outbox/tx-sent-3" {
		t.Fatalf("second correction at %s", res.Request.URL)
	}
	env.outbox.mu.Lock()
	got = env.outbox.sent[len(env.outbox.sent)-1]
	env.outbox.mu.Unlock()
	if len(got.PDF) != 0 {
		t.Errorf("drawn from the notes: got a %d-byte PDF, want none", len(got.PDF))
	}

	// A failed report without a stored form, and another organisation's.
	if res, _ := c.get("/outbox/tx-2/replace"); res.StatusCode != http.StatusConflict {
		t.Errorf("replace tx-2: got %d, want 409", res.StatusCode)
	}
	if res, _ := c.postForm("/outbox/tx-other/replace", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("replace another organisation's: got %d, want 404", res.StatusCode)
	}
}
