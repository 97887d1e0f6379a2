package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const examples = "../../testdata/examples/"

func TestValidateExitStatus(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
	}{
		{"official example has errors", []string{"validate", examples + "consultation_report.xml"}, "", 1, "GPCM-SD-CS-039"},
		{"text output names the response code", []string{"validate", examples + "oc_consultation_report.xml"}, "", 1, "a receiver answers 20009"},
		{"not a Bundle cannot be read", []string{"validate", examples + "definition.xml"}, "", 2, "cannot read"},
		{"missing file cannot be read", []string{"validate", "no/such/file.xml"}, "", 2, "cannot read"},
		{"stdin", []string{"validate", "-"}, "not fhir", 2, "-: cannot read"},
		{"bad format flag", []string{"validate", "--format", "yaml", "x"}, "", 2, ""},
		{"no arguments", []string{"validate"}, "", 2, ""},
		{"help has examples", []string{"validate", "--help"}, "", 0, "Examples:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit status: got %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout: got %q, want it to contain %q", stdout, tt.wantStdout)
			}
		})
	}
}

type jsonResult struct {
	File   string `json:"file"`
	Error  string `json:"error"`
	Report *struct {
		Kind     string `json:"kind"`
		UseCase  string `json:"useCase"`
		Findings []struct {
			Requirement string `json:"requirement"`
			Severity    string `json:"severity"`
			Path        string `json:"path"`
			Message     string `json:"message"`
			Code        int    `json:"code"`
		} `json:"findings"`
	} `json:"report"`
}

func decodeResults(t *testing.T, out string) []jsonResult {
	t.Helper()
	var rs []jsonResult
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("--format json output is not JSON: %v\n%s", err, out)
	}
	return rs
}

func TestValidateJSONExamples(t *testing.T) {
	code, out, _ := run(t, "", "validate", "--format", "json", examples+"consultation_report.xml", examples+"oc_consultation_report_klinik.xml")
	if code != 1 {
		t.Errorf("exit status: got %d, want 1", code)
	}
	rs := decodeResults(t, out)
	if len(rs) != 2 || rs[0].Report == nil || rs[1].Report == nil {
		t.Fatalf("got %+v, want two reports", rs)
	}
	found := false
	for _, f := range rs[1].Report.Findings {
		if f.Requirement == "GPCM-SD-OC-034" && f.Severity == "error" && f.Code == 20009 && f.Path != "" {
			found = true
		}
	}
	if !found {
		t.Errorf("klinik: no GPCM-SD-OC-034 error with code 20009 in %+v", rs[1].Report.Findings)
	}
}

func TestValidateControlFileAndDirectory(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(examples + "consultation_report.xml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "msg.dat"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctl := `<?xml version="1.0" encoding="UTF-8"?>
<DTSControl><Version>1.0</Version><AddressType>DTS</AddressType><MessageType>Data</MessageType>
<WorkflowId>GPFED_CONSULT_REPORT</WorkflowId><From_DTS>MESHGP0001</From_DTS><To_DTS>GPPROVIDER_1234567890_09011955_Smith</To_DTS>
<Subject>GP consultation report</Subject><LocalId>encounter-1</LocalId><Compress>Y</Compress><Encrypted>N</Encrypted></DTSControl>`
	if err := os.WriteFile(filepath.Join(dir, "msg.ctl"), []byte(ctl), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{filepath.Join(dir, "msg.ctl"), filepath.Join(dir, "msg.dat"), dir} {
		code, out, _ := run(t, "", "validate", "--format", "json", arg)
		if code != 1 {
			t.Errorf("%s: exit status %d, want 1", arg, code)
		}
		rs := decodeResults(t, out)
		ids := map[string]bool{}
		for _, f := range rs[0].Report.Findings {
			ids[f.Requirement] = true
		}
		// The .ctl of the spec pages does not follow the rules: the local ID
		// is not the ODS code, the subject is off template, To_DTS uses a
		// number that fails the check digit.
		for _, want := range []string{"GPCM-SD-CS-079", "GPCM-SD-CS-065", "GPCM-SD-CS-064"} {
			if !ids[want] {
				t.Errorf("%s: no %s finding (got %v)", arg, want, ids)
			}
		}
	}
}
