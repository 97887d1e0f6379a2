package senddoc_test

import (
	"bytes"
	"runtime"
	"sync"
	"testing"
	"time"

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

// peakHeap runs fn and returns how far the live heap rose above what it
// was before, sampling every millisecond.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	var mu sync.Mutex
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				mu.Lock()
				peak = max(peak, m.HeapAlloc)
				mu.Unlock()
			}
		}
	})
	fn()
	runtime.ReadMemStats(&ms)
	close(done)
	wg.Wait()
	return max(peak, ms.HeapAlloc) - base
}

// BenchmarkValidateLargeBinary validates a 100 MiB message (a clean
// consultation report whose PDF makes up almost all of it) from an
// in-memory body, as the receiver does, and reports how far the heap rose
// above the body itself (peak-MiB, sampled) and that figure per MiB of
// message (peak/size).
func BenchmarkValidateLargeBinary(b *testing.B) {
	body := largeMessage(b, 100<<20)
	b.SetBytes(int64(len(body)))
	var peak uint64
	for b.Loop() {
		var rep senddoc.Report
		var err error
		peak = max(peak, peakHeap(func() {
			rep, err = senddoc.Validate(b.Context(), bytes.NewReader(body), senddoc.Options{MaxBytes: 110 << 20})
		}))
		if err != nil || rep.Errors() > 0 {
			b.Fatalf("got %v %v", err, rep.Findings)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(peak)/float64(len(body)), "peak/size")
}
