package senddoc_test

import (
	"bytes"
	"testing"

	"github.com/gpcm/gpcm/internal/testutil/peak"
	"github.com/gpcm/gpcm/senddoc"
)

// largeMessage builds a clean Send Document message whose PDF is padded so
// that the whole message is about size bytes (the base64 Binary is about
// 3/4 of it).
func largeMessage(tb testing.TB, size int) []byte {
	tb.Helper()
	in := senddoc.Example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	pdf := senddoc.ExamplePDF()
	pad := make([]byte, size*3/4-len(pdf))
	for i := range pad {
		pad[i] = byte(i*7 + i>>9)
	}
	in.PDF = append(append(pdf[:len(pdf):len(pdf)], '%'), pad...)
	b, err := senddoc.Build(in, senddoc.BuildOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	x, err := b.XML()
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

// BenchmarkValidateLargeBinary validates a 100 MiB message (a clean
// consultation report whose PDF makes up almost all of it) from an
// in-memory body, as the receiver does, and reports how far the heap rose
// above the body itself (peak-MiB, sampled) and that figure per MiB of
// message (peak/size).
func BenchmarkValidateLargeBinary(b *testing.B) {
	body := largeMessage(b, 100<<20)
	b.SetBytes(int64(len(body)))
	var top uint64
	for b.Loop() {
		var rep senddoc.Report
		var err error
		top = max(top, peak.Heap(func() {
			rep, err = senddoc.Validate(b.Context(), bytes.NewReader(body), senddoc.Options{MaxBytes: 110 << 20})
		}))
		if err != nil || rep.Errors() > 0 {
			b.Fatalf("got %v %v", err, rep.Findings)
		}
	}
	b.ReportMetric(float64(top)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(top)/float64(len(body)), "peak/size")
}
