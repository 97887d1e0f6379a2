package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSendDocExampleIsValidJSON(t *testing.T) {
	for _, uc := range []string{"consultation-summary", "online-consultation", "generic"} {
		code, out, stderr := run(t, "", "senddoc", "example", "--use-case", uc)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", uc, code, stderr)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil || m["useCase"] != uc {
			t.Errorf("%s: got %v (%v)", uc, m["useCase"], err)
		}
	}
}

// TestSendDocBuildValidate builds every use case and generation with the CLI
// (PDF rendered from the sections) and checks gpcm validate --format json
// agrees: zero findings, exit 0; also as FHIR JSON and as a .ctl+.dat pair.
func TestSendDocBuildValidate(t *testing.T) {
	for _, uc := range []string{"consultation-summary", "online-consultation", "generic"} {
		for _, gen := range []string{"1", "2"} {
			t.Run(uc+"/v"+gen, func(t *testing.T) {
				dir := t.TempDir()
				_, in, _ := run(t, "", "senddoc", "example", "--use-case", uc, "--generation", gen)
				inPath := filepath.Join(dir, "report.json")
				if err := os.WriteFile(inPath, []byte(in), 0o644); err != nil {
					t.Fatal(err)
				}
				for _, tc := range []struct{ out, ctl, flag string }{
					{"message.xml", "", ""}, {"message.json", "", "--json"}, {"message.dat", "message.ctl", ""},
				} {
					args := []string{"senddoc", "build", "--in", inPath, "--out", filepath.Join(dir, tc.out)}
					if tc.flag != "" {
						args = append(args, tc.flag)
					}
					target := filepath.Join(dir, tc.out)
					if tc.ctl != "" {
						args = append(args, "--ctl", filepath.Join(dir, tc.ctl))
						target = filepath.Join(dir, tc.ctl)
					}
					code, _, stderr := run(t, "", args...)
					if code != 0 {
						t.Fatalf("build %s: exit %d: %s", tc.out, code, stderr)
					}
					if !strings.Contains(stderr, "Mex-To: GPPROVIDER_9434765919_19550109_Smith") {
						t.Errorf("build %s: stderr lacks the MESH address: %q", tc.out, stderr)
					}
					code, out, _ := run(t, "", "validate", "--format", "json", target)
					rs := decodeResults(t, out)
					if code != 0 || len(rs) != 1 || rs[0].Report == nil || len(rs[0].Report.Findings) != 0 || rs[0].Report.UseCase != uc {
						t.Errorf("validate %s: exit %d, %s", tc.out, code, out)
					}
				}
			})
		}
	}
}

func TestSendDocBuildErrors(t *testing.T) {
	// The input's path always holds the digits of its NHS number, as
	// t.TempDir's random part sometimes does: the check for patient data
	// in the error below must not count the path.
	dir := filepath.Join(t.TempDir(), "in-123")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"useCase":"generic","patient":{"nhsNumber":"123"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"missing flags", []string{"senddoc", "build"}, 2, "--in and --out are required"},
		{"invalid input names fields", []string{"senddoc", "build", "--in", bad, "--out", filepath.Join(dir, "x.xml")}, 1, "patient.nhsNumber"},
		{"unknown subcommand", []string{"senddoc", "frob"}, 2, "unknown command"},
		{"build help", []string{"senddoc", "build", "--help"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("got %d %q, want %d %q", code, stderr, tt.wantCode, tt.wantStderr)
			}
			if strings.HasSuffix(tt.name, "help") && !strings.Contains(stdout, "Examples:") {
				t.Errorf("help lacks Examples: %q", stdout)
			}
			// The error names the input file: take its directory out
			// before looking for the NHS number.
			if strings.Contains(strings.ReplaceAll(stderr, dir, "DIR"), "123") {
				t.Errorf("error echoes patient data: %q", stderr)
			}
		})
	}
}
