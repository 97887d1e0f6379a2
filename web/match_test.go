package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/web"
	"github.com/gpcm/gpcm/web/internal/htmlcheck"
)

// seedRegister gives practice A11111 a register: the right patient for the
// unmatched doc-a2 (another NHS number), one who left, and a namesake.
func (e *testEnv) seedRegister() {
	born := time.Date(1971, 5, 2, 0, 0, 0, 0, time.UTC)
	e.inbox.mu.Lock()
	defer e.inbox.mu.Unlock()
	e.inbox.register = map[string][]web.RegisterPatient{"A11111": {
		{PatientDetails: web.PatientDetails{NHSNumber: "9990000026", Name: "UNMATCHED, Unknown", BirthDate: born}, Status: "Registered", Matchable: true,
			Reason: "The sender is told the document reached the patient's practice (business acknowledgement 30001)."},
		{PatientDetails: web.PatientDetails{NHSNumber: "9990000042", Name: "OKAFOR, David", BirthDate: born}, Status: "Registered", Matchable: true,
			Reason: "The sender is told the document reached the patient's practice (business acknowledgement 30001)."},
		{PatientDetails: web.PatientDetails{NHSNumber: "9990000050", Name: "OKAFOR, Ann", BirthDate: born}, Status: "Left the practice",
			Reason: "The patient has left the practice; choose another patient or reject the document"},
	}}
}

func TestManualMatchPages(t *testing.T) {
	env := MustServer(t, web.Config{})
	env.seed()
	env.seedRegister()
	c := env.login("practice-a")

	_, body := c.get("/inbox/doc-a2")
	mustHTML(t, body,
		htmlcheck.In(`form#find-patient[action="/inbox/doc-a2/match/search"][method=post] #nhs_number`, htmlcheck.HasAttr("value", "9990000026")),
		htmlcheck.In(`form#find-patient input[name=csrf_token]`),
		htmlcheck.In(`a[href="/inbox/doc-a2/match?by=name"]`),
	)

	// Every search form posts (with the CSRF token): search terms never go
	// in the URL.
	searchForms := []htmlcheck.Checker{
		htmlcheck.In(`form#search-nhs[action="/inbox/doc-a2/match/search"][method=post] input[name=csrf_token]`),
		htmlcheck.In(`form#search-name[action="/inbox/doc-a2/match/search"][method=post] input[name=csrf_token]`),
		htmlcheck.Absent(`form[method=get]`),
	}
	tests := []struct {
		name   string
		get    string     // a GET of /inbox/doc-a2/match with this query, or
		form   url.Values // a POST of this search form
		status int
		checks []htmlcheck.Checker
	}{
		{name: "opens with the document's NHS number", get: "", status: 200, checks: []htmlcheck.Checker{
			htmlcheck.In(`#search-nhs #nhs_number`, htmlcheck.HasAttr("value", "9990000026")),
			htmlcheck.Count(1, "#results tbody tr"),
		}},
		{name: "search terms in the URL are not used", get: "by=nhs&nhs_number=9990000042", status: 200, checks: []htmlcheck.Checker{
			htmlcheck.In(`#search-nhs #nhs_number`, htmlcheck.HasAttr("value", "9990000026")),
			htmlcheck.Absent(`#results tr[data-nhs="9990000042"]`),
		}},
		{name: "by NHS number", form: url.Values{"by": {"nhs"}, "nhs_number": {"999 000 0042"}}, status: 200, checks: []htmlcheck.Checker{
			htmlcheck.Count(1, "#results tbody tr"),
			htmlcheck.In(`#results form[action="/inbox/doc-a2/match/confirm"][method=post] input[name=csrf_token]`),
			htmlcheck.In(`#results button[name=nhs_number][value="9990000042"]`, htmlcheck.HasText("Match to this patient")),
		}},
		{name: "by last name and date of birth", form: url.Values{"by": {"name"}, "family": {"okafor"}, "birth_date": {"1971-05-02"}}, status: 200, checks: []htmlcheck.Checker{
			htmlcheck.Count(2, "#results tbody tr"),
			htmlcheck.In(`#results tr[data-nhs="9990000050"]`, htmlcheck.HasText("Cannot be matched"), htmlcheck.HasText("left the practice")),
			htmlcheck.Absent(`#results button[value="9990000050"]`),
			htmlcheck.In(`#search-name #family`, htmlcheck.HasAttr("value", "okafor")),
		}},
		{name: "NHS date input: day month year fields", form: url.Values{"by": {"name"}, "family": {"okafor"}, "birth_date-day": {"2"}, "birth_date-month": {"5"}, "birth_date-year": {"1971"}}, status: 200, checks: []htmlcheck.Checker{
			htmlcheck.Count(2, "#results tbody tr"),
			htmlcheck.In(`#search-name fieldset[role=group] legend`, htmlcheck.HasText("Date of birth")),
			htmlcheck.In(`#search-name input#birth_date[name=birth_date-day][inputmode=numeric]`, htmlcheck.HasAttr("value", "2")),
			htmlcheck.In(`#search-name input#birth_date-month`, htmlcheck.HasAttr("value", "5")),
			htmlcheck.In(`#search-name input#birth_date-year`, htmlcheck.HasAttr("value", "1971")),
		}},
		{name: "NHS date input: impossible date", form: url.Values{"by": {"name"}, "family": {"okafor"}, "birth_date-day": {"31"}, "birth_date-month": {"2"}, "birth_date-year": {"1971"}}, status: 422, checks: []htmlcheck.Checker{
			htmlcheck.In(`.nhsuk-error-summary a[href="#birth_date"]`, htmlcheck.HasText("real date")),
			htmlcheck.In(`#birth_date-month.nhsuk-input--error`, htmlcheck.HasAttr("value", "2")),
		}},
		{name: "NHS date input: birth in the future", form: url.Values{"by": {"name"}, "family": {"okafor"}, "birth_date-day": {"1"}, "birth_date-month": {"1"}, "birth_date-year": {"2999"}}, status: 422, checks: []htmlcheck.Checker{
			htmlcheck.In(`.nhsuk-error-summary a[href="#birth_date"]`, htmlcheck.HasText("in the past")),
		}},
		{name: "nobody found", form: url.Values{"by": {"name"}, "family": {"Jones"}, "birth_date": {"1971-05-02"}}, status: 200, checks: []htmlcheck.Checker{
			htmlcheck.In("#results-empty"),
		}},
		{name: "name search form", get: "by=name", status: 200, checks: []htmlcheck.Checker{
			htmlcheck.Absent(".nhsuk-error-summary"), htmlcheck.Absent("#results"), htmlcheck.In("#search-name #family"),
		}},
		{name: "empty name search", form: url.Values{"by": {"name"}, "family": {""}, "birth_date": {""}}, status: 422, checks: []htmlcheck.Checker{
			htmlcheck.In(`.nhsuk-error-summary a[href="#family"]`),
		}},
		{name: "missing birth date", form: url.Values{"by": {"name"}, "family": {"Okafor"}}, status: 422, checks: []htmlcheck.Checker{
			htmlcheck.In(`.nhsuk-error-summary a[href="#birth_date"]`), htmlcheck.In(`#birth_date.nhsuk-input--error`),
		}},
		{name: "malformed NHS number", form: url.Values{"by": {"nhs"}, "nhs_number": {"12"}}, status: 422, checks: []htmlcheck.Checker{
			htmlcheck.In(`.nhsuk-error-summary a[href="#nhs_number"]`), htmlcheck.In(`#nhs_number`, htmlcheck.HasAttr("value", "12")),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var res *http.Response
			var body string
			if tc.form != nil {
				res, body = c.postForm("/inbox/doc-a2/match/search", tc.form)
			} else {
				res, body = c.get("/inbox/doc-a2/match?" + tc.get)
			}
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			mustHTML(t, body, append(tc.checks, searchForms...)...)
		})
	}

	// The confirmation page shows both sets of demographics.
	_, body = c.postForm("/inbox/doc-a2/match/confirm", url.Values{"nhs_number": {"9990000042"}})
	mustHTML(t, body,
		htmlcheck.In("#compare", htmlcheck.HasText("Unknown UNMATCHED"), htmlcheck.HasText("OKAFOR, David"),
			htmlcheck.HasText("999 000 0026"), htmlcheck.HasText("999 000 0042"), htmlcheck.HasText("Differs")),
		htmlcheck.In(`form[action="/inbox/doc-a2/match"][method=post] input[name=nhs_number]`, htmlcheck.HasAttr("value", "9990000042")),
		htmlcheck.In("#confirm-match", htmlcheck.HasText("Match to this patient")),
	)
	_, body = c.postForm("/inbox/doc-a2/match/confirm", url.Values{"nhs_number": {"9990000050"}})
	mustHTML(t, body, htmlcheck.Absent("#confirm-match"), htmlcheck.In(".nhsuk-warning-callout", htmlcheck.HasText("left the practice")))
	if res, _ := c.postForm("/inbox/doc-a2/match/confirm", url.Values{"nhs_number": {"9990000069"}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("confirm a patient not on the register: got %d, want 404", res.StatusCode)
	}
	if res, _ := c.postForm("/inbox/doc-a2/match/confirm", url.Values{}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("confirm without a patient: got %d, want 400", res.StatusCode)
	}

	// A patient who left is refused with the reason; the chosen one is matched.
	res, body := c.postForm("/inbox/doc-a2/match", url.Values{"nhs_number": {"9990000050"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("matching a patient who left: got %d, want 422", res.StatusCode)
	}
	mustHTML(t, body, htmlcheck.In(".nhsuk-error-summary", htmlcheck.HasText("left the practice")))
	res, body = c.postForm("/inbox/doc-a2/match", url.Values{"nhs_number": {"9990000042"}})
	if !strings.HasSuffix(res.Request.URL.String(), "/inbox/doc-a2?done=matched") {
		t.Fatalf("after matching at %s", res.Request.URL)
	}
	mustHTML(t, body,
		htmlcheck.In(".gpcm-patient-banner", htmlcheck.HasText("OKAFOR, David")),
		htmlcheck.In("#as-sent", htmlcheck.HasText("Unknown UNMATCHED"), htmlcheck.HasText("999 000 0026")),
		htmlcheck.In("#history", htmlcheck.HasText("Matched by hand"), htmlcheck.HasText("practice-a")),
		htmlcheck.Absent("form#find-patient"),
	)
	// Once matched, the match pages lead back to the document.
	if res, _ := c.get("/inbox/doc-a2/match"); res.Request.URL.Path != "/inbox/doc-a2" {
		t.Fatalf("match page of a matched document: at %s, want the document", res.Request.URL.Path)
	}

	// Another practice sees none of it.
	other := env.login("practice-b")
	if res, _ := other.get("/inbox/doc-a2/match"); res.StatusCode != http.StatusNotFound {
		t.Errorf("practice B GET the search page: got %d, want 404", res.StatusCode)
	}
	for _, p := range []string{"/inbox/doc-a2/match/search", "/inbox/doc-a2/match/confirm"} {
		if res, _ := other.postForm(p, url.Values{"nhs_number": {"9990000042"}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("practice B POST %s: got %d, want 404", p, res.StatusCode)
		}
	}
}

// plainInbox hides the register search of the inbox it wraps.
type plainInbox struct{ web.Inbox }

func TestManualMatchWithoutRegisterSearch(t *testing.T) {
	inbox := newMemInbox()
	env := MustServer(t, web.Config{Inbox: plainInbox{inbox}})
	env.inbox = inbox
	env.seed()
	c := env.login("practice-a")
	_, body := c.get("/inbox/doc-a2")
	mustHTML(t, body,
		htmlcheck.In(`form#find-patient[method=post] input[name=csrf_token]`),
		htmlcheck.Absent(`a[href="/inbox/doc-a2/match?by=name"]`),
	)
	if res, _ := c.get("/inbox/doc-a2/match"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("search page without a register search: got %d, want 404", res.StatusCode)
	}
	res, _ := c.postForm("/inbox/doc-a2/match", url.Values{"nhs_number": {"999 000 0026"}})
	if !strings.HasSuffix(res.Request.URL.String(), "/inbox/doc-a2?done=matched") {
		t.Fatalf("direct match: at %s", res.Request.URL)
	}
}
