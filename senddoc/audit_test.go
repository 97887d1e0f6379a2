package senddoc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
)

// auditRow is one input from the conformance audit (issue 20): a message
// and how it was sent, the requirement the validator must (want) or must
// not (absent) report as an error, and the response code a receiver answers
// with. Row names start with the requirement ID qualified by its catalogue.
type auditRow struct {
	name   string
	msg    func(t *testing.T) ([]byte, senddoc.Options)
	want   string            // an error finding for this ID is required
	absent string            // no error finding for this ID is allowed
	code   itk3.ResponseCode // Report.ResponseCode (0: not checked)
	check  func(t *testing.T, rep senddoc.Report)
}

func (row auditRow) run(t *testing.T) {
	t.Helper()
	b, opts := row.msg(t)
	rep, err := senddoc.Validate(context.Background(), bytes.NewReader(b), opts)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if row.want != "" && len(errorsFor(rep, row.want)) == 0 {
		t.Errorf("got findings %v, want an error for %s", rep.Findings, row.want)
	}
	if row.absent != "" {
		if f := errorsFor(rep, row.absent); len(f) > 0 {
			t.Errorf("got %v, want no %s error", f, row.absent)
		}
	}
	if row.code != 0 && rep.ResponseCode != row.code {
		t.Errorf("response code: got %s, want %s (findings %v)", rep.ResponseCode, row.code, rep.Findings)
	}
	if row.check != nil {
		row.check(t, rep)
	}
}

func runAudit(t *testing.T, rows []auditRow) {
	for _, row := range rows {
		t.Run(row.name, row.run)
	}
}

func errorsFor(rep senddoc.Report, id string) []senddoc.Finding {
	var out []senddoc.Finding
	for _, f := range findingsFor(rep, id) {
		if f.Severity == senddoc.SeverityError {
			out = append(out, f)
		}
	}
	return out
}

var auditNow = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// built builds the example input of a use case and generation after edit,
// and returns its XML with the MESH metadata it travels with (Mex-* headers).
func built(uc senddoc.UseCase, gen int, edit func(in *senddoc.Input)) func(t *testing.T) ([]byte, senddoc.Options) {
	return func(t *testing.T) ([]byte, senddoc.Options) {
		t.Helper()
		in := senddoc.Example(uc, gen)
		in.PDF = senddoc.ExamplePDF()
		if edit != nil {
			edit(&in)
		}
		b, err := senddoc.Build(in, senddoc.BuildOptions{Now: func() time.Time { return auditNow }})
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		x, err := b.XML()
		if err != nil {
			t.Fatal(err)
		}
		return x, senddoc.Options{Mesh: meshOf(b)}
	}
}

// withMesh changes the MESH metadata of a message source.
func withMesh(src func(t *testing.T) ([]byte, senddoc.Options), f func(m *senddoc.MeshMetadata)) func(t *testing.T) ([]byte, senddoc.Options) {
	return func(t *testing.T) ([]byte, senddoc.Options) {
		b, o := src(t)
		f(o.Mesh)
		return b, o
	}
}

// tree builds the example of a use case and generation, lets breakIt change
// its FHIR JSON tree, and returns the JSON with the built envelope's MESH
// metadata.
func tree(uc senddoc.UseCase, gen int, breakIt func(m *msg)) func(t *testing.T) ([]byte, senddoc.Options) {
	return func(t *testing.T) ([]byte, senddoc.Options) {
		t.Helper()
		m, b := newMsg(t, uc, gen)
		if breakIt != nil {
			breakIt(m)
		}
		j, err := json.Marshal(m.root)
		if err != nil {
			t.Fatal(err)
		}
		return j, senddoc.Options{Mesh: meshOf(b)}
	}
}

func family(name string) func(in *senddoc.Input) {
	return func(in *senddoc.Input) { in.Patient.Family = name }
}

// TestAuditNonASCIISurname: a patient "Müller" is addressed
// GPPROVIDER_…_Muller (the surname folded to ASCII); the check of the
// Patient against that address compares folded with folded (issue 20
// item 1).
func TestAuditNonASCIISurname(t *testing.T) {
	runAudit(t, []auditRow{
		{name: "1.5.2:GPCM-SD-CS-042 Müller against the address built for him", msg: built(cs, 1, family("Müller")),
			absent: "GPCM-SD-CS-042", code: itk3.CodeSuccess},
		{name: "1.5.2:GPCM-SD-OC-020 Müller online consultation", msg: built(oc, 1, family("Müller")),
			absent: "GPCM-SD-OC-020", code: itk3.CodeSuccess},
		{name: "1.5.2:GPCM-SD-GE-020 Müller generic document", msg: built(ge, 1, family("Müller")),
			absent: "GPCM-SD-GE-020", code: itk3.CodeSuccess},
		{name: "1.5.2:GPCM-SD-CS-042 Ó Súilleabháin v2", msg: built(cs, 2, family("Ó Súilleabháin")),
			absent: "GPCM-SD-CS-042", code: itk3.CodeSuccess},
		{name: "1.5.2:GPCM-SD-CS-042 Müller sent to GPPROVIDER_…_Mueller", want: "GPCM-SD-CS-042",
			msg: withMesh(built(cs, 1, family("Müller")), func(m *senddoc.MeshMetadata) {
				m.To = strings.Replace(m.To, "_Muller", "_Mueller", 1)
			})},
	})
}

// jpegPrimary makes the primary attachment (the first section's Binary) a
// JPEG image.
func jpegPrimary(m *msg) {
	b := m.res("Binary")
	b["contentType"] = "image/jpeg"
	b["content"] = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA=="
}

// example reads an official example message (no MESH metadata).
func example(name string) func(t *testing.T) ([]byte, senddoc.Options) {
	return func(t *testing.T) ([]byte, senddoc.Options) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(examplesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b, senddoc.Options{}
	}
}

// TestAuditPrimaryAttachment: only the consultation report and the online
// consultation need a PDF (GPCM-SD-CS-028, GPCM-SD-OC-012); a generic
// document's primary attachment may be any ITK-Attachment-Binary-1
// (GPCM-SD-GE-012). GPCM-SD-032 looks at what the first section entry is,
// resolving a fullUrl two resources share by the section (issue 20 item 2).
func TestAuditPrimaryAttachment(t *testing.T) {
	runAudit(t, []auditRow{
		{name: "1.5.2:GPCM-SD-032 generic document with a JPEG primary attachment", msg: tree(ge, 1, jpegPrimary),
			absent: "GPCM-SD-032", code: itk3.CodeSuccess},
		{name: "1.5.2:GPCM-SD-GE-012 generic document with a JPEG primary attachment", msg: tree(ge, 1, jpegPrimary),
			absent: "GPCM-SD-GE-012", code: itk3.CodeSuccess},
		{name: "v2:GPCM-SD-112 generic v2 document with a JPEG primary attachment", msg: tree(ge, 2, jpegPrimary),
			absent: "GPCM-SD-032", code: itk3.CodeSuccess},
		{name: "1.5.2:GPCM-SD-032 consultation report with a JPEG primary attachment", msg: tree(cs, 1, jpegPrimary),
			want: "GPCM-SD-032", code: itk3.CodePayloadValidationFailure},
		{name: "1.5.2:GPCM-SD-CS-028 consultation report without a PDF", msg: tree(cs, 1, jpegPrimary), want: "GPCM-SD-CS-028"},
		{name: "1.5.2:GPCM-SD-OC-012 online consultation without a PDF", msg: tree(oc, 1, jpegPrimary), want: "GPCM-SD-OC-012"},
		{name: "1.5.2:GPCM-SD-032 official online consultation example: the PDF is the third section", msg: example("oc_consultation_report.xml"),
			want: "GPCM-SD-032", absent: "GPCM-SD-OC-012", check: func(t *testing.T, rep senddoc.Report) {
				for _, f := range errorsFor(rep, "GPCM-SD-032") {
					if !strings.Contains(f.Path, "section[0].entry[0]") || !strings.Contains(f.Message, "QuestionnaireResponse") || !strings.Contains(f.Message, "section 3") {
						t.Errorf("got %s, want the first section's QuestionnaireResponse named and the PDF in section 3", f)
					}
				}
			}},
		{name: "1.5.2:GPCM-SD-032 official Klinik example: the PDF is the second section", msg: example("oc_consultation_report_klinik.xml"),
			want: "GPCM-SD-032", absent: "GPCM-SD-OC-012"},
		{name: "1.5.2:GPCM-SD-032 official consultation report example: the PDF is first", msg: example("consultation_report.xml"),
			absent: "GPCM-SD-032"},
	})
}

// instance1 gives the message the MessageDefinition URI of v1.0-1.1 (and v2):
// …-MessageDefinition-Instance-1.
func instance1(m *msg) {
	m.handling("MessageDefinition")["valueReference"] = M{"reference": itk3.SendDocumentDefinitionV2}
}

func confidential(in *senddoc.Input) { in.Confidential = true }

// TestAuditGenerationByWorkflow: the generation is the MESH workflow's
// (digest §6.3), not the MessageDefinition URI's: a v1.0-1.1 message (v1
// workflow, -Instance-1 URI) that is confidential (R) is a v1 message and
// accepted; v1 rules apply to it in full (issue 20 item 4).
func TestAuditGenerationByWorkflow(t *testing.T) {
	v1inst := func(edit func(in *senddoc.Input), more ...func(m *msg)) func(t *testing.T) ([]byte, senddoc.Options) {
		return func(t *testing.T) ([]byte, senddoc.Options) {
			t.Helper()
			in := senddoc.Example(cs, 1)
			in.PDF = senddoc.ExamplePDF()
			if edit != nil {
				edit(&in)
			}
			b, err := senddoc.Build(in, senddoc.BuildOptions{Now: func() time.Time { return auditNow }})
			if err != nil {
				t.Fatal(err)
			}
			m := &msg{root: senddoc.TreeOf(b.Message.Bundle)}
			instance1(m)
			for _, f := range more {
				f(m)
			}
			j, err := json.Marshal(m.root)
			if err != nil {
				t.Fatal(err)
			}
			return j, senddoc.Options{Mesh: meshOf(b)}
		}
	}
	gen := func(want int, from string) func(t *testing.T, rep senddoc.Report) {
		return func(t *testing.T, rep senddoc.Report) {
			if rep.Generation != want || rep.GenerationFrom != from {
				t.Errorf("generation: got %d from %q, want %d from %q", rep.Generation, rep.GenerationFrom, want, from)
			}
		}
	}
	noMesh := func(src func(t *testing.T) ([]byte, senddoc.Options)) func(t *testing.T) ([]byte, senddoc.Options) {
		return func(t *testing.T) ([]byte, senddoc.Options) { b, _ := src(t); return b, senddoc.Options{} }
	}
	runAudit(t, []auditRow{
		{name: "1.5.2:GPCM-SD-CS-021 v1.0-1.1 -Instance-1 message with R on GPFED_CONSULT_REPORT", msg: v1inst(confidential),
			absent: "GPCM-SD-CS-021", code: itk3.CodeSuccess, check: gen(1, senddoc.GenerationFromWorkflow)},
		{name: "1.5.2:GPCM-SD-CS-047 v1.0-1.1 -Instance-1 URI accepted on GPFED_CONSULT_REPORT", msg: v1inst(nil),
			absent: "GPCM-SD-CS-047", code: itk3.CodeSuccess, check: gen(1, senddoc.GenerationFromWorkflow)},
		{name: "1.5.2:GPCM-SD-CS-019 v1 rules apply in full to a -Instance-1 message on a v1 workflow", want: "GPCM-SD-CS-019",
			msg: v1inst(nil, func(m *msg) {
				m.res("Composition")["type"] = cc(sct, "149701000000109", "Remote health correspondence")
			})},
		{name: "1.5.2:GPCM-SD-CS-048 v1 LocalExtension rule applies to a -Instance-1 message on a v1 workflow",
			msg: v1inst(nil, func(m *msg) { m.handling("LocalExtension")["valueString"] = "NONE" }), check: func(t *testing.T, rep senddoc.Report) {
				if len(findingsFor(rep, "GPCM-SD-CS-048")) == 0 {
					t.Errorf("got %v, want a GPCM-SD-CS-048 finding (v1 names the LocalExtension)", rep.Findings)
				}
			}},
		{name: "v2:GPCM-SD-117 confidential (R) on GPCONNECT_SEND_DOCUMENT is rejected", msg: tree(cs, 2, func(m *msg) { m.res("Composition")["confidentiality"] = "R" }),
			want: "GPCM-SD-CS-021", code: itk3.CodePayloadValidationFailure, check: gen(2, senddoc.GenerationFromWorkflow)},
		{name: "1.5.2:GPCM-SD-CS-021 -Instance-1 with R and no workflow: a warning, not a rejection", msg: noMesh(v1inst(confidential)),
			absent: "GPCM-SD-CS-021", code: itk3.CodeSuccess, check: gen(2, senddoc.GenerationFromMessageDefinition)},
	})
}

// TestAuditConfidential: a confidential (R) v1 consultation report leaves
// "seen at …" and "ODS Code …" out of its narrative (GPCM-SD-CS-023 MUST
// NOT, an error a receiver answers 20009) and out of its MESH subject
// (GPCM-SD-CS-030: the practice shows the subject; an error a sender
// refuses, which a receiver hides and files) (issue 20 item 3).
func TestAuditConfidential(t *testing.T) {
	leakySubject := func(m *senddoc.MeshMetadata) {
		m.Subject = "Consultation report for Richard Smith, NHS Number 9434765919, seen at Leeds Urgent Care Centre, ODS Code X26, Version 1"
	}
	marked := func(m *msg) { m.res("Composition")["confidentiality"] = "R" }
	sendersRefuse := func(t *testing.T, rep senddoc.Report) {
		if rep.Conformant() || rep.Confidentiality != "R" {
			t.Errorf("got conformant %v, confidentiality %q; want errors (a sender refuses) and R", rep.Conformant(), rep.Confidentiality)
		}
	}
	runAudit(t, []auditRow{
		{name: "1.5.2:GPCM-SD-CS-023 v1 R report whose narrative says seen at …, ODS Code …", msg: tree(cs, 1, marked),
			want: "GPCM-SD-CS-023", code: itk3.CodePayloadValidationFailure, check: sendersRefuse},
		{name: "1.5.2:GPCM-SD-CS-030 v1 R report whose MESH subject says seen at …, ODS Code …", msg: withMesh(built(cs, 1, confidential), leakySubject),
			want: "GPCM-SD-CS-030", absent: "GPCM-SD-CS-023", code: itk3.CodeSuccess, check: sendersRefuse},
		{name: "1.5.2:GPCM-SD-CS-030 v1 R report built by gpcm", msg: built(cs, 1, confidential),
			absent: "GPCM-SD-CS-030", code: itk3.CodeSuccess, check: func(t *testing.T, rep senddoc.Report) {
				if !rep.Conformant() {
					t.Errorf("findings %v, want none", rep.Findings)
				}
			}},
		{name: "1.5.2:GPCM-SD-CS-030 not confidential: the subject may say where", msg: built(cs, 1, nil), absent: "GPCM-SD-CS-030", code: itk3.CodeSuccess},
		{name: "1.5.2:GPCM-SD-OC-164 R online consultation keeps its template's ODS Code", msg: built(oc, 1, confidential),
			absent: "GPCM-SD-CS-030", code: itk3.CodeSuccess},
	})
}

// TestDisplaySubject: the worklist subject of a confidential document
// drops where the patient was seen, whatever form the sender used
// (1.5.2:GPCM-SD-CS-030, 1.5.2:GPCM-SD-GE-014).
func TestDisplaySubject(t *testing.T) {
	tests := []struct{ name, subject, conf, want string }{
		{"1.5.2:GPCM-SD-CS-030 v1 template with version",
			"Consultation report for Richard Müller, NHS Number 9434765919, seen at Leeds Urgent Care Centre, ODS Code X26, Version 2", "R",
			"Consultation report for Richard Müller, NHS Number 9434765919, Version 2"},
		{"1.5.2:GPCM-SD-CS-030 v1 template without version",
			"Consultation report for Richard Smith, NHS Number 9434765919, seen at Park Row, Leeds, ODS Code X26", "R",
			"Consultation report for Richard Smith, NHS Number 9434765919"},
		{"1.5.2:GPCM-SD-CS-030 v2 template",
			"Consultation report for Richard Smith, NHS Number: 9434765919, seen at Leeds Urgent Care Centre, X26, Version: 1", "R",
			"Consultation report for Richard Smith, NHS Number: 9434765919, Version: 1"},
		{"1.5.2:GPCM-SD-GE-014 generic template", "Discharge report for Richard Smith, NHS Number 9434765919, ODS Code X26", "R",
			"Discharge report for Richard Smith, NHS Number 9434765919"},
		{"1.5.2:GPCM-SD-CS-030 case of the words", "Consultation report for A B, NHS Number 9434765919, SEEN AT X, ods code X26, Version 1", "R",
			"Consultation report for A B, NHS Number 9434765919, Version 1"},
		{"not confidential: as sent", "Consultation report for A B, NHS Number 9434765919, seen at X, ODS Code X26", "N",
			"Consultation report for A B, NHS Number 9434765919, seen at X, ODS Code X26"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := senddoc.DisplaySubject(tt.subject, tt.conf)
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if tt.conf == "R" && senddoc.SaysWhereSeen(got) {
				t.Fatalf("%q still says where the patient was seen", got)
			}
		})
	}
}

// fixture adds a valid resource of a type to the document (fixtures_test.go)
// and lets breakIt change it.
func fixture(typ string, breakIt func(m *msg, r M)) func(m *msg) {
	return func(m *msg) { breakIt(m, m.fixture(typ)) }
}

// TestAuditRules: rules the audit found too lenient, wrong for v2, or
// missing (issue 20 item 8).
func TestAuditRules(t *testing.T) {
	byPractitioner := fixture("Observation", func(m *msg, r M) { r["performer"] = A{ref(m.prac())} })
	recipientFI := func(m *msg) {
		m.handling("RecipientType")["valueCoding"] = M{"system": itk3.RecipientTypeSystem, "code": "FI", "display": "For Information"}
	}
	noDate := func(m *msg) { delete(m.res("Composition"), "date") }
	runAudit(t, []auditRow{
		{name: "1.5.2:GPCM-SD-OC-052 Observation performed by a Practitioner", msg: tree(oc, 1, byPractitioner), want: "GPCM-SD-OC-052", code: itk3.CodePayloadValidationFailure},
		{name: "1.5.2:GPCM-SD-GE-052 Observation performed by a Practitioner", msg: tree(ge, 1, byPractitioner), want: "GPCM-SD-GE-052"},
		{name: "1.5.2:GPCM-SD-OC-052 Observation performed by the Patient", msg: tree(oc, 1, fixture("Observation", func(*msg, M) {})),
			absent: "GPCM-SD-OC-052", code: itk3.CodeSuccess},
		{name: "v2:GPCM-SD-039 v2 consultation report sent for information (FI)", msg: tree(cs, 2, recipientFI),
			absent: "GPCM-SD-CS-043", code: itk3.CodeSuccess},
		{name: "1.5.2:GPCM-SD-CS-043 v1 consultation report sent for information (FI)", msg: tree(cs, 1, recipientFI),
			want: "GPCM-SD-CS-043", code: itk3.CodeRecipientTypeError},
		{name: "1.5.2:GPCM-SD-CS-020 no Composition.date", msg: tree(cs, 1, noDate), want: "GPCM-SD-CS-020", code: itk3.CodePayloadValidationFailure},
		{name: "1.5.2:GPCM-SD-OC-004 no Composition.date", msg: tree(oc, 1, noDate), want: "GPCM-SD-OC-004"},
		{name: "1.5.2:GPCM-SD-GE-004 no Composition.date", msg: tree(ge, 1, noDate), want: "GPCM-SD-GE-004"},
		{name: "FHIR-BINDING Patient.gender any text", msg: tree(cs, 1, func(m *msg) { m.res("Patient")["gender"] = "M" }),
			want: senddoc.RuleFHIRBinding, code: itk3.CodePayloadValidationFailure},
		{name: "FHIR-BINDING Composition.status outside composition-status", msg: tree(cs, 2, func(m *msg) { m.res("Composition")["status"] = "done" }),
			want: senddoc.RuleFHIRBinding},
		{name: "1.5.2:GPCM-SD-OC-031 Device type as text only", msg: tree(oc, 1, fixture("Device", set("type", M{"text": "an app"}))), want: "GPCM-SD-OC-031"},
		{name: "1.5.2:GPCM-SD-OC-097 allergy without its causative agent", msg: tree(oc, 1, fixture("AllergyIntolerance", del("code"))), want: "GPCM-SD-OC-097"},
		{name: "1.5.2:GPCM-SD-GE-153 stopped plan whose status reason has no date", msg: tree(ge, 1, fixture("MedicationRequest", func(m *msg, r M) {
			r["intent"], r["status"] = "plan", "stopped"
			r["extension"] = append(r["extension"].(A), M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-MedicationStatusReason-1",
				"extension": A{M{"url": "statusReason", "valueCodeableConcept": M{"text": "side effects"}}}})
		})), want: "GPCM-SD-GE-153"},
		{name: "1.5.2:GPCM-SD-GE-156 MedicationRequest without an identifier", msg: tree(ge, 1, fixture("MedicationRequest", del("identifier"))), want: "GPCM-SD-GE-156"},
		{name: "1.5.2:GPCM-SD-GE-156 two MedicationRequests with one identifier", msg: tree(ge, 1, func(m *msg) {
			a, b := m.fixture("MedicationRequest"), m.fixture("MedicationRequest")
			b["identifier"] = a["identifier"]
		}), want: "GPCM-SD-GE-156"},
		{name: "1.5.2:GPCM-SD-GE-200 Immunization without primarySource", msg: tree(ge, 1, fixture("Immunization", del("primarySource"))), want: "GPCM-SD-GE-200"},
		{name: "1.5.2:GPCM-SD-GE-216 dose of a series without its sequence", msg: tree(ge, 1, fixture("Immunization", func(m *msg, r M) {
			r["vaccinationProtocol"].(A)[0].(M)["seriesDoses"] = 2
		})), want: "GPCM-SD-GE-216"},
		{name: "1.5.2:GPCM-SD-GE-225 related clinical content outside the bundle", msg: tree(ge, 1, fixture("Condition", func(m *msg, r M) {
			r["extension"] = append(r["extension"].(A), M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-RelatedClinicalContent-1",
				"valueReference": ref("urn:uuid:00000000-0000-4000-8000-999999999998")})
		})), want: "GPCM-SD-GE-225"},
	})
}

// TestAuditQualifiedIDs: v1.3, 1.5.2 and v2 use the same numbers for
// different requirements (digest §8), so findings and the diagnostics of a
// negative acknowledgement name IDs with their catalogue version: a v1
// message the 1.5.2 ID (and its v1.3 number), a v2 message the number its
// guide uses (issue 20 item 9).
func TestAuditQualifiedIDs(t *testing.T) {
	senderRefNone := func(m *msg) { m.handling("SenderReference")["valueString"] = "None" }
	tests := []struct {
		name string
		msg  func(t *testing.T) ([]byte, senddoc.Options)
		want string // in the finding's Cite and in the InfAck diagnostics
	}{
		{"1.5.2:GPCM-SD-032 v1 report, PDF not first", tree(cs, 1, jpegPrimary), "1.5.2:GPCM-SD-032 (v1.3:GPCM-SD-112)"},
		{"1.5.2:GPCM-SD-CS-046 v1 SenderReference None", tree(cs, 1, senderRefNone), "1.5.2:GPCM-SD-CS-046 (v1.3:GPCM-SD-042)"},
		{"v2:GPCM-SD-042 v2 SenderReference None (1.5.2 numbers it GPCM-SD-CS-046)", tree(cs, 2, senderRefNone), "v2:GPCM-SD-042 (1.5.2:GPCM-SD-CS-046)"},
		{"v2:GPCM-SD-114 v2 online consultation not final", tree(oc, 2, func(m *msg) { m.res("Composition")["status"] = "preliminary" }),
			"v2:GPCM-SD-114 (1.5.2:GPCM-SD-OC-002)"},
		{"1.5.2:GPCM-SD-OC-052 no earlier number", tree(oc, 1, fixture("Observation", del("performer"))), "1.5.2:GPCM-SD-OC-052"},
		{"FHIR-BDL rules outside the catalogues stand alone", tree(cs, 1, func(m *msg) { m.res("Composition")["subject"] = ref("urn:uuid:00000000-0000-4000-8000-999999999997") }),
			"FHIR-BDL at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, opts := tt.msg(t)
			rep, err := senddoc.Validate(context.Background(), bytes.NewReader(b), opts)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range rep.Findings {
				found = found || strings.HasPrefix(tt.want, f.Cite()) && strings.Contains(f.String(), f.Cite())
			}
			if !found {
				t.Errorf("no finding cited as %q: %v", tt.want, rep.Findings)
			}
			ack, err := senddoc.InfAck(rep, senddoc.Responder{ODSCode: "X26", Mailbox: "X26ABC2"})
			if err != nil {
				t.Fatal(err)
			}
			r, err := itk3.ReadResponse(ack.Bundle)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.Diagnostics, tt.want) {
				t.Errorf("InfAck %s diagnostics %q do not name %q", r.Code, r.Diagnostics, tt.want)
			}
		})
	}
}
