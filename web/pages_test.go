package web_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/web"
	"github.com/gpcm/gpcm/web/internal/htmlcheck"
)

func readExample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLayout(t *testing.T) {
	env := MustServer(t, web.Config{ServiceName: "Test Service"})
	tests := []struct {
		name, user, path string
		checks           []htmlcheck.Checker
	}{
		{"login page", "", "/login", []htmlcheck.Checker{
			htmlcheck.In("title", htmlcheck.HasText("Sign in – Test Service")),
			htmlcheck.In("a.nhsuk-skip-link", htmlcheck.HasAttr("href", "#maincontent")),
			htmlcheck.In("header.nhsuk-header .nhsuk-header__service-name", htmlcheck.HasExactText("Test Service")),
			htmlcheck.In("main#maincontent h1", htmlcheck.HasExactText("Sign in")),
			htmlcheck.In(`label[for=username]`), htmlcheck.In(`input#username[autocomplete=username]`),
			htmlcheck.In(`label[for=password]`), htmlcheck.In(`input#password[type=password]`),
			htmlcheck.Absent("nav.nhsuk-header__navigation"),
			htmlcheck.In("footer.nhsuk-footer"),
			htmlcheck.In("html", htmlcheck.HasAttr("lang", "en")),
		}},
		{"practice navigation", "practice-a", "/inbox", []htmlcheck.Checker{
			htmlcheck.Count(2, "nav.nhsuk-header__navigation li.nhsuk-header__navigation-item"),
			htmlcheck.In(`nav.nhsuk-header__navigation a[aria-current=page]`, htmlcheck.HasExactText("Inbox")),
			htmlcheck.In(".nhsuk-header__account", htmlcheck.HasText("Pat Practice (A11111)")),
			htmlcheck.In(`form[action="/logout"] input[name=csrf_token]`),
			htmlcheck.In("body", htmlcheck.HasAttr("data-events", "/events")),
		}},
		{"sender navigation", "sender", "/outbox", []htmlcheck.Checker{
			htmlcheck.In(`nav.nhsuk-header__navigation a[aria-current=page]`, htmlcheck.HasExactText("Transmissions")),
			htmlcheck.In(`nav.nhsuk-header__navigation a[href="/validator"]`),
			htmlcheck.Absent(`nav.nhsuk-header__navigation a[href="/inbox"]`),
		}},
		{"admin without mesh back end", "admin", "/validator", []htmlcheck.Checker{
			htmlcheck.Count(2, "nav.nhsuk-header__navigation li.nhsuk-header__navigation-item"),
			htmlcheck.In(`nav.nhsuk-header__navigation a[href="/users"]`, htmlcheck.HasExactText("Users")),
			htmlcheck.In(`.nhsuk-header__account a[href="/account/password"]`),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := env.newClient()
			if tt.user != "" {
				c = env.login(tt.user)
			}
			res, body := c.get(tt.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("got %d, want 200", res.StatusCode)
			}
			mustHTML(t, body, tt.checks...)
			mustHTML(t, body, headingsInOrder)
		})
	}
}

// headingsInOrder checks there is one h1 and no heading level is skipped.
func headingsInOrder(n *htmlNode) error {
	var levels []int
	for _, h := range htmlcheck.MustSelector("*").All(n) {
		if len(h.Data) == 2 && h.Data[0] == 'h' && h.Data[1] >= '1' && h.Data[1] <= '6' {
			levels = append(levels, int(h.Data[1]-'0'))
		}
	}
	ones, prev := 0, 1
	for _, l := range levels {
		if l == 1 {
			ones++
		}
		if l > prev+1 {
			return errors.New("heading levels skip from h" + string(rune('0'+prev)) + " to h" + string(rune('0'+l)))
		}
		prev = l
	}
	if ones != 1 {
		return errors.New("want exactly one h1")
	}
	return nil
}

func TestValidatorPage(t *testing.T) {
	env := MustServer(t, web.Config{})
	c := env.login("practice-a")
	_, body := c.get("/validator")
	mustHTML(t, body,
		htmlcheck.In(`form[action="/validator"]`, htmlcheck.HasAttr("enctype", "multipart/form-data")),
		htmlcheck.In(`label[for=message]`), htmlcheck.In(`textarea#message[name=message]`),
		htmlcheck.In(`label[for=file]`), htmlcheck.In(`input#file[type=file]`),
		htmlcheck.Absent("#findings"),
	)
	example := readExample(t, "consultation_report.xml")
	tests := []struct {
		name   string
		post   func() (*http.Response, string)
		status int
		checks []htmlcheck.Checker
	}{
		{"official example pasted", func() (*http.Response, string) {
			return c.postMultipart("/validator", map[string]string{"message": string(example), "test_nhs_numbers": "yes"}, "", "", nil)
		}, 200, []htmlcheck.Checker{
			htmlcheck.In("#results h2", htmlcheck.HasText("Results")),
			htmlcheck.In("#outcome"),
			htmlcheck.In("#findings thead", htmlcheck.HasText("Requirement Severity Path Message ITK response code")),
			htmlcheck.InAll("#findings tbody tr td.gpcm-req", htmlcheck.HasText("-")),
			htmlcheck.In("textarea#message", htmlcheck.HasText("<Bundle")),
		}},
		{"official example uploaded", func() (*http.Response, string) {
			return c.postMultipart("/validator", map[string]string{"test_nhs_numbers": "yes"}, "file", "consultation_report.xml", example)
		}, 200, []htmlcheck.Checker{
			htmlcheck.In("#results-heading", htmlcheck.HasText("Results for consultation_report.xml")),
			htmlcheck.In("#outcome"),
			htmlcheck.In("textarea#message", htmlcheck.HasExactText("")),
		}},
		{"broken message", func() (*http.Response, string) {
			broken := strings.Replace(string(example), "<MessageHeader>", "<MessageHeaderX>", 1)
			broken = strings.Replace(broken, "</MessageHeader>", "</MessageHeaderX>", 1)
			return c.postMultipart("/validator", map[string]string{"message": broken}, "", "", nil)
		}, 200, []htmlcheck.Checker{
			htmlcheck.In(".nhsuk-warning-callout#outcome", htmlcheck.HasText("found")),
			htmlcheck.In("#findings tbody tr .nhsuk-tag--red", htmlcheck.HasText("error")),
		}},
		{"not a message", func() (*http.Response, string) {
			return c.postMultipart("/validator", map[string]string{"message": "hello"}, "", "", nil)
		}, 200, []htmlcheck.Checker{htmlcheck.In("#findings tbody tr")}},
		{"empty", func() (*http.Response, string) {
			return c.postMultipart("/validator", map[string]string{"message": "  "}, "", "", nil)
		}, 422, []htmlcheck.Checker{
			htmlcheck.In(".nhsuk-error-summary a[href=\"#message\"]", htmlcheck.HasText("Paste a message or choose a file")),
			htmlcheck.In("#message-error"),
			htmlcheck.In("title", htmlcheck.HasText("Error: ")),
		}},
		{"url-encoded form works too", func() (*http.Response, string) {
			return c.postForm("/validator", url.Values{"message": {string(example)}, "test_nhs_numbers": {"yes"}})
		}, 200, []htmlcheck.Checker{htmlcheck.In("#outcome")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := tt.post()
			if res.StatusCode != tt.status {
				t.Fatalf("got %d, want %d", res.StatusCode, tt.status)
			}
			mustHTML(t, body, tt.checks...)
		})
	}
}

func TestValidatorUploadTooLarge(t *testing.T) {
	env := MustServer(t, web.Config{MaxUploadBytes: 4096})
	c := env.login("admin")
	c.get("/validator")
	res, _ := c.postMultipart("/validator", nil, "file", "big.xml", []byte(strings.Repeat("x", 10000)))
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %d, want 413", res.StatusCode)
	}
}

func TestInboxPages(t *testing.T) {
	env := MustServer(t, web.Config{})
	c := env.login("practice-a")
	_, body := c.get("/inbox")
	mustHTML(t, body, htmlcheck.In("#documents-empty", htmlcheck.HasText("There are no awaiting filing documents")))
	env.seed()
	_, body = c.get("/inbox")
	mustHTML(t, body,
		htmlcheck.Count(1, "#document-table tbody tr"),
		htmlcheck.In(`#document-table tr[data-id=doc-a1]`, htmlcheck.HasText("Alice ALPHA"), htmlcheck.HasText("999 000 0018"), htmlcheck.HasText("For Action")),
		htmlcheck.In(`a[href="/inbox?state=unmatched"] .nhsuk-tag`, htmlcheck.HasExactText("1")),
		htmlcheck.In(`label[for=type]`), htmlcheck.In(`label[for=from]`), htmlcheck.In(`label[for=to]`), htmlcheck.In(`label[for=action]`),
	)
	_, body = c.get("/inbox?state=all&action=information")
	mustHTML(t, body, htmlcheck.Count(1, "#document-table tbody tr"), htmlcheck.In("#document-table", htmlcheck.HasText("UNMATCHED")))
	_, body = c.get("/inbox?state=all&from=2026-11-25")
	mustHTML(t, body, htmlcheck.In("#documents-empty", htmlcheck.HasText("match the filters")))
	if res, _ := c.get("/inbox?state=bogus"); res.StatusCode != 400 {
		t.Fatalf("bogus state: got %d, want 400", res.StatusCode)
	}
	if res, _ := c.get("/inbox?from=yesterday"); res.StatusCode != 400 {
		t.Fatalf("bad date: got %d, want 400", res.StatusCode)
	}

	_, body = c.get("/inbox/doc-a1")
	mustHTML(t, body,
		htmlcheck.In(".gpcm-patient-banner", htmlcheck.HasText("Alice ALPHA"), htmlcheck.HasText("999 000 0018")),
		htmlcheck.In(".nhsuk-summary-list", htmlcheck.HasText("Consultation report for Alice ALPHA"), htmlcheck.HasText("20261124100000000000_AAAAAA")),
		htmlcheck.In(`iframe.gpcm-pdf[src="/inbox/doc-a1/pdf"]`),
		htmlcheck.In(`form[action="/inbox/doc-a1/file"] button`, htmlcheck.HasText("File to patient record")),
		htmlcheck.In(`#history`, htmlcheck.HasText("Infrastructure acknowledgement sent")),
		headingsInOrder,
	)
	res, pdf := c.get("/inbox/doc-a1/pdf")
	if res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf, "%PDF") {
		t.Fatalf("pdf: got %s %q", res.Header.Get("Content-Type"), pdf[:min(len(pdf), 10)])
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self'") {
		t.Fatalf("pdf CSP %q does not allow our own frame", csp)
	}
	res, body = c.postForm("/inbox/doc-a1/file", url.Values{})
	if res.Request.URL.String() != env.ts.URL+"/inbox/doc-a1?done=filed" {
		t.Fatalf("after filing at %s", res.Request.URL)
	}
	mustHTML(t, body, htmlcheck.In(".nhsuk-notification-banner--success", htmlcheck.HasText("Document filed")), htmlcheck.Absent(`form[action="/inbox/doc-a1/file"]`))
	if res, _ := c.postForm("/inbox/doc-a1/file", url.Values{}); res.StatusCode != http.StatusConflict {
		t.Fatalf("filing twice: got %d, want 409", res.StatusCode)
	}

	_, body = c.get("/inbox/doc-a2")
	mustHTML(t, body, htmlcheck.In(`form[action="/inbox/doc-a2/match/search"][method=post] label[for=nhs_number]`))
	res, body = c.postForm("/inbox/doc-a2/match", url.Values{"nhs_number": {"123"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad NHS number: got %d, want 422", res.StatusCode)
	}
	mustHTML(t, body, htmlcheck.In(`.nhsuk-error-summary a[href="#nhs_number"]`), htmlcheck.In("#nhs_number", htmlcheck.HasAttr("value", "123")))
	res, _ = c.postForm("/inbox/doc-a2/match", url.Values{"nhs_number": {"999 000 0026"}})
	if !strings.HasSuffix(res.Request.URL.String(), "?done=matched") {
		t.Fatalf("match: at %s", res.Request.URL)
	}
	res, body = c.postForm("/inbox/doc-a2/reject", url.Values{"reason": {""}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("empty reason: got %d, want 422", res.StatusCode)
	}
	mustHTML(t, body, htmlcheck.In(`.nhsuk-error-summary a[href="#reason"]`))
	c.postForm("/inbox/doc-a2/reject", url.Values{"reason": {"Not our patient"}})
	if d, _ := env.inbox.GetDocument(t.Context(), "A11111", "doc-a2"); d.State != web.StateRejected || d.RejectReason != "Not our patient" {
		t.Fatalf("doc-a2 = %s %q, want rejected with reason", d.State, d.RejectReason)
	}
}

func TestOutboxPages(t *testing.T) {
	env := MustServer(t, web.Config{})
	c := env.login("sender")
	_, body := c.get("/outbox")
	mustHTML(t, body, htmlcheck.In("#alerts-empty"), htmlcheck.In("#transmissions-empty"))
	env.seed()
	_, body = c.get("/outbox")
	mustHTML(t, body,
		htmlcheck.Count(1, "#alerts li"),
		htmlcheck.In("#alerts", htmlcheck.HasText("No business acknowledgement within 48 hours")),
		htmlcheck.Count(2, "#transmissions tbody tr"),
		htmlcheck.In(`#transmissions tr[data-id=tx-2] .nhsuk-tag--red`, htmlcheck.HasText("failed")),
	)
	_, body = c.get("/outbox/tx-1")
	mustHTML(t, body, htmlcheck.Count(2, "#timeline li"), htmlcheck.Absent(`form[action="/outbox/tx-1/resend"]`))
	res, body := c.postForm("/outbox/tx-2/resend", url.Values{})
	if !strings.HasSuffix(res.Request.URL.String(), "/outbox/tx-2?done=resent") {
		t.Fatalf("resend: at %s", res.Request.URL)
	}
	mustHTML(t, body, htmlcheck.In("#timeline", htmlcheck.HasText("resent by sender")))
}

// authLog is a fixed auth-failure log.
type authLog []web.AuthFailure

func (l authLog) RecentAuthFailures(context.Context, int) ([]web.AuthFailure, error) {
	return l, nil
}

func TestMeshAdminPage(t *testing.T) {
	ctx := t.Context()
	db, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "mesh.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := db.Mesh()
	now := time.Now().UTC().Truncate(time.Second)
	for _, mb := range []meshserver.Mailbox{
		{ID: "X99OT001", Password: "secret-password-1", ODSCode: "X99", Name: "Demo Urgent Care", Active: true},
		{ID: "A11111OT001", Password: "secret-password-2", ODSCode: "A11111", Name: "Demo Practice", Active: true},
	} {
		if err := store.PutMailbox(ctx, mb); err != nil {
			t.Fatal(err)
		}
	}

	env := MustServer(t, web.Config{Mesh: store})
	c := env.login("admin")
	_, body := c.get("/mesh")
	mustHTML(t, body,
		htmlcheck.Count(2, "#mailboxes tbody tr"),
		htmlcheck.In("#mailboxes", htmlcheck.HasText("Demo Urgent Care")),
		htmlcheck.In("#states-empty"), htmlcheck.In("#auth-unavailable"), htmlcheck.In("#undelivered-empty"),
		headingsInOrder,
	)
	if strings.Contains(body, "secret-password") {
		t.Fatal("MESH admin page shows a mailbox password")
	}

	for i, st := range []string{meshserver.StatusAccepted, meshserver.StatusAccepted, meshserver.StatusUndeliverable} {
		m := meshserver.Message{ID: "2026112410000000000" + string(rune('0'+i)) + "_TEST01", MessageType: meshserver.TypeData,
			Sender: "X99OT001", Recipient: "A11111OT001", WorkflowID: "GPFED_CONSULT_REPORT", Subject: "Consultation report for SECRET PATIENT",
			Status: st, TotalChunks: 0, CreatedAt: now, StatusAt: now, StatusCode: map[bool]string{true: "14"}[st == meshserver.StatusUndeliverable]}
		if err := store.CreateMessage(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	env2 := MustServer(t, web.Config{Mesh: store, AuthFailures: authLog{
		{At: now, Mailbox: "X99OT001", Reason: "EPL-401 bad token", RemoteAddr: "127.0.0.1"},
	}})
	c = env2.login("admin")
	_, body = c.get("/mesh")
	mustHTML(t, body,
		htmlcheck.In("#states", htmlcheck.HasText("Total 3")),
		htmlcheck.In("#auth-failures tbody tr", htmlcheck.HasText("EPL-401 bad token")),
		htmlcheck.Count(1, "#undelivered tbody tr"),
		htmlcheck.In("#undelivered", htmlcheck.HasText("20261124100000000002_TEST01")),
	)
	if strings.Contains(body, "SECRET PATIENT") {
		t.Fatal("MESH admin page shows a MESH subject")
	}
}

func TestNewFailsWithoutAView(t *testing.T) {
	full := fstest.MapFS{}
	err := fsWalk(web.Templates, func(p string, b []byte) { full[p] = &fstest.MapFile{Data: b} })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := web.New(web.Config{Users: web.NewMemUsers(), Templates: full}); err != nil {
		t.Fatalf("copied templates: %v", err)
	}
	delete(full, "views/validator.tmpl")
	_, err = web.New(web.Config{Users: web.NewMemUsers(), Templates: full})
	if err == nil || !strings.Contains(err.Error(), `"validator"`) {
		t.Fatalf("got %v, want an error naming the validator page", err)
	}
	full["views/validator.tmpl"] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{.Nope`)}
	if _, err := web.New(web.Config{Users: web.NewMemUsers(), Templates: full}); err == nil {
		t.Fatal("broken template accepted")
	}
	if _, err := web.New(web.Config{}); err == nil {
		t.Fatal("config without Users accepted")
	}
}

func TestStaticAssets(t *testing.T) {
	env := MustServer(t, web.Config{})
	c := env.newClient()
	_, body := c.get("/login")
	doc, _ := htmlcheck.Parse(strings.NewReader(body))
	var urls []string
	for _, n := range htmlcheck.MustSelector("link[rel=stylesheet]").All(doc) {
		h, _ := htmlcheck.Attr(n, "href")
		urls = append(urls, h)
	}
	for _, n := range htmlcheck.MustSelector("script").All(doc) {
		h, _ := htmlcheck.Attr(n, "src")
		urls = append(urls, h)
	}
	if len(urls) != 3 {
		t.Fatalf("got asset URLs %v, want 2 stylesheets and 1 script", urls)
	}
	for _, u := range urls {
		res, body := c.get(u)
		if res.StatusCode != 200 || len(body) == 0 {
			t.Fatalf("GET %s: %d", u, res.StatusCode)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q, want a year, immutable", u, cc)
		}
		if !strings.HasPrefix(u, "/static/") || len(strings.Split(u, "/")[2]) != 16 {
			t.Errorf("asset URL %s has no content hash", u)
		}
	}
	prefix := urls[0][:len("/static/")+17]
	for _, p := range []string{"nhsuk/LICENSE", "nhsuk/assets/images/nhsuk-logo.svg", "nhsuk/assets/images/nhsuk-icon-cross.svg"} {
		if res, _ := c.get(prefix + p); res.StatusCode != 200 {
			t.Errorf("GET %s: %d", prefix+p, res.StatusCode)
		}
	}
	if res, _ := c.get(prefix + "nhsuk/"); res.StatusCode != 404 {
		t.Errorf("directory listing: got %d, want 404", res.StatusCode)
	}
	if res, _ := c.get("/static/0000000000000000/app.js"); res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("stale hash: got %d %q, want 200 no-cache", res.StatusCode, res.Header.Get("Cache-Control"))
	}
}

func TestSendReportForm(t *testing.T) {
	env := MustServer(t, web.Config{})
	c := env.login("sender")
	_, body := c.get("/outbox")
	mustHTML(t, body, htmlcheck.In(`a#send-link[href="/outbox/send"]`))
	_, body = c.get("/outbox/send")
	mustHTML(t, body,
		htmlcheck.In(`form[action="/outbox/send"]`, htmlcheck.HasAttr("enctype", "multipart/form-data")),
		htmlcheck.In(`label[for=nhs_number]`), htmlcheck.In(`input#nhs_number[aria-describedby=nhs_number-hint]`),
		htmlcheck.In(`label[for=pdf]`), htmlcheck.In(`input#pdf[type=file]`),
		htmlcheck.In(`input#recipient_type_fa[checked]`),
		headingsInOrder,
	)
	good := map[string]string{
		"nhs_number": "999 000 0018", "given": "Alice", "family": "ALPHA", "birth_date": "1980-03-27", "gender": "female",
		"practice_ods": "a11111", "practice_name": "Demo Practice", "encounter_start": "2026-11-24T09:30",
		"sds_user_id": "123456789012", "practitioner_given": "Gail", "practitioner_family": "GP", "practitioner_role": "GP",
		"recipient_type": "FA", "reason": "Cough", "notes": "Chest clear.", "plan": "Review in a week",
	}
	with := func(changes map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range good {
			out[k] = v
		}
		for k, v := range changes {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name   string
		fields map[string]string
		pdf    []byte
		status int
		checks []htmlcheck.Checker
		wantTx bool
	}{
		{"missing fields", map[string]string{"recipient_type": "FA"}, nil, 422, []htmlcheck.Checker{
			htmlcheck.In(`.nhsuk-error-summary a[href="#nhs_number"]`, htmlcheck.HasText("valid 10-digit NHS number")),
			htmlcheck.In(`.nhsuk-error-summary a[href="#family"]`),
			htmlcheck.In(`.nhsuk-error-summary a[href="#notes"]`),
			htmlcheck.In(`input#nhs_number[aria-describedby="nhs_number-hint nhs_number-error"]`),
			htmlcheck.In(`#nhs_number-error`),
		}, false},
		{"bad NHS number keeps values", with(map[string]string{"nhs_number": "9990000019"}), nil, 422, []htmlcheck.Checker{
			htmlcheck.Count(1, ".nhsuk-error-summary li"),
			htmlcheck.In(`input#nhs_number`, htmlcheck.HasAttr("value", "9990000019")),
			htmlcheck.In(`input#family`, htmlcheck.HasAttr("value", "ALPHA")),
			htmlcheck.In(`textarea#notes`, htmlcheck.HasText("Chest clear.")),
		}, false},
		{"not a pdf", good, []byte("hello"), 422, []htmlcheck.Checker{
			htmlcheck.In(`.nhsuk-error-summary a[href="#pdf"]`, htmlcheck.HasText("must be a PDF")),
		}, false},
		{"sent with a PDF", good, senddoc.ExamplePDF(), 200, []htmlcheck.Checker{
			htmlcheck.In(".nhsuk-notification-banner--success", htmlcheck.HasText("Report queued for sending")),
			htmlcheck.In("#timeline", htmlcheck.HasText("queued")),
		}, true},
		{"sent without a PDF", good, nil, 200, []htmlcheck.Checker{
			htmlcheck.In(".nhsuk-notification-banner--success"),
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(env.outbox.sent)
			fileField := ""
			if tt.pdf != nil {
				fileField = "pdf"
			}
			res, body := c.postMultipart("/outbox/send", tt.fields, fileField, "report.pdf", tt.pdf)
			if res.StatusCode != tt.status {
				doc, _ := htmlcheck.Parse(strings.NewReader(body))
				t.Fatalf("got %d, want %d; page says %q", res.StatusCode, tt.status, htmlcheck.Text(htmlcheck.MustSelector("main").First(doc)))
			}
			mustHTML(t, body, tt.checks...)
			if sent := len(env.outbox.sent) > before; sent != tt.wantTx {
				t.Fatalf("sent = %v, want %v", sent, tt.wantTx)
			}
		})
	}
	if len(env.outbox.sent) == 0 {
		t.Fatal("nothing sent")
	}
	in := env.outbox.sent[0]
	if in.Patient.NHSNumber != "9990000018" || in.RegisteredPractice.ODSCode != "A11111" || len(in.Sections) != 3 || !bytes.HasPrefix(in.PDF, []byte("%PDF")) {
		t.Fatalf("sent input = %+v", in.Patient)
	}
}
