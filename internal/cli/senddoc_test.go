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
				for _, b := range buildForms(t, dir, "senddoc", inPath) {
					if !strings.Contains(b.stderr, "Mex-To: GPPROVIDER_9434765919_19550109_Smith") {
						t.Errorf("build %s: stderr lacks the MESH address: %q", b.target, b.stderr)
					}
					code, out, _ := run(t, "", "validate", "--format", "json", b.target)
					rs := decodeResults(t, out)
					if code != 0 || len(rs) != 1 || rs[0].Report == nil || len(rs[0].Report.Findings) != 0 || rs[0].Report.UseCase != uc {
						t.Errorf("validate %s: exit %d, %s", b.target, code, out)
					}
				}
			})
		}
	}
}

// built is one output of buildForms: the file to validate and the
// command's stderr.
type built struct{ target, stderr string }

// buildForms runs "gpcm COMMAND build" on an input three ways: FHIR XML,
// FHIR JSON (--json), and a .dat with its .ctl (the .ctl is the target).
func buildForms(t *testing.T, dir, command, inPath string) []built {
	t.Helper()
	var out []built
	for _, tc := range []struct{ out, ctl, flag string }{
		{"message.xml", "", ""}, {"message.json", "", "--json"}, {"message.dat", "message.ctl", ""},
	} {
		args := []string{command, "build", "--in", inPath, "--out", filepath.Join(dir, tc.out)}
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
			t.Fatalf("%s build %s: exit %d: %s", command, tc.out, code, stderr)
		}
		out = append(out, built{target, stderr})
	}
	return out
}

func TestSendDocBuildErrors(t *testing.T) {
	dir, bad := badInput(t, `{"useCase":"generic","patient":{"nhsNumber":"123"}}`)
	runErrorCases(t, dir, []errorCase{
		{"missing flags", []string{"senddoc", "build"}, 2, "--in and --out are required"},
		{"invalid input names fields", []string{"senddoc", "build", "--in", bad, "--out", filepath.Join(dir, "x.xml")}, 1, "patient.nhsNumber"},
		{"unknown subcommand", []string{"senddoc", "frob"}, 2, "unknown command"},
		{"build help", []string{"senddoc", "build", "--help"}, 0, ""},
	})
}

// badInput writes an input file whose NHS number is 123 into a directory
// whose name holds those digits too (as t.TempDir's random part sometimes
// does), so that runErrorCases's check for patient data must discount the
// path.
func badInput(t *testing.T, content string) (dir, path string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "in-123")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "bad.json")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

type errorCase struct {
	name       string // a name ending in "help" also wants an Examples: block
	args       []string
	wantCode   int
	wantStderr string
}

// runErrorCases runs each command line and checks its exit status and
// stderr, and that no error echoes the NHS number 123.
func runErrorCases(t *testing.T, dir string, tests []errorCase) {
	t.Helper()
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
