package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSendSubmitUpdateRecord: gpcm send submit takes the JSON input gpcm
// update-record example prints, told by its useCase or by --kind
// update-record, and queues it on GPCONNECT_UPDATE_RECORD (UR-B02) with
// acks expected on GPCONNECT_UPDATE_RECORD_ACK (UR-B03), to the patient's
// GPPROVIDER_ address (UR-B01).
func TestSendSubmitUpdateRecord(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "outbox")
	for _, tc := range []struct{ useCase, kind string }{{"blood-pressure", ""}, {"pharmacy-first", "update-record"}} {
		t.Run(tc.useCase, func(t *testing.T) {
			code, out, errOut := sendCLI(t.Context(), nil, "update-record", "example", "--use-case", tc.useCase)
			if code != 0 {
				t.Fatalf("example: %d %q", code, errOut)
			}
			in := filepath.Join(dir, tc.useCase+".json")
			if err := os.WriteFile(in, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"send", "submit", "--data", data, "--json"}
			if tc.kind != "" {
				args = append(args, "--kind", tc.kind)
			}
			code, out, errOut = sendCLI(t.Context(), nil, append(args, in)...)
			if code != 0 {
				t.Fatalf("submit: %d %q %q", code, out, errOut)
			}
			var got struct {
				Created      bool `json:"created"`
				Transmission struct {
					WorkflowID    string `json:"workflowId"`
					AckWorkflowID string `json:"ackWorkflowId"`
					To            string `json:"to"`
				} `json:"transmission"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("submit output %q: %v", out, err)
			}
			tr := got.Transmission
			if !got.Created || tr.WorkflowID != "GPCONNECT_UPDATE_RECORD" || tr.AckWorkflowID != "GPCONNECT_UPDATE_RECORD_ACK" || !strings.HasPrefix(tr.To, "GPPROVIDER_") {
				t.Errorf("queued %+v", got)
			}
		})
	}
	// A Send Document input said to be an Update Record is refused.
	code, _, errOut := sendCLI(t.Context(), nil, "send", "submit", "--data", data, "--kind", "update-record", writeSendInput(t, dir, "report.json", nil))
	if code != 1 || !strings.Contains(errOut, "refused") {
		t.Errorf("a senddoc input as --kind update-record: %d %q", code, errOut)
	}
}
