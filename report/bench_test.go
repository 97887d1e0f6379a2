package report_test

import (
	"io"
	"testing"

	"github.com/gpcm/gpcm/report"
)

// BenchmarkRender measures building and rendering one consultation report:
// the official example (one page) and a long report (several pages).
func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name string
		c    *report.Consultation
	}{
		{name: "example-1-page", c: exampleConsultation()},
		{name: "full-8-sections", c: fullConsultation(8)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := report.Render(io.Discard, bc.c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
