package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir/fhirtest"
)

func TestFHIRHelp(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "fhir", args: []string{"fhir", "--help"}, want: "gpcm fhir convert --to json"},
		{name: "convert", args: []string{"fhir", "convert", "--help"}, want: "Exit status: 0 converted, 1 converted with findings, 2 unreadable input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tt.args...)
			if code != 0 {
				t.Errorf("exit status: got %d, want 0 (stderr %q)", code, stderr)
			}
			if !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, tt.want) {
				t.Errorf("stdout: got %q, want Examples and %q", stdout, tt.want)
			}
		})
	}
}

// TestFHIRConvertExamples converts every official example to JSON and back
// to XML through the command line and compares the result with the
// original after canonicalisation.
func TestFHIRConvertExamples(t *testing.T) {
	paths, err := filepath.Glob("../../testdata/examples/*.xml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			code, js, stderr := run(t, "", "fhir", "convert", "--to", "json", path)
			findings := strings.Count(stderr, "\n") - 1
			if code != 1 || findings < 1 || !strings.Contains(stderr, "finding(s)") {
				t.Fatalf("to json: exit status %d, stderr %q; want 1 with findings (the examples have elements out of order)", code, stderr)
			}
			jsonPath := filepath.Join(t.TempDir(), "doc.json")
			if err := os.WriteFile(jsonPath, []byte(js), 0o644); err != nil {
				t.Fatal(err)
			}
			code, xmlOut, stderr := run(t, "", "fhir", "convert", jsonPath, "--to", "xml")
			if code != 0 && !strings.Contains(stderr, "empty element") {
				t.Fatalf("to xml: exit status %d, stderr %q", code, stderr)
			}
			fhirtest.AssertEqualXML(t, []byte(xmlOut), orig)
			// default --to is the other format; stdin works; compact is equal too
			code, back, stderr := run(t, xmlOut, "fhir", "convert", "--compact", "-")
			if code > 1 {
				t.Fatalf("stdin: exit status %d, stderr %q", code, stderr)
			}
			fhirtest.AssertEqualJSON(t, []byte(back), []byte(js))
			if strings.Count(back, "\n") > 1 {
				t.Errorf("--compact output has %d lines", strings.Count(back, "\n"))
			}
		})
	}
}

func TestFHIRConvertErrors(t *testing.T) {
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{name: "empty input", stdin: "", args: []string{"-"}, wantCode: 2, wantStderr: "input is empty"},
		{name: "not fhir", stdin: "hello", wantCode: 2, wantStderr: "neither XML"},
		{name: "malformed xml", stdin: `<Patient xmlns="http://hl7.org/fhir"><id value="1"></Patient>`, wantCode: 2, wantStderr: "does not match"},
		{name: "dtd", stdin: `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Patient xmlns="http://hl7.org/fhir"/>`, wantCode: 2, wantStderr: "DTD"},
		{name: "unknown element", stdin: `{"resourceType":"Patient","colour":"blue"}`, wantCode: 2, wantStderr: "Patient.colour: unknown element"},
		{name: "missing file", args: []string{"/nonexistent/x.xml"}, wantCode: 2, wantStderr: "no such file"},
		{name: "bad to", args: []string{"--to", "yaml"}, wantCode: 2, wantStderr: "--to must be json or xml"},
		{name: "two files", args: []string{"a", "b"}, wantCode: 2, wantStderr: "one input file at most"},
		{name: "clean json converts with status 0", stdin: `{"resourceType":"Patient","id":"p1","active":true}`, wantCode: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.stdin, append([]string{"fhir", "convert"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit status: got %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr, tt.wantStderr)
			}
		})
	}
	code, _, stderr := run(t, "", "fhir", "frob")
	if code != 2 || !strings.Contains(stderr, `unknown command "frob"`) {
		t.Errorf("fhir frob: got %d %q", code, stderr)
	}
}
