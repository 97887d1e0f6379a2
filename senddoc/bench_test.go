package senddoc_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/senddoc"
)

// BenchmarkBuild compares building a message (Build + XML encoding) with the
// baseline of only encoding the same bundle with package fhir.
func BenchmarkBuild(b *testing.B) {
	in := senddoc.Example(senddoc.UseCaseConsultation, 1)
	in.PDF = senddoc.ExamplePDF()
	built, err := senddoc.Build(in, senddoc.BuildOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("baseline-fhir-encode", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := fhir.EncodeXML(&buf, built.Message.Bundle, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("build-and-encode", func(b *testing.B) {
		for b.Loop() {
			m, err := senddoc.Build(in, senddoc.BuildOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := m.XML(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkValidate compares Validate with the baseline of decoding the same
// bytes with package fhir, over the official examples.
// BenchmarkBuildRender measures a whole message from a report with no PDF:
// rendering the NHS-layout PDF, building the ITK3 message and encoding it,
// beside the baseline of building and encoding with a ready PDF.
func BenchmarkBuildRender(b *testing.B) {
	in := senddoc.Example(senddoc.UseCaseConsultation, 1)
	in.PDF = nil
	ready := in
	ready.PDF = senddoc.ExamplePDF()
	for _, bc := range []struct {
		name string
		in   senddoc.Input
	}{{"baseline-ready-pdf", ready}, {"render-build-encode", in}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				m, err := senddoc.Build(bc.in, senddoc.BuildOptions{RenderPDF: senddoc.RenderReport})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := m.XML(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	for _, name := range []string{"consultation_report.xml", "oc_consultation_report_klinik.xml"} {
		data := mustRead(b, examplesDir+"/"+name)
		b.Run(name+"/baseline-fhir-decode", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, _, err := fhir.DecodeXML(bytes.NewReader(data), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/validate", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := senddoc.Validate(context.Background(), bytes.NewReader(data), senddoc.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
