package meshserver_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/meshtest"
)

// TestGPProviderRoutingUpdateRecord: GPPROVIDER_ addresses are resolved for
// both Update Record workflows (MESH endpoint lookup page, Update Record
// digest UR-B01–B03), to the one mailbox of the registered practice that is
// registered for the workflow; the workflow permissions of sender and
// recipient apply as for any workflow (MESH errors 16 and 17), and the
// acknowledgement addressed to the pharmacy's mailbox is delivered.
func TestGPProviderRoutingUpdateRecord(t *testing.T) {
	const (
		ur    = "GPCONNECT_UPDATE_RECORD"
		urAck = "GPCONNECT_UPDATE_RECORD_ACK"
	)
	for _, wf := range []string{ur, urAck} {
		if !slices.Contains(meshserver.GPProviderWorkflows, wf) {
			t.Errorf("%s is not routed by GPPROVIDER_ address", wf)
		}
	}
	patient := nhsNumber(t, 969093728)
	elsewhere := nhsNumber(t, 943476591)
	srv := newServer(t, meshtest.Options{
		Mailboxes: []meshtest.Mailbox{
			{ID: "FX123OT001", Password: "p", ODSCode: "FX123", Workflows: []string{ur, urAck}},              // the pharmacy
			{ID: "FY999OT001", Password: "p", ODSCode: "FY999", Workflows: []string{"GPFED_CONSULT_REPORT"}}, // not registered for Update Record
			{ID: "A82001UR", Password: "p", ODSCode: "A82001", Workflows: []string{ur, urAck}},               // practice: Update Record
			{ID: "A82001SD", Password: "p", ODSCode: "A82001", Workflows: []string{"GPCONNECT_SEND_DOCUMENT"}},
			{ID: "B86001SD", Password: "p", ODSCode: "B86001", Workflows: []string{"GPCONNECT_SEND_DOCUMENT"}}, // practice without Update Record
		},
		Patients: []meshserver.Patient{
			{NHSNumber: patient, BirthDate: "19670126", Surname: "Smith", PracticeODS: "A82001"},
			{NHSNumber: elsewhere, BirthDate: "19980314", Surname: "Jones", PracticeODS: "B86001"},
		},
	})
	pharmacy := newClient(t, srv, "FX123OT001")
	practice := newClient(t, srv, "A82001UR")

	tests := []struct {
		name, from, to, wf string
		status             int    // of the send
		code               string // MESH error code of the send, or the EPL code reported
		deliveredTo        string
	}{
		{"UR-B01 update routed to the practice's Update Record mailbox", "FX123OT001", "GPPROVIDER_" + patient + "_19670126_Smith", ur, 202, "", "A82001UR"},
		{"UR-B01 update routed with a DDMMYYYY date of birth", "FX123OT001", "GPPROVIDER_" + patient + "_26011967_SMITH", ur, 202, "", "A82001UR"},
		{"UR-B03 acknowledgement routed by GPPROVIDER_ too", "FX123OT001", "GPPROVIDER_" + patient + "_19670126_Smith", urAck, 202, "", "A82001UR"},
		{"EPL-151 practice has no Update Record mailbox", "FX123OT001", "GPPROVIDER_" + elsewhere + "_19980314_Jones", ur, 202, "EPL-151", ""},
		{"16 sender not registered for Update Record", "FY999OT001", "GPPROVIDER_" + patient + "_19670126_Smith", ur, http.StatusExpectationFailed, "16", ""},
		{"UR-B03 acknowledgement to the pharmacy's mailbox", "A82001UR", "FX123OT001", urAck, 202, "", "FX123OT001"},
		{"17 recipient not registered for the acknowledgement", "A82001UR", "FY999OT001", urAck, http.StatusExpectationFailed, "17", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newClient(t, srv, tt.from)
			r := s.send(tt.to, tt.wf, []byte("<Bundle/>"), nil)
			wantStatus(t, "send", r, tt.status)
			if tt.status != http.StatusAccepted {
				if got := errCode(t, r); got != tt.code {
					t.Fatalf("error code: got %q, want %q", got, tt.code)
				}
				return
			}
			id, _ := r.json(t)["message_id"].(string)
			if tt.code != "" {
				for _, m := range s.inbox("") {
					h := s.do("HEAD", "/messageexchange/"+tt.from+"/inbox/"+m, nil, nil)
					if h.header.Get("Mex-LinkedMsgID") == id {
						if got := h.header.Get("Mex-StatusCode"); got != tt.code {
							t.Fatalf("report code: got %q, want %q", got, tt.code)
						}
						s.ack(m)
						return
					}
				}
				t.Fatalf("no %s report for %s", tt.code, id)
			}
			rcpt := practice
			if tt.deliveredTo == "FX123OT001" {
				rcpt = pharmacy
			}
			if !slices.Contains(rcpt.inbox(""), id) {
				t.Fatalf("message %s not in %s's inbox", id, tt.deliveredTo)
			}
			g := rcpt.get(id)
			if g.header.Get("Mex-To") != tt.deliveredTo || g.header.Get("Mex-WorkflowID") != tt.wf {
				t.Errorf("delivered with Mex-To %q, Mex-WorkflowID %q", g.header.Get("Mex-To"), g.header.Get("Mex-WorkflowID"))
			}
			rcpt.ack(id)
		})
	}
	if got := newClient(t, srv, "A82001SD").inbox(""); len(got) != 0 {
		t.Errorf("the practice's Send Document mailbox received %v", got)
	}
}
