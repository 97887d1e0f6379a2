package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateRecordUseCases = []string{"pharmacy-first", "blood-pressure", "contraception", "urgent-supply"}

func TestUpdateRecordExample(t *testing.T) {
	for _, uc := range updateRecordUseCases {
		code, out, stderr := run(t, "", "update-record", "example", "--use-case", uc)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", uc, code, stderr)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil || m["useCase"] != uc {
			t.Errorf("%s: got %v (%v)", uc, m["useCase"], err)
		}
	}
	code, out, _ := run(t, "", "update-record", "example")
	if code != 0 || !strings.Contains(out, `"useCase": "pharmacy-first"`) {
		t.Errorf("default use case: exit %d\n%s", code, out)
	}
}

// TestUpdateRecordBuildValidate builds every use case with the CLI and
// checks that gpcm validate --format json reports it as an Update Record
// with no finding: as FHIR XML, as FHIR JSON and as a .ctl + .dat pair.
func TestUpdateRecordBuildValidate(t *testing.T) {
	for _, uc := range updateRecordUseCases {
		t.Run(uc, func(t *testing.T) {
			dir := t.TempDir()
			_, in, _ := run(t, "", "update-record", "example", "--use-case", uc)
			inPath := filepath.Join(dir, "update.json")
			if err := os.WriteFile(inPath, []byte(in), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, b := range buildForms(t, dir, "update-record", inPath) {
				if !strings.Contains(b.stderr, "Mex-WorkflowID: GPCONNECT_UPDATE_RECORD\n") || !strings.Contains(b.stderr, "Mex-To: GPPROVIDER_") {
					t.Errorf("build %s: stderr lacks the MESH values: %q", b.target, b.stderr)
				}
				code, out, _ := run(t, "", "validate", "--format", "json", b.target)
				rs := decodeResults(t, out)
				if code != 0 || len(rs) != 1 || rs[0].Report == nil || rs[0].Report.Kind != "update-record" ||
					rs[0].Report.UseCase != uc || len(rs[0].Report.Findings) != 0 {
					t.Errorf("validate %s: exit %d, %s", b.target, code, out)
				}
			}
			code, out, _ := run(t, "", "validate", filepath.Join(dir, "message.xml"))
			if code != 0 || !strings.Contains(out, "conformant (update-record, "+uc+"): 0 errors, 0 warnings; a receiver answers 20013") {
				t.Errorf("text output: exit %d %q", code, out)
			}
		})
	}
}

func TestUpdateRecordErrors(t *testing.T) {
	dir, bad := badInput(t, `{"useCase":"blood-pressure","patient":{"nhsNumber":"123"}}`)
	runErrorCases(t, dir, []errorCase{
		{"no command", []string{"update-record"}, 2, "Commands:"},
		{"unknown command", []string{"update-record", "frob"}, 2, "unknown command"},
		{"unknown use case", []string{"update-record", "example", "--use-case", "flu"}, 2, `unknown --use-case "flu"`},
		{"missing flags", []string{"update-record", "build"}, 2, "--in and --out are required"},
		{"missing input file", []string{"update-record", "build", "--in", filepath.Join(dir, "none.json"), "--out", "-"}, 1, "no such file"},
		{"invalid input names fields", []string{"update-record", "build", "--in", bad, "--out", filepath.Join(dir, "x.xml")}, 1, "patient.nhsNumber"},
		{"help", []string{"update-record", "--help"}, 0, ""},
		{"example help", []string{"update-record", "example", "--help"}, 0, ""},
		{"build help", []string{"update-record", "build", "--help"}, 0, ""},
	})
}

const urExamples = "../../testdata/update-record/messages/"

// TestValidateUpdateRecord: gpcm validate recognises Update Record by event
// ITK014M or by MESH workflow, keeps its exit statuses and formats, and
// leaves Send Document messages to Send Document's rules.
func TestValidateUpdateRecord(t *testing.T) {
	bp := urExamples + "blood-pressure-check-service--example-1.xml"
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"official example reported as update record", []string{"validate", bp}, 1, "NOT conformant (update-record, blood-pressure)"},
		{"official example names the NHS-number finding", []string{"validate", bp}, 1, "NHS-NUMBER"},
		{"official example names UR labels", []string{"validate", bp}, 1, "UR-C07"},
		{"test NHS numbers accepted", []string{"validate", "--allow-test-nhs-numbers", bp}, 0, "conformant (update-record, blood-pressure): 0 errors"},
		{"every official example with test numbers", []string{"validate", "--allow-test-nhs-numbers", urExamples}, 0, "contraception-service--example-2.xml: conformant (update-record, contraception)"},
		{"workflow decides: Update Record workflow", []string{"validate", "--mesh-workflow", "GPCONNECT_UPDATE_RECORD", examples + "consultation_report.xml"}, 1, "(update-record)"},
		{"workflow decides: Send Document workflow", []string{"validate", "--mesh-workflow", "GPCONNECT_SEND_DOCUMENT", bp}, 1, "(send-document"},
		{"Send Document untouched", []string{"validate", examples + "consultation_report.xml"}, 1, "(send-document, consultation-summary, v1)"},
		{"mesh flags checked", []string{"validate", "--allow-test-nhs-numbers", "--mesh-workflow", "GPCONNECT_UPDATE_RECORD", "--mesh-to", "B82005OT001", bp}, 1, "UR-B01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := run(t, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Errorf("got exit %d, want %d; stdout %q lacks %q (stderr %q)", code, tt.wantCode, out, tt.wantOut, stderr)
			}
		})
	}
	code, out, _ := run(t, "", "validate", "--format", "json", bp, examples+"consultation_report.xml")
	rs := decodeResults(t, out)
	if code != 1 || len(rs) != 2 || rs[0].Report.Kind != "update-record" || rs[1].Report.Kind != "send-document" {
		t.Fatalf("json: exit %d %s", code, out)
	}
	found := false
	for _, f := range rs[0].Report.Findings {
		found = found || (f.Requirement == "NHS-NUMBER" && f.Severity == "error" && f.Code == 20009)
	}
	if !found {
		t.Errorf("no NHS-NUMBER error with code 20009 in %+v", rs[0].Report.Findings)
	}
}
