package receiver_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

// TestManualMatch matches held documents by hand, over the API, to register
// patients that a person chose: the business ack follows the chosen
// patient's status and a patient who left is refused.
func TestManualMatch(t *testing.T) {
	e := MustEnv(t, nil)
	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	named := regOf(in) // the patient the documents name, registered with another family name
	named.Family = "Registered-Differently"
	now := e.clock.Now()
	chosen := receiver.Patient{NHSNumber: "9434765870", BirthDate: "1970-04-01", Family: "Okafor", Given: "David", Status: receiver.StatusRegistered}
	left := receiver.Patient{NHSNumber: "9434765811", BirthDate: "1970-04-01", Family: "Okafor", Given: "Ann", Status: receiver.StatusLeft, LeftDate: "2025-01-01"}
	diedRecently := receiver.Patient{NHSNumber: "9434765828", BirthDate: "1940-01-01", Family: "Old", Given: "Recent", Status: receiver.StatusDeceased,
		DeathDate: now.AddDate(0, -1, 0).Format(time.DateOnly)}
	diedLongAgo := receiver.Patient{NHSNumber: "9434765836", BirthDate: "1940-01-01", Family: "Old", Given: "Long", Status: receiver.StatusDeceased,
		DeathDate: now.AddDate(-2, 0, 0).Format(time.DateOnly)}
	e.register(t, named, chosen, left, diedRecently, diedLongAgo)
	var headers []string
	for range 3 {
		b := mustBuild(t, in)
		headers = append(headers, b.HeaderID)
		e.sendBuilt(t, b)
	}
	e.run(t)
	docs, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{State: receiver.DocHeld})
	if err != nil || len(docs) != 3 {
		t.Fatalf("held documents: got %d, %v; want 3", len(docs), err)
	}

	api, err := receiver.NewAPI(e.rcv, receiver.APIConfig{Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	do := func(t *testing.T, method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer s3cret")
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	doc := func(t *testing.T, b []byte) receiver.Document {
		t.Helper()
		var d receiver.Document
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("document JSON: %v\n%s", err, b)
		}
		return d
	}
	path := func(d receiver.Document) string { return "/api/v1/documents/" + itoa(d.ID) + "/match" }
	d1, d2, d3 := docs[0], docs[1], docs[2]

	rows := []struct {
		name   string
		path   string
		body   string
		status int
		check  func(t *testing.T, b []byte)
	}{
		{name: "patient who left is refused", path: path(d2), body: `{"nhsNumber": "943 476 5811"}`, status: 422, check: func(t *testing.T, b []byte) {
			if !strings.Contains(string(b), "left the practice") || strings.Contains(string(b), "2025-01-01") {
				t.Fatalf("refusal: %s", b)
			}
		}},
		{name: "patient who died long ago is refused", path: path(d2), body: `{"nhsNumber": "9434765836"}`, status: 422},
		{name: "patient not on the register is refused", path: path(d2), body: `{"nhsNumber": "9434765844"}`, status: 422, check: func(t *testing.T, b []byte) {
			if !strings.Contains(string(b), "not on the practice register") {
				t.Fatalf("refusal: %s", b)
			}
		}},
		{name: "malformed NHS number", path: path(d2), body: `{"nhsNumber": "12"}`, status: 400},
		{name: "unknown field", path: path(d2), body: `{"nhs": "9434765870"}`, status: 400},
		{name: "bad JSON", path: path(d2), body: `{`, status: 400},
		{name: "differing demographics need a reason (issue 24 §5)", path: path(d1), body: `{"nhsNumber": "9434765870", "by": "j.bloggs"}`, status: 400,
			check: func(t *testing.T, b []byte) {
				if !strings.Contains(string(b), "give the reason") {
					t.Fatalf("refusal: %s", b)
				}
			}},
		{name: "chosen registered patient", path: path(d1), body: `{"nhsNumber": "9434765870", "by": "j.bloggs", "reason": "date of birth confirmed by phone"}`, status: 200, check: func(t *testing.T, b []byte) {
			d := doc(t, b)
			want := receiver.DocPatient{NHSNumber: chosen.NHSNumber, BirthDate: chosen.BirthDate, Family: chosen.Family, Given: chosen.Given}
			if d.State != receiver.DocAwaitingFiling || d.BusAckCode != 30001 || d.MatchedPatient == nil || *d.MatchedPatient != want ||
				d.MatchedBy != "j.bloggs" || d.MatchedAt.IsZero() {
				t.Fatalf("matched: state %s busack %d matched %+v by %q at %v", d.State, d.BusAckCode, d.MatchedPatient, d.MatchedBy, d.MatchedAt)
			}
			if d.Patient != d1.Patient {
				t.Fatalf("the message's demographics changed: got %+v, want %+v", d.Patient, d1.Patient)
			}
		}},
		{name: "match again is a conflict", path: path(d1), body: `{"nhsNumber": "9434765870", "reason": "again"}`, status: 409},
		{name: "recently deceased patient", path: path(d2), body: `{"nhsNumber": "9434765828", "reason": "confirmed with the sender"}`, status: 200, check: func(t *testing.T, b []byte) {
			if d := doc(t, b); d.BusAckCode != 30004 || d.MatchedBy != "API" {
				t.Fatalf("matched: busack %d by %q; want 30004 by API", d.BusAckCode, d.MatchedBy)
			}
		}},
		{name: "no NHS number matches the named patient", path: path(d3), body: `{"reason": "name spelt differently"}`, status: 200, check: func(t *testing.T, b []byte) {
			if d := doc(t, b); d.BusAckCode != 30001 || d.MatchedPatient == nil || d.MatchedPatient.Family != named.Family {
				t.Fatalf("matched: busack %d patient %+v", d.BusAckCode, d.MatchedPatient)
			}
		}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			status, b := do(t, http.MethodPost, r.path, r.body)
			if status != r.status {
				t.Fatalf("POST %s %s: status %d, want %d; body %s", r.path, r.body, status, r.status, b)
			}
			if r.check != nil {
				r.check(t, b)
			}
		})
	}

	t.Run("documents matched to a patient are listed under their NHS number", func(t *testing.T) {
		status, b := do(t, http.MethodGet, "/api/v1/documents?nhs_number=9434765870", "")
		var l struct{ Documents []receiver.Document }
		if err := json.Unmarshal(b, &l); status != 200 || err != nil || len(l.Documents) != 1 || l.Documents[0].ID != d1.ID {
			t.Fatalf("list: %d %v %s", status, err, b)
		}
	})

	// The register search takes its terms in a POST body; the GET with
	// them in the query string is kept, deprecated.
	search := []struct {
		name, body, query string
		status            int
		want              []string
	}{
		{name: "by family name and birth date", body: `{"family": "okafor", "birthDate": "1970-04-01"}`, query: "family=okafor&birth_date=1970-04-01", status: 200, want: []string{"9434765811", "9434765870"}},
		{name: "by NHS number", body: `{"nhsNumber": "943 476 5870"}`, query: "nhs_number=943+476+5870", status: 200, want: []string{"9434765870"}},
		{name: "unknown NHS number", body: `{"nhsNumber": "9434765844"}`, query: "nhs_number=9434765844", status: 200},
		{name: "family without birth date", body: `{"family": "Okafor"}`, query: "family=Okafor", status: 400},
		{name: "bad birth date", body: `{"family": "Okafor", "birthDate": "01/04/1970"}`, query: "family=Okafor&birth_date=01/04/1970", status: 400},
		{name: "nothing", body: ``, query: "", status: 400},
		{name: "unknown field", body: `{"nhs_number": "9434765870"}`, query: "-", status: 400},
	}
	for _, s := range search {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			if method == http.MethodGet && s.query == "-" {
				continue
			}
			t.Run("search "+method+" "+s.name, func(t *testing.T) {
				var status int
				var b []byte
				if method == http.MethodPost {
					status, b = do(t, method, "/api/v1/register/search", s.body)
				} else {
					status, b = do(t, method, "/api/v1/register?"+s.query, "")
				}
				if status != s.status {
					t.Fatalf("status %d, want %d: %s", status, s.status, b)
				}
				if status != 200 {
					return
				}
				var res struct{ Patients []receiver.Patient }
				if err := json.Unmarshal(b, &res); err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, p := range res.Patients {
					got = append(got, p.NHSNumber)
				}
				if strings.Join(got, ",") != strings.Join(s.want, ",") {
					t.Fatalf("got %v, want %v", got, s.want)
				}
			})
		}
	}
	t.Run("the GET search is marked deprecated", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/v1/register?nhs_number=9434765870", nil)
		req.Header.Set("Authorization", "Bearer s3cret")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Header.Get("Deprecation") == "" || !strings.Contains(res.Header.Get("Link"), "/api/v1/register/search") {
			t.Fatalf("Deprecation %q Link %q, want both", res.Header.Get("Deprecation"), res.Header.Get("Link"))
		}
	})

	// The business acks went to the sender with the chosen patients' codes.
	e.run(t)
	e.readAcks(t)
	for i, want := range []itk3.ResponseCode{30001, 30004, 30001} {
		if got := e.codes(headers[i]); len(got) != 2 || got[1] != want {
			t.Errorf("acks of document %d: got %v, want [20013 %d]", i+1, got, want)
		}
	}
}

func TestMatchDocumentToErrors(t *testing.T) {
	e := MustEnv(t, nil)
	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	e.register(t, regOf(in))
	e.sendBuilt(t, mustBuild(t, in))
	e.run(t)
	if _, err := e.rcv.MatchDocumentTo(t.Context(), 1, receiver.MatchParams{NHSNumber: "9434765919"}); !errors.Is(err, receiver.ErrConflict) {
		t.Fatalf("matching a document awaiting filing: got %v, want ErrConflict", err)
	}
	if _, err := e.rcv.MatchDocumentTo(t.Context(), 99, receiver.MatchParams{}); !errors.Is(err, receiver.ErrNotFound) {
		t.Fatalf("unknown document: got %v, want ErrNotFound", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
