package updaterecord_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/fhir/fhirtest"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/updaterecord"
)

// TestBuildConformant: the message built for each use case validates with
// no finding at all, over the MESH API and the MESH client (.ctl), in XML
// and in JSON.
func TestBuildConformant(t *testing.T) {
	for _, uc := range updaterecord.UseCases() {
		t.Run(string(uc), func(t *testing.T) {
			b := MustBuild(t, updaterecord.Example(uc))
			x, j := mustXML(t, b.Message.Bundle), mustJSON(t, b.Message.Bundle)
			ctl, err := b.ControlFile()
			if err != nil {
				t.Fatal(err)
			}
			cf, err := senddoc.ReadControlFile(bytes.NewReader(ctl))
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name string
				data []byte
				opts updaterecord.Options
			}{
				{"xml/api", x, updaterecord.Options{Mesh: meshOf(b)}},
				{"json/api", j, updaterecord.Options{Mesh: meshOf(b)}},
				{"xml/ctl", x, updaterecord.Options{Mesh: cf.Metadata(), ControlVersion: cf.Version}},
			} {
				rep := mustValidate(t, tc.data, tc.opts)
				for _, f := range rep.Findings {
					t.Errorf("%s: finding: %s", tc.name, f)
				}
				if rep.UseCase != uc || rep.ResponseCode != itk3.CodeSuccess || rep.MessageHeaderID != b.HeaderID ||
					rep.DocumentID != b.DocumentID || rep.Version != 0 || *rep.InfAckRequested != true || *rep.BusAckRequested != true {
					t.Errorf("%s: got %+v", tc.name, rep)
				}
			}
			if rep := mustValidate(t, x, updaterecord.Options{}); rep.SenderReference != updaterecord.Example(uc).Consultation.ID {
				t.Errorf("SenderReference %q is not the consultation id", rep.SenderReference)
			}
		})
	}
}

// TestBuildRoundTrip: the built message survives XML → JSON → XML and
// JSON → XML → JSON through the fhir codec without a difference.
func TestBuildRoundTrip(t *testing.T) {
	for _, uc := range updaterecord.UseCases() {
		t.Run(string(uc), func(t *testing.T) {
			b := MustBuild(t, updaterecord.Example(uc))
			x := mustXML(t, b.Message.Bundle)
			res, ff, err := fhir.DecodeXML(bytes.NewReader(x), nil)
			if err != nil || len(ff) != 0 {
				t.Fatalf("decode XML: %v %v", err, ff)
			}
			j := mustJSON(t, res)
			back, ff, err := fhir.DecodeJSON(bytes.NewReader(j), nil)
			if err != nil || len(ff) != 0 {
				t.Fatalf("decode JSON: %v %v", err, ff)
			}
			x2 := mustXML(t, back)
			if !bytes.Equal(x2, x) {
				fhirtest.AssertEqualXML(t, x2, x)
				t.Fatal("XML → JSON → XML changed the bytes")
			}
			if j2 := mustJSON(t, back); !bytes.Equal(j2, j) {
				fhirtest.AssertEqualJSON(t, j2, j)
				t.Fatal("JSON → XML → JSON changed the bytes")
			}
			if j0 := mustJSON(t, b.Message.Bundle); !bytes.Equal(j0, j) {
				t.Fatal("the JSON of the built model differs from the JSON of its decoded XML")
			}
		})
	}
}

// TestBuildContent checks what each use case puts where (digest §3, §4).
func TestBuildContent(t *testing.T) {
	b := MustBuild(t, updaterecord.Example(updaterecord.UseCaseBloodPressure))
	m := msg{b.Message.Bundle}
	h := m.header()
	if h.Event.Code.String() != "ITK014M" || h.Event.Display.String() != "ITK Update Record" {
		t.Errorf("event %+v", h.Event)
	}
	hs, _ := itk3.ReadHandling(h)
	if hs.MessageDefinition != updaterecord.MessageDefinition || hs.LocalExtension != "None" || hs.RecipientType != "FA" || !hs.InfAckRequested || !hs.BusAckRequested {
		t.Errorf("handling %+v", hs)
	}
	comp := m.comp()
	if comp.Type.Coding[0].Code.String() != "1659111000000107" || comp.Title.String() != "Park Road Pharmacy - Community Pharmacy Blood Pressure Check Service" {
		t.Errorf("composition type %s title %q", comp.Type.Coding[0].Code, comp.Title)
	}
	enc := m.nth("Encounter", 0).(*fhir.Encounter)
	if enc.Reason[0].Coding[0].Code.String() != "1659111000000107" {
		t.Error("Encounter.reason does not repeat the service code")
	}
	bp := m.nth("Observation", 0).(*fhir.Observation)
	if bp.Code.Coding[0].Code.String() != "163035008" || len(bp.Component) != 2 ||
		bp.Component[0].Code.Coding[0].Code.String() != "407554009" || bp.Component[1].Code.Coding[0].Code.String() != "407555005" {
		t.Errorf("sitting blood-pressure triplet not written: %s", mustJSON(t, bp))
	}
	if q := bp.Component[0].Value.(*fhir.Quantity); q.Value.String() != "152" || q.Code.String() != "mm[Hg]" || q.Unit.String() != "millimeter of mercury" {
		t.Errorf("systolic %+v", q)
	}
	if bp.Interpretation.Coding[0].Code.String() != "H" {
		t.Error("interpretation H not written")
	}
	ci := m.nth("ClinicalImpression", 0).(*fhir.ClinicalImpression)
	if ci.Meta.Tag[0].System.String() != updaterecord.HeadingSystem || ci.Meta.Tag[0].Code.String() != "clinical-summary" {
		t.Errorf("heading tag %+v", ci.Meta.Tag)
	}
	e := b.Envelope
	if e.WorkflowID != "GPCONNECT_UPDATE_RECORD" || e.AckWorkflowID != "GPCONNECT_UPDATE_RECORD_ACK" ||
		e.To != "GPPROVIDER_9690937286_19670126_Smith" || e.LocalID != "FX123" || e.From != "FX123OT001" ||
		e.Subject != "Park Road Pharmacy - Community Pharmacy Blood Pressure Check Service for Richard Smith, NHS Number: 9690937286, seen at Park Road Pharmacy, ODS code: FX123, version 1" {
		t.Errorf("envelope %+v", e)
	}

	pf := msg{MustBuild(t, updaterecord.Example(updaterecord.UseCasePharmacyFirst)).Message.Bundle}
	md := pf.nth("MedicationDispense", 0).(*fhir.MedicationDispense)
	if md.Type.Coding[0].Code.String() != "patient-group-direction" || md.Quantity.Code.String() != "428641000" ||
		md.DosageInstruction[0].Text.String() == "" || md.DosageInstruction[0].PatientInstruction.String() == "" {
		t.Errorf("dispense %s", mustJSON(t, md))
	}
	if cd := pf.nth("Condition", 0).(*fhir.Condition); cd.Meta.Tag[0].Code.String() != "presenting-complaints-or-issues" || cd.ClinicalStatus.String() != "active" {
		t.Errorf("condition %s", mustJSON(t, cd))
	}
	us := msg{MustBuild(t, updaterecord.Example(updaterecord.UseCaseUrgentSupply)).Message.Bundle}
	if md := us.nth("MedicationDispense", 0).(*fhir.MedicationDispense); md.Type.Coding[0].Code.String() != "emergency-supply" {
		t.Errorf("urgent supply type %s", md.Type.Coding[0].Code)
	}
}

// TestBuildReplacement: version 2 replacing the first (UR-E02, UR-E03,
// UR-B08): relatesTo, meta.versionId, .ctl Version 2, same SenderReference.
func TestBuildReplacement(t *testing.T) {
	first := MustBuild(t, updaterecord.Example(updaterecord.UseCasePharmacyFirst))
	in := updaterecord.Example(updaterecord.UseCasePharmacyFirst)
	in.Version, in.Replaces = 2, &updaterecord.Replacement{DocumentID: first.DocumentID}
	b := MustBuild(t, in)
	rep := mustValidate(t, mustXML(t, b.Message.Bundle), updaterecord.Options{Mesh: meshOf(b), ControlVersion: "2"})
	for _, f := range rep.Findings {
		t.Errorf("finding: %s", f)
	}
	if rep.Version != 2 || rep.Replaces != first.DocumentID || rep.SenderReference != in.Consultation.ID || !strings.HasSuffix(b.Envelope.Subject, "version 2") {
		t.Errorf("got version %d replaces %s sender reference %s subject %q", rep.Version, rep.Replaces, rep.SenderReference, b.Envelope.Subject)
	}
	ctl, _ := b.ControlFile()
	if !bytes.Contains(ctl, []byte("<Version>2</Version>")) || !bytes.Contains(ctl, []byte("<WorkflowId>GPCONNECT_UPDATE_RECORD</WorkflowId>")) {
		t.Errorf("control file:\n%s", ctl)
	}
}

func TestReadInput(t *testing.T) {
	for _, uc := range updaterecord.UseCases() {
		raw, err := json.Marshal(updaterecord.Example(uc))
		if err != nil {
			t.Fatal(err)
		}
		in, err := updaterecord.ReadInput(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", uc, err)
		}
		if in.UseCase != uc {
			t.Errorf("use case %s, want %s", in.UseCase, uc)
		}
	}
	good, _ := json.Marshal(updaterecord.Example(updaterecord.UseCaseBloodPressure))
	tests := []struct {
		name, in, problem string
	}{
		{"not JSON", "{", "not an Update Record description"},
		{"unknown field", `{"useCase":"blood-pressure","pdf":"x"}`, "unknown field"},
		{"unknown use case", strings.Replace(string(good), `"blood-pressure"`, `"flu-vaccination"`, 1), "useCase must be"},
		{"bad NHS number", strings.Replace(string(good), "9690937286", "9690937287", 1), "patient.nhsNumber"},
		{"no clinical summary", strings.Replace(string(good), `"clinical-summary"`, `"history"`, 1), "clinical-summary"},
		{"unknown heading", strings.Replace(string(good), `"history"`, `"gossip"`, 1), "RecordStandardHeadings"},
		{"unknown reading", strings.Replace(string(good), `"sitting"`, `"hanging"`, 1), "reading must be one of"},
		{"unsupported unit", strings.Replace(string(good), `"{beats}/min"`, `"%"`, 1), "supported UCUM unit"},
		{"bad mailbox", strings.Replace(string(good), `"FX123OT001"`, `"FX 123"`, 1), "senderMailbox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := updaterecord.ReadInput(strings.NewReader(tt.in))
			var ie *updaterecord.InputError
			if !errors.As(err, &ie) || !errors.Is(err, updaterecord.ErrInput) || !strings.Contains(err.Error(), tt.problem) {
				t.Fatalf("got %v, want an InputError mentioning %q", err, tt.problem)
			}
			if strings.Contains(err.Error(), "9690937287") || strings.Contains(err.Error(), "Smith") {
				t.Errorf("the error quotes patient data: %v", err)
			}
		})
	}
}

func TestEveryUseCaseHasAnExample(t *testing.T) {
	for _, uc := range updaterecord.UseCases() {
		if err := updaterecord.Example(uc).Validate(); err != nil {
			t.Errorf("%s: %v", uc, err)
		}
		svc, ok := uc.Service()
		if got, ok2 := updaterecord.UseCaseOf(svc.Code); !ok || !ok2 || got != uc {
			t.Errorf("%s: service code %s maps back to %s", uc, svc.Code, got)
		}
	}
	if _, err := updaterecord.Build(updaterecord.Input{}, updaterecord.BuildOptions{}); !errors.Is(err, updaterecord.ErrInput) {
		t.Errorf("building an empty input: got %v, want ErrInput", err)
	}
}
