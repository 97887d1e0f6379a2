package senddoc_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/senddoc"
)

// TestSampleInputs builds every examples/senddoc-*.json and validates the
// result: zero findings.
func TestSampleInputs(t *testing.T) {
	files, err := filepath.Glob("../examples/senddoc-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample inputs found (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			in, err := senddoc.ReadInput(fh)
			if err != nil {
				t.Fatal(err)
			}
			in.PDF = senddoc.ExamplePDF()
			b, err := senddoc.Build(in, senddoc.BuildOptions{})
			if err != nil {
				t.Fatal(err)
			}
			x, err := b.XML()
			if err != nil {
				t.Fatal(err)
			}
			rep, err := senddoc.ValidateBytes(context.Background(), x, senddoc.Options{Mesh: meshOf(b)})
			if err != nil || len(rep.Findings) != 0 {
				t.Errorf("got %v %v, want no findings", err, rep.Findings)
			}
		})
	}
}

func TestInputValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(in *senddoc.Input)
		want   string
	}{
		{"bad NHS number", func(in *senddoc.Input) { in.Patient.NHSNumber = "9434765918" }, "patient.nhsNumber"},
		{"bad birth date", func(in *senddoc.Input) { in.Patient.BirthDate = "09/01/1955" }, "patient.birthDate"},
		{"generic without document type", func(in *senddoc.Input) { in.UseCase = senddoc.UseCaseGeneric; in.DocumentType = nil }, "documentType"},
		{"GPCM-SD-CS-060 mailbox for a consultation summary", func(in *senddoc.Input) { in.RecipientMailbox = "B82005OT001" }, "recipientMailbox"},
		{"no notes and no pdf", func(in *senddoc.Input) { in.Sections = nil }, "sections"},
		{"generation 3", func(in *senddoc.Input) { in.Generation = 3 }, "generation"},
		{"surname with underscore", func(in *senddoc.Input) { in.Patient.Family = "Smith_Jones" }, "patient.family"},
		{"replacement not a UUID", func(in *senddoc.Input) { in.Replaces = &senddoc.Replacement{DocumentID: "doc-1"} }, "replaces.documentId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := senddoc.Example(senddoc.UseCaseConsultation, 1)
			tt.mutate(&in)
			_, err := senddoc.Build(in, senddoc.BuildOptions{RenderPDF: func(senddoc.Input) ([]byte, error) { return senddoc.ExamplePDF(), nil }})
			if err == nil || !contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error naming %s", err, tt.want)
			}
			ie, ok := errors.AsType[*senddoc.InputError](err)
			if !ok || !slices.ContainsFunc(ie.Problems, func(p senddoc.Problem) bool { return p.Field == tt.want }) {
				t.Errorf("got %#v, want a problem with Field %q", err, tt.want)
			}
			if contains(err.Error(), "9434765918") || contains(err.Error(), "Smith_Jones") {
				t.Errorf("error carries patient data: %v", err)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
