package receiver_test

import (
	"slices"
	"testing"

	"github.com/gpcm/gpcm/internal/testutil/peak"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

// BenchmarkReceiveLargeMessage is the receiver's side of issue 18 §9: a
// clean consultation report of about 100 MiB (the default
// MaxMessageBytes), its PDF making up almost all of it, is downloaded from
// MESH, stored, validated, matched and filed, and the benchmark reports
// how far the heap of the whole process (the in-process MESH server
// included) rose while the receiver handled it (peak-MiB, sampled every
// millisecond) and that per byte of message (peak/size).
func BenchmarkReceiveLargeMessage(b *testing.B) {
	const size = 100 << 20
	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	pdf := senddoc.ExamplePDF()
	pad := make([]byte, (size-(1<<20))*3/4-len(pdf))
	for i := range pad {
		pad[i] = byte(i*7 + i>>9)
	}
	in.PDF = append(append(pdf[:len(pdf):len(pdf)], '%'), pad...)
	built := mustBuild(b, in)
	body := mustXML(b, built)
	b.SetBytes(int64(len(body)))
	var top uint64
	for b.Loop() {
		b.StopTimer()
		e := MustEnv(b, func(c *receiver.Config) { c.MaxMessageBytes = 0 }) // the default limit
		e.register(b, regOf(in))
		e.sendBuilt(b, built)
		b.StartTimer()
		top = max(top, peak.Heap(func() { e.run(b) }))
		b.StopTimer()
		e.readAcks(b)
		if got := e.codes(built.HeaderID); !slices.Equal(got, []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}) {
			b.Fatalf("acks for the %d-byte report: got %v, want [20013 30001]", len(body), got)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(top)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(top)/float64(len(body)), "peak/size")
}
