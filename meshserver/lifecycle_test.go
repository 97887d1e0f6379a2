package meshserver_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/meshtest"
)

// nhsNumber completes nine digits with a modulus-11 check digit, trying
// successive prefixes until the check digit is not 10.
func nhsNumber(t *testing.T, nine int) string {
	t.Helper()
	for p := nine; ; p++ {
		s := fmt.Sprintf("%09d", p)
		sum := 0
		for i := range 9 {
			sum += int(s[i]-'0') * (10 - i)
		}
		c := 11 - sum%11
		if c == 11 {
			c = 0
		}
		if c != 10 {
			return s + fmt.Sprint(c)
		}
	}
}

func TestExpiryReportsUndeliverable(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	a, b := newClient(t, srv, "X26ABC1"), newClient(t, srv, "X26ABC2")
	id := a.mustSend("X26ABC2", "WF", []byte("x"), map[string]string{"Mex-LocalID": "L-1", "Mex-Subject": "subj"})
	acked := a.mustSend("X26ABC2", "WF", []byte("y"), nil)
	wantStatus(t, "ack", b.ack(acked), http.StatusOK)

	srv.Admin.AdvanceClock(5*24*time.Hour - time.Minute)
	if n, err := srv.Admin.ExpireNow(t.Context()); err != nil || n != 0 {
		t.Fatalf("before 5 days: expired %d, %v", n, err)
	}
	srv.Admin.AdvanceClock(2 * time.Minute)
	if n, err := srv.Admin.ExpireNow(t.Context()); err != nil || n != 1 {
		t.Fatalf("after 5 days: expired %d, %v; want 1", n, err)
	}
	wantStatus(t, "download expired message", b.get(id), http.StatusGone)
	if got := b.inbox(""); len(got) != 0 {
		t.Fatalf("recipient inbox after expiry: %v", got)
	}
	r := a.do("GET", "/messageexchange/X26ABC1/outbox/tracking?messageID="+id, nil, nil)
	if m := r.json(t); m["status"] != "undeliverable" || m["status_code"] != "14" {
		t.Fatalf("tracking after expiry: %s", r.body)
	}
	reports := a.inbox("")
	if len(reports) != 1 {
		t.Fatalf("sender inbox: got %v, want one report", reports)
	}
	r = a.get(reports[0])
	wantStatus(t, "download report", r, http.StatusOK)
	for k, want := range map[string]string{"Mex-MessageType": "REPORT", "Mex-LinkedMsgID": id, "Mex-StatusCode": "14",
		"Mex-StatusSuccess": "ERROR", "Mex-StatusDescription": "Message not collected by recipient after 5 days",
		"Mex-To": "X26ABC1", "Mex-LocalID": "L-1", "Mex-WorkflowID": "WF"} {
		if got := r.header.Get(k); got != want {
			t.Errorf("report %s: got %q, want %q", k, got, want)
		}
	}
	if len(r.body) != 0 {
		t.Errorf("report body: got %q, want empty", r.body)
	}
	wantStatus(t, "ack report", a.ack(reports[0]), http.StatusOK)
}

func TestExpiryConfigurablePeriod(t *testing.T) {
	var now = time.Now()
	clock := func() time.Time { return now }
	srv := newServer(t, meshtest.Options{Expiry: time.Hour, Now: clock})
	a := newClient(t, srv, "X26ABC1")
	a.mustSend("X26ABC2", "WF", []byte("x"), nil)
	// A custom period is honoured and named in the report.
	srv.Admin.AdvanceClock(61 * time.Minute)
	if n, _ := srv.Admin.ExpireNow(t.Context()); n != 1 {
		t.Fatalf("1h expiry: expired %d, want 1", n)
	}
	r := a.get(a.inbox("")[0])
	if got := r.header.Get("Mex-StatusDescription"); !strings.Contains(got, "1h0m0s") {
		t.Fatalf("description: got %q", got)
	}
}

func TestGPProviderRouting(t *testing.T) {
	good := nhsNumber(t, 969093728)
	unknown := nhsNumber(t, 943476591)
	bad := good[:9] + fmt.Sprint((int(good[9]-'0')+1)%10)
	many := nhsNumber(t, 123456780)
	none := nhsNumber(t, 401023213)
	muller := nhsNumber(t, 555000111)
	srv := newServer(t, meshtest.Options{
		Mailboxes: []meshtest.Mailbox{
			{ID: "SENDER1", Password: "p", ODSCode: "Y01"},
			{ID: "A82001MB", Password: "p", ODSCode: "A82001", Workflows: []string{"GPFED_CONSULT_REPORT"}},
			{ID: "A82001OT", Password: "p", ODSCode: "A82001", Workflows: []string{"OTHER"}},
			{ID: "B1", Password: "p", ODSCode: "B00001", Workflows: []string{"GPFED_CONSULT_REPORT"}},
			{ID: "B2", Password: "p", ODSCode: "B00001", Workflows: []string{"GPFED_CONSULT_REPORT"}},
		},
		Patients: []meshserver.Patient{
			{NHSNumber: good, BirthDate: "19670126", Surname: "Smith", PracticeODS: "A82001"},
			{NHSNumber: many, BirthDate: "19800101", Surname: "Jones", PracticeODS: "B00001"},
			{NHSNumber: none, BirthDate: "19800101", Surname: "Brown", PracticeODS: "Z99999"},
			{NHSNumber: muller, BirthDate: "19550109", Surname: "Müller", PracticeODS: "A82001"},
		},
	})
	s := newClient(t, srv, "SENDER1")
	gp := newClient(t, srv, "A82001MB")
	tests := []struct {
		name string
		to   string
		code string // "" = delivered to A82001MB
	}{
		{"routed YYYYMMDD", "GPPROVIDER_" + good + "_19670126_Smith", ""},
		{"routed DDMMYYYY", "GPPROVIDER_" + good + "_26011967_SMITH", ""},
		{"EPL-150 several mailboxes", "GPPROVIDER_" + many + "_19800101_Jones", "EPL-150"},
		{"EPL-151 no mailbox", "GPPROVIDER_" + none + "_19800101_Brown", "EPL-151"},
		{"EPL-152 bad check digit", "GPPROVIDER_" + bad + "_19670126_Smith", "EPL-152"},
		{"EPL-153 not found", "GPPROVIDER_" + unknown + "_19670126_Smith", "EPL-153"},
		{"EPL-154 wrong surname", "GPPROVIDER_" + good + "_19670126_Smyth", "EPL-154"},
		{"EPL-154 wrong date of birth", "GPPROVIDER_" + good + "_19670127_Smith", "EPL-154"},
		// The register holds the surname as recorded, the address its ASCII
		// folding (issue 20 item 1; 1.5.2:GPCM-SD-CS-067).
		{"1.5.2:GPCM-SD-CS-067 register Müller, address Muller", "GPPROVIDER_" + muller + "_19550109_Muller", ""},
		{"1.5.2:GPCM-SD-CS-067 register Müller, address MULLER", "GPPROVIDER_" + muller + "_19550109_MULLER", ""},
		{"EPL-154 register Müller, address Mueller", "GPPROVIDER_" + muller + "_19550109_Mueller", "EPL-154"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := s.mustSend(tt.to, "GPFED_CONSULT_REPORT", []byte("doc"), nil)
			if tt.code == "" {
				found := false
				for _, m := range gp.inbox("") {
					found = found || m == id
				}
				if !found {
					t.Fatalf("message %s not delivered to A82001MB", id)
				}
				r := gp.get(id)
				if r.header.Get("Mex-To") != "A82001MB" {
					t.Fatalf("Mex-To on delivery: got %q", r.header.Get("Mex-To"))
				}
				gp.ack(id)
				return
			}
			var report string
			for _, m := range s.inbox("") {
				r := s.do("HEAD", "/messageexchange/SENDER1/inbox/"+m, nil, nil)
				if r.header.Get("Mex-LinkedMsgID") == id {
					report = m
					if got := r.header.Get("Mex-StatusCode"); got != tt.code {
						t.Fatalf("report code: got %q, want %q", got, tt.code)
					}
				}
			}
			if report == "" {
				t.Fatalf("no REPORT for %s in the sender's inbox", id)
			}
			s.ack(report)
			r := s.do("GET", "/messageexchange/SENDER1/outbox/tracking?messageID="+id, nil, nil)
			if m := r.json(t); m["status"] != "error" || m["status_code"] != tt.code {
				t.Fatalf("tracking: %s", r.body)
			}
		})
	}
}

func TestAdminAPI(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	call := func(method, path, token, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	tok := srv.AdminToken
	if code, _ := call("GET", "/admin/mailboxes", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("admin without token: got %d, want 401", code)
	}
	if code, _ := call("GET", "/admin/mailboxes", "wrong", ""); code != http.StatusUnauthorized {
		t.Fatalf("admin with wrong token: got %d, want 401", code)
	}
	if code, body := call("PUT", "/admin/mailboxes/NEW0001", tok, `{"password":"pw","ods_code":"N01","workflows":["WF"]}`); code != http.StatusNoContent {
		t.Fatalf("create mailbox: got %d %s", code, body)
	}
	srv.Mailboxes = append(srv.Mailboxes, meshtest.Mailbox{ID: "NEW0001", Password: "pw"})
	n := newClient(t, srv, "NEW0001")
	wantStatus(t, "new mailbox inbox", n.do("GET", "/messageexchange/NEW0001/inbox", nil, nil), http.StatusOK)
	if code, _ := call("POST", "/admin/mailboxes/NEW0001/disable", tok, ""); code != http.StatusNoContent {
		t.Fatalf("disable: got %d", code)
	}
	wantStatus(t, "disabled mailbox inbox", n.do("GET", "/messageexchange/NEW0001/inbox", nil, nil), http.StatusForbidden)
	if code, _ := call("POST", "/admin/mailboxes/NEW0001/enable", tok, ""); code != http.StatusNoContent {
		t.Fatalf("enable: got %d", code)
	}
	code, body := call("POST", "/admin/reports", tok, `{"mailbox_id":"NEW0001","code":"14","description":"Message not collected by recipient after 5 days","workflow_id":"WF","linked_message_id":"20200101000000000000_ABCDEF"}`)
	if code != http.StatusCreated {
		t.Fatalf("inject report: got %d %s", code, body)
	}
	ids := n.inbox("")
	if len(ids) != 1 {
		t.Fatalf("inbox after injected report: %v", ids)
	}
	if r := n.get(ids[0]); r.header.Get("Mex-MessageType") != "REPORT" || r.header.Get("Mex-LinkedMsgID") != "20200101000000000000_ABCDEF" {
		t.Fatalf("injected report headers: %v", r.header)
	}
	if code, body := call("GET", "/admin/messages?mailbox=NEW0001", tok, ""); code != http.StatusOK || !strings.Contains(body, ids[0]) {
		t.Fatalf("list messages: got %d %s", code, body)
	}
	if code, body := call("DELETE", "/admin/reset/NEW0001", tok, ""); code != http.StatusOK || !strings.Contains(body, `"deleted":1`) {
		t.Fatalf("reset: got %d %s", code, body)
	}
	if ids := n.inbox(""); len(ids) != 0 {
		t.Fatalf("inbox after reset: %v", ids)
	}
	// Time travel drives expiry.
	a := newClient(t, srv, "X26ABC1")
	a.mustSend("X26ABC2", "WF", []byte("x"), nil)
	if code, body := call("POST", "/admin/time", tok, `{"advance":"121h"}`); code != http.StatusOK || !strings.Contains(body, `"expired":1`) {
		t.Fatalf("time travel: got %d %s", code, body)
	}
	if code, body := call("PUT", "/admin/patients/"+nhsNumber(t, 969093728), tok, `{"birth_date":"26011967","surname":"Smith","ods_code":"X26"}`); code != http.StatusNoContent {
		t.Fatalf("put patient: got %d %s", code, body)
	}
	if code, _ := call("PUT", "/admin/patients/1234567890", tok, `{"birth_date":"19670126","surname":"Smith","ods_code":"X26"}`); code != http.StatusBadRequest {
		t.Fatalf("patient with bad NHS number: got %d, want 400", code)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	a := newClient(t, srv, "X26ABC1")
	a.mustSend("X26ABC2", "WF", []byte("12345"), nil)
	a.do("GET", "/messageexchange/X26ABC1/inbox", map[string]string{"Authorization": "NHSMESH bad"}, nil)
	for _, path := range []string{"/healthz", "/messageexchange/_ping"} {
		res, err := srv.Client().Get(srv.URL + path)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("%s: got %v %v", path, res, err)
		}
		res.Body.Close()
	}
	res, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		`gpcm_mesh_requests_total{route="POST /messageexchange/{mailbox}/outbox",code="202"} 1`,
		"gpcm_mesh_received_bytes_total 5",
		"gpcm_mesh_auth_failures_total 1",
		`gpcm_mesh_messages{status="accepted"} 1`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q:\n%s", want, b)
		}
	}
}

func TestPurgeAfterRetention(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	a, b := newClient(t, srv, "X26ABC1"), newClient(t, srv, "X26ABC2")
	id := a.mustSend("X26ABC2", "WF", []byte("x"), nil)
	keep := a.mustSend("X26ABC2", "WF", []byte("y"), nil)
	wantStatus(t, "ack", b.ack(id), http.StatusOK)
	srv.Admin.AdvanceClock(31 * 24 * time.Hour)
	if n, err := srv.Admin.PurgeNow(t.Context()); err != nil || n != 1 {
		t.Fatalf("PurgeNow: %d, %v; want 1", n, err)
	}
	wantStatus(t, "purged message", b.get(id), http.StatusNotFound)
	r := a.do("GET", "/messageexchange/X26ABC1/outbox/tracking?messageID="+keep, nil, nil)
	wantStatus(t, "unacknowledged message kept", r, http.StatusOK)
}
