package receiver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

func TestAPI(t *testing.T) {
	e := MustEnv(t, nil)
	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	e.register(t, regOf(in))
	e.sendBuilt(t, mustBuild(t, in))
	in2 := example(senddoc.UseCaseGeneric, senddoc.GenerationV2)
	in2.Patient.NHSNumber = "9434765870"
	in2.RecipientType = "FI"
	p := regOf(in2)
	p.Family = "Different"
	e.register(t, p)
	e.sendBuilt(t, mustBuild(t, in2))
	e.run(t)

	api, err := receiver.NewAPI(e.rcv, receiver.APIConfig{Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := receiver.NewAPI(e.rcv, receiver.APIConfig{}); err == nil {
		t.Fatal("NewAPI without a token succeeded")
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)

	do := func(t *testing.T, method, path, token, ctype, body string) (*http.Response, []byte) {
		t.Helper()
		return apiRequest(t, srv, method, path, token, ctype, body)
	}

	var list struct{ Documents []receiver.Document }
	rows := []struct {
		name, method, path, token, ctype, body string
		status                                 int
		check                                  func(t *testing.T, body []byte)
	}{
		{name: "healthz needs no token", method: "GET", path: "/healthz", status: 200},
		{name: "metrics", method: "GET", path: "/metrics", status: 200, check: func(t *testing.T, b []byte) {
			for _, m := range []string{"gpcm_receiver_messages_received_total 2", `gpcm_receiver_acks_enqueued_total{code="20013"} 2`,
				"gpcm_receiver_processing_seconds_count 2", `gpcm_receiver_documents{state="held_for_review"} 1`, "gpcm_receiver_documents_unmatched_total 1"} {
				if !strings.Contains(string(b), m) {
					t.Errorf("metrics lack %q:\n%s", m, b)
				}
			}
		}},
		{name: "no token", method: "GET", path: "/api/v1/documents", status: 401},
		{name: "wrong token", method: "GET", path: "/api/v1/documents", token: "nope", status: 401},
		{name: "list", method: "GET", path: "/api/v1/documents", token: "s3cret", status: 200, check: func(t *testing.T, b []byte) {
			if err := json.Unmarshal(b, &list); err != nil || len(list.Documents) != 2 {
				t.Fatalf("list: %v %s", err, b)
			}
		}},
		{name: "list filtered for information", method: "GET", path: "/api/v1/documents?for_action=false", token: "s3cret", status: 200, check: func(t *testing.T, b []byte) {
			var l struct{ Documents []receiver.Document }
			if err := json.Unmarshal(b, &l); err != nil || len(l.Documents) != 1 || l.Documents[0].RecipientType != "FI" {
				t.Fatalf("for_action=false: %v %s", err, b)
			}
		}},
		{name: "list bad state", method: "GET", path: "/api/v1/documents?state=lost", token: "s3cret", status: 400},
		{name: "get", method: "GET", path: "/api/v1/documents/1", token: "s3cret", status: 200, check: func(t *testing.T, b []byte) {
			var d receiver.Document
			if err := json.Unmarshal(b, &d); err != nil || d.Subject == "" || d.TypeLabel == "" || len(d.Attachments) == 0 {
				t.Fatalf("get: %v %s", err, b)
			}
		}},
		{name: "get unknown", method: "GET", path: "/api/v1/documents/99", token: "s3cret", status: 404},
		{name: "get bad id", method: "GET", path: "/api/v1/documents/x", token: "s3cret", status: 400},
		{name: "attachment", method: "GET", path: "/api/v1/documents/1/attachments/0", token: "s3cret", status: 200, check: func(t *testing.T, b []byte) {
			if string(b) != string(senddoc.ExamplePDF()) {
				t.Fatalf("attachment: got %d bytes, want the sent PDF", len(b))
			}
		}},
		{name: "attachment unknown", method: "GET", path: "/api/v1/documents/1/attachments/9", token: "s3cret", status: 404},
		{name: "file", method: "POST", path: "/api/v1/documents/1/file", token: "s3cret", status: 200},
		{name: "file twice", method: "POST", path: "/api/v1/documents/1/file", token: "s3cret", status: 409},
		{name: "match a filed document", method: "POST", path: "/api/v1/documents/1/match", token: "s3cret", status: 409},
		{name: "reject without reason", method: "POST", path: "/api/v1/documents/2/reject", token: "s3cret", ctype: "application/json", body: `{}`, status: 400},
		{name: "reject bad JSON", method: "POST", path: "/api/v1/documents/2/reject", token: "s3cret", ctype: "application/json", body: `{`, status: 400},
		{name: "match held document", method: "POST", path: "/api/v1/documents/2/match", token: "s3cret", ctype: "application/json",
			body: `{"reason": "checked with the sender"}`, status: 200, check: func(t *testing.T, b []byte) {
				var d receiver.Document
				if err := json.Unmarshal(b, &d); err != nil || d.State != receiver.DocAwaitingFiling || d.BusAckCode != 30001 {
					t.Fatalf("match: %v %s", err, b)
				}
			}},
		{name: "register import CSV", method: "POST", path: "/api/v1/register", token: "s3cret", ctype: "text/csv",
			body: "nhs_number,birth_date,family,given\n9434765919,1955-01-09,Smith,Richard\n9434765811,1980-02-03,Brown,Ann\n", status: 200,
			check: func(t *testing.T, b []byte) {
				var res receiver.UpsertResult
				if err := json.Unmarshal(b, &res); err != nil || res != (receiver.UpsertResult{Inserted: 1, Unchanged: 1}) {
					t.Fatalf("import: %v %s", err, b)
				}
			}},
		{name: "register import bad rows", method: "POST", path: "/api/v1/register", token: "s3cret", ctype: "text/csv",
			body: "nhs_number,birth_date,family,given\n9434765919,1955-01-09,Smith,Richard\n123,09/01/1955,Smith,Ann\n", status: 422,
			check: func(t *testing.T, b []byte) {
				var ae struct {
					Problems []receiver.RowProblem
				}
				if err := json.Unmarshal(b, &ae); err != nil || len(ae.Problems) != 2 || ae.Problems[0].Line != 3 {
					t.Fatalf("problems: %v %s", err, b)
				}
				if strings.Contains(string(b), "09/01/1955") {
					t.Errorf("error echoes patient data: %s", b)
				}
			}},
		{name: "register import wrong type", method: "POST", path: "/api/v1/register", token: "s3cret", ctype: "application/pdf", body: "x", status: 400},
		{name: "unknown endpoint", method: "GET", path: "/api/v1/nothing", token: "s3cret", status: 404},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			resp, body := do(t, r.method, r.path, r.token, r.ctype, r.body)
			if resp.StatusCode != r.status {
				t.Fatalf("%s %s: status %d, want %d; body %s", r.method, r.path, resp.StatusCode, r.status, body)
			}
			if r.check != nil {
				r.check(t, body)
			}
		})
	}
	// The manual match sent the BusAck.
	e.run(t)
	e.readAcks(t)
	d, _ := e.rcv.GetDocument(t.Context(), 2)
	if got := e.codes(d.HeaderID); len(got) != 2 || got[1] != 30001 {
		t.Errorf("acks after manual match: got %v, want [20013 30001]", got)
	}
}
