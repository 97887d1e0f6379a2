package senddoc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/senddoc"
)

const examplesDir = "../testdata/examples"

var exampleFiles = []string{
	"consultation_report.xml",
	"oc_consultation_report.xml",
	"oc_consultation_report_klinik.xml",
	"oc_consultation_report_consent.xml",
	"definition.xml",
}

func renderReport(rep senddoc.Report, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "kind=%s useCase=%s generation=%d format=%s responseCode=%s usable=%v errors=%d\n",
		rep.Kind, rep.UseCase, rep.Generation, rep.Format, rep.ResponseCode, rep.Usable, rep.Errors())
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
	}
	for _, f := range rep.Findings {
		fmt.Fprintln(&b, f.String())
	}
	return b.String()
}

// TestExamplesGolden validates every official example and compares the
// findings with testdata/golden/<example>.golden (-update rewrites them).
func TestExamplesGolden(t *testing.T) {
	for _, name := range exampleFiles {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(examplesDir, name))
			if err != nil {
				t.Fatal(err)
			}
			rep, verr := senddoc.Validate(context.Background(), bytes.NewReader(data), senddoc.Options{})
			got := renderReport(rep, verr)
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".xml")+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				os.WriteFile(golden+".actual", []byte(got), 0o644)
				t.Errorf("findings differ from %s (actual written beside it)", golden)
			}
		})
	}
}

// TestExampleDefects checks that the defects the digest lists for the
// official examples (§7) are reported and that the documents stay usable.
func TestExampleDefects(t *testing.T) {
	type want struct{ id, contains string }
	cases := []struct {
		file string
		uc   senddoc.UseCase
		want []want
	}{
		{"consultation_report.xml", senddoc.UseCaseConsultation, []want{
			{senddoc.RuleFHIRStructure, "MessageHeader.event"},
			{senddoc.RuleFHIRStructure, "Composition"},
			{senddoc.RuleFHIRStructure, "Patient"},
			{"GPCM-SD-CS-048", "SendDocument-ConsultationSummary"},
			{"GPCM-SD-CS-039", "invalid NHS number"},
			{"GPCM-SD-CS-023", "placeholders"},
		}},
		{"oc_consultation_report.xml", senddoc.UseCaseOnline, []want{
			{senddoc.RuleFHIRStructure, "MessageHeader.event"},
			{senddoc.RuleFHIRBundle, "urn:uuid:caf5f17d-e73d-4aaa-a406-dab1717da0c4 is used twice"},
			{senddoc.RuleFHIRBundle, "urn:uuid:OC-Observation-1"},
			{"GPCM-SD-OC-147", "SendDocument-ConsultationSummary"},
			{"GPCM-SD-OC-006", "Online Consultation report"},
			{"GPCM-SD-OC-017", "invalid NHS number"},
			{"GPCM-SD-032", "it is in section 3"},
		}},
		{"oc_consultation_report_klinik.xml", senddoc.UseCaseOnline, []want{
			{senddoc.RuleFHIRBundle, "urn:uuid:e9ff6399-5bea-4ad0-b06d-77b55a88c40f is used twice"},
			{"GPCM-SD-OC-003", "149951000000107"},
			{"GPCM-SD-OC-034", "xxxxxxxx"},
			{"GPCM-SD-OC-007", "placeholders"},
			{"GPCM-SD-OC-017", "invalid NHS number"},
			{"GPCM-SD-032", "it is in section 2"},
		}},
		{"oc_consultation_report_consent.xml", senddoc.UseCaseOnline, []want{
			{senddoc.RuleFHIRBundle, "urn:uuid:f5002228-b2a7-4d43-96ce-329762b2f120 does not resolve"},
			{senddoc.RuleFHIRBundle, "urn:uuid:ab71659b-8b8d-43df-b6ba-7f755e9dca64 does not resolve"},
			{"GPCM-SD-OC-008", "does not resolve"},
			{"GPCM-SD-OC-003", "149951000000107"},
			{"GPCM-SD-032", "it is in section 2"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(examplesDir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rep, err := senddoc.Validate(context.Background(), f, senddoc.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Kind != senddoc.KindSendDocument || rep.UseCase != tc.uc || !rep.Usable {
				t.Errorf("got kind %s use case %s usable %v, want send-document %s true", rep.Kind, rep.UseCase, rep.Usable, tc.uc)
			}
			if rep.MessageHeaderID == "" || rep.MessageHeaderID == rep.BundleID {
				t.Errorf("MessageHeaderID %q must be the MessageHeader.id, not the Bundle id %q", rep.MessageHeaderID, rep.BundleID)
			}
			for _, w := range tc.want {
				found := false
				for _, f := range rep.Findings {
					if f.Requirement == w.id && (strings.Contains(f.Message, w.contains) || strings.Contains(f.Path, w.contains)) {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s finding mentioning %q", w.id, w.contains)
				}
			}
		})
	}
}

func TestValidateUnreadable(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"text", "hello"},
		{"broken XML", "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"message\"/>"},
		{"JSON array", "[1,2]"},
		{"not a Bundle", `{"resourceType":"Patient"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := senddoc.Validate(context.Background(), strings.NewReader(tc.in), senddoc.Options{})
			if !errors.Is(err, senddoc.ErrUnreadable) {
				t.Fatalf("got %v, want ErrUnreadable", err)
			}
			if rep.ResponseCode.String() != "10009" || rep.MessageHeaderID != "UNREADABLE-IN-ORIGINAL-MESSAGE" {
				t.Errorf("got code %s id %s, want 10009 UNREADABLE-IN-ORIGINAL-MESSAGE", rep.ResponseCode, rep.MessageHeaderID)
			}
		})
	}
}

func FuzzValidate(f *testing.F) {
	for _, name := range exampleFiles {
		if strings.Contains(name, "consent") {
			continue // 2.6 MB: too slow a seed
		}
		data, err := os.ReadFile(filepath.Join(examplesDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	x, _ := MustBuild(f, senddoc.UseCaseOnline, 2)
	f.Add(x)
	f.Add([]byte(`{"resourceType":"Bundle","type":"message","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MessageHeader","id":"1"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := senddoc.Validate(context.Background(), bytes.NewReader(data), senddoc.Options{MaxBytes: 4 << 20})
		if err != nil && !errors.Is(err, senddoc.ErrUnreadable) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		if err == nil && rep.Findings == nil {
			t.Fatal("nil findings")
		}
	})
}
