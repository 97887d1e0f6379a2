package receiver_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

// benchMessages builds n distinct consultation reports and their register.
func benchMessages(tb testing.TB, n int) ([][]byte, []*senddoc.Built, []receiver.Patient) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	var bodies [][]byte
	var built []*senddoc.Built
	var regs []receiver.Patient
	for range n {
		in.Patient.NHSNumber = patient.GenerateTestNHSNumber(rng)
		b := mustBuild(tb, in)
		bodies = append(bodies, mustXML(tb, b))
		built = append(built, b)
		regs = append(regs, regOf(in))
	}
	return bodies, built, regs
}

// BenchmarkReceiver compares, per message, the whole pipeline (MESH
// download over loopback HTTPS, store, MESH ack, validate, match, worklist,
// InfAck and BusAck sent through MESH) with its upper limit, the pure
// decode+validate loop over the same messages, and reports the ratio. Both
// also report cpu-ms/msg, the process's CPU time per message (the MESH
// server runs in this process too), which a machine shared with other work
// disturbs less than the wall-clock rate.
func BenchmarkReceiver(b *testing.B) {
	const batch = 200
	bodies, built, regs := benchMessages(b, batch)
	var validateNs, e2eNs float64
	b.Run("decode-validate", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		cpu0 := cpuTime()
		for b.Loop() {
			body := bodies[i%batch]
			if _, err := senddoc.Validate(b.Context(), bytes.NewReader(body), senddoc.Options{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
		validateNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(1e9/validateNs, "msgs/s")
		b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/msg")
	})
	b.Run("end-to-end", func(b *testing.B) {
		b.ReportAllocs()
		e := MustEnv(b, func(c *receiver.Config) { c.Batch = 50; c.PageSize = 500; c.Workers = 16 })
		e.register(b, regs...)
		b.StopTimer()
		var cpu time.Duration
		sent := 0
		for sent < b.N {
			k := min(b.N-sent, batch)
			for j := range k {
				bb := built[j]
				reID(bb)
				composition(b, bb).Identifier.Value.Value = bb.HeaderID // a fresh document id too
				x := mustXML(b, bb)
				e.send(b, x, bb.Envelope.WorkflowID, bb.Envelope.Subject)
			}
			b.StartTimer()
			cpu0 := cpuTime()
			if err := e.rcv.RunOnce(b.Context()); err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime() - cpu0
			b.StopTimer()
			sent += k
		}
		counts, _ := e.store.CountDocuments(b.Context())
		if counts[receiver.DocAwaitingFiling] != b.N {
			b.Fatalf("filed %d of %d", counts[receiver.DocAwaitingFiling], b.N)
		}
		e2eNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(1e9/e2eNs, "msgs/s")
		b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/msg")
	})
	if validateNs > 0 && e2eNs > 0 {
		fmt.Printf("ratio (BenchmarkReceiver, last runs): end-to-end %.0f msgs/s, decode+validate %.0f msgs/s, ratio %.3f\n", 1e9/e2eNs, 1e9/validateNs, validateNs/e2eNs)
		b.Logf("end-to-end %.0f msgs/s, decode+validate %.0f msgs/s, ratio %.3f", 1e9/e2eNs, 1e9/validateNs, validateNs/e2eNs)
	}
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
