package fhir_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
)

func TestRequiredBinding(t *testing.T) {
	tests := []struct {
		typ, elem string
		vs        string // "" = no required binding
		has       string // a code the value set holds
	}{
		{"Patient", "gender", "http://hl7.org/fhir/ValueSet/administrative-gender", "unknown"},
		{"Composition", "confidentiality", "http://hl7.org/fhir/ValueSet/v3-ConfidentialityClassification", "R"},
		{"Composition", "status", "http://hl7.org/fhir/ValueSet/composition-status", "final"},
		{"HumanName", "use", "http://hl7.org/fhir/ValueSet/name-use", "official"},
		{"Bundle", "type", "http://hl7.org/fhir/ValueSet/bundle-type", "message"},
		{"CompositionSection", "mode", "http://hl7.org/fhir/ValueSet/list-mode", "snapshot"},
		{"Binary", "contentType", "", ""}, // MIME types: not a closed list
		{"Patient", "language", "", ""},   // languages: not required in STU3
		{"Patient", "birthDate", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"."+tt.elem, func(t *testing.T) {
			b, ok := fhir.RequiredBinding(tt.typ, tt.elem)
			if tt.vs == "" {
				if ok {
					t.Fatalf("got %+v, want no required binding", b)
				}
				return
			}
			if !ok || b.ValueSet != tt.vs || !slices.Contains(b.Codes, tt.has) {
				t.Fatalf("got %+v %v, want %s holding %s", b, ok, tt.vs, tt.has)
			}
		})
	}
}

func TestCheckBindings(t *testing.T) {
	bundle := func(p *fhir.Patient, c *fhir.Composition) *fhir.Bundle {
		doc := &fhir.Bundle{Type: fhir.NewCode("document"), Entry: []*fhir.BundleEntry{{Resource: c}, {Resource: p}}}
		return &fhir.Bundle{Type: fhir.NewCode("message"), Entry: []*fhir.BundleEntry{{Resource: &fhir.MessageHeader{}}, {Resource: doc}}}
	}
	good := func() (*fhir.Patient, *fhir.Composition) {
		return &fhir.Patient{Gender: fhir.NewCode("female"), Name: []*fhir.HumanName{{Use: fhir.NewCode("official")}}},
			&fhir.Composition{Status: fhir.NewCode("final"), Confidentiality: fhir.NewCode("N"),
				Section: []*fhir.CompositionSection{{Mode: fhir.NewCode("snapshot")}}}
	}
	tests := []struct {
		name  string
		edit  func(p *fhir.Patient, c *fhir.Composition)
		paths []string
	}{
		{"all codes in their value sets", func(*fhir.Patient, *fhir.Composition) {}, nil},
		{"Patient.gender any text", func(p *fhir.Patient, _ *fhir.Composition) { p.Gender = fhir.NewCode("m") },
			[]string{"Bundle.entry[1].resource.Bundle.entry[1].resource.Patient.gender"}},
		{"Patient.gender case matters", func(p *fhir.Patient, _ *fhir.Composition) { p.Gender = fhir.NewCode("Female") },
			[]string{"Bundle.entry[1].resource.Bundle.entry[1].resource.Patient.gender"}},
		{"HumanName.use of the second name", func(p *fhir.Patient, _ *fhir.Composition) {
			p.Name = append(p.Name, &fhir.HumanName{Use: fhir.NewCode("legal")})
		}, []string{"Bundle.entry[1].resource.Bundle.entry[1].resource.Patient.name[1].use"}},
		{"Composition.status, confidentiality and section.mode", func(_ *fhir.Patient, c *fhir.Composition) {
			c.Status, c.Confidentiality, c.Section[0].Mode = fhir.NewCode("done"), fhir.NewCode("r"), fhir.NewCode("x")
		}, []string{
			"Bundle.entry[1].resource.Bundle.entry[0].resource.Composition.status",
			"Bundle.entry[1].resource.Bundle.entry[0].resource.Composition.confidentiality",
			"Bundle.entry[1].resource.Bundle.entry[0].resource.Composition.section[0].mode",
		}},
		{"contained resource", func(p *fhir.Patient, _ *fhir.Composition) {
			p.Contained = []fhir.Resource{&fhir.RelatedPerson{Gender: fhir.NewCode("x")}}
		}, []string{"Bundle.entry[1].resource.Bundle.entry[1].resource.Patient.contained[0].RelatedPerson.gender"}},
		{"an element with only an extension is not checked", func(p *fhir.Patient, _ *fhir.Composition) {
			p.Gender = &fhir.Code{Extension: []*fhir.Extension{{URL: "https://example.org/x"}}}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := good()
			tt.edit(p, c)
			var got []string
			for _, b := range fhir.CheckBindings(bundle(p, c)) {
				got = append(got, b.Path)
				if f := b.Finding(); f.Path != b.Path || strings.Contains(f.Message, `"`) || strings.Contains(f.Message, " "+b.Code+" ") {
					t.Errorf("finding %s: wrong path, or it quotes the value", f)
				}
			}
			if !slices.Equal(got, tt.paths) {
				t.Fatalf("got %q, want %q", got, tt.paths)
			}
		})
	}
}
