// Package growth checks in benchmarks that a parser's time grows no more
// than linearly with a hostile dimension of its input (issue 23): the mean
// time of a call for an input and for one 4× larger are compared within
// one run, each the minimum over interleaved rounds, so that a busy machine
// slows neither side more than the other. Linear work gives a
// ratio near 4 and quadratic work 16; Check fails above 6.
package growth

import (
	"math"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"
)

// MaxRatio is the largest time ratio Check accepts for a 4× larger input.
const MaxRatio = 6

// Ratio returns the time of a call of large divided by that of small, each
// the minimum over rounds interleaved rounds of perCall.
func Ratio(small, large func(), rounds int) float64 {
	ts, tl := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for i := range rounds {
		ts = min(ts, perCall(small))
		tl = min(tl, perCall(large))
		if i >= 2 && float64(tl) > 4*MaxRatio*float64(ts) {
			break // plainly worse than linear: no need to wait for more
		}
	}
	return float64(tl) / float64(ts)
}

// perCall returns the mean time of the calls of f made in 20 ms (after
// one call to warm up and a collection). The collector's goal is raised
// to 8× the live heap (at least 32 MiB) meanwhile: at the default, heaps
// as small as these inputs make collections many and cost per byte more
// for the larger input, which is the runtime's doing, not the parser's.
func perCall(f func()) time.Duration {
	defer debug.SetGCPercent(debug.SetGCPercent(800))
	f()
	runtime.GC()
	start := time.Now()
	for n := 1; ; n++ {
		f()
		if el := time.Since(start); el >= 20*time.Millisecond {
			return el / time.Duration(n)
		}
	}
}

// Check measures Ratio (7 rounds) up to 5 times, stopping at the first
// at or below MaxRatio (or above 4 × MaxRatio, which no noise explains), on every iteration of b's loop; it reports the
// smallest as the metric "time-4n/n" and fails b when even that is above
// MaxRatio. A busy machine can spoil one measurement, not five in a row,
// and no quadratic parser reaches 6× however quiet the machine. Run it
// with -benchtime 1x for a single measurement.
func Check(b *testing.B, small, large func()) {
	b.Helper()
	best := math.Inf(1)
	for b.Loop() {
		for range 5 {
			best = math.Min(best, Ratio(small, large, 7))
			if best <= MaxRatio || best > 4*MaxRatio {
				break
			}
		}
	}
	b.ReportMetric(best, "time-4n/n")
	if best > MaxRatio {
		b.Errorf("time grew %.1f× for 4× the input, more than %d× (worse than linear)", best, MaxRatio)
	}
}

// ManyAttributes is a FHIR message whose Bundle start tag has n
// attributes: the shape an outside review timed at 0.33 s for 20 000 and
// 7.46 s for 80 000 attributes in gpcm validate (issue 23).
func ManyAttributes(n int) []byte {
	b := []byte(`<Bundle xmlns="http://hl7.org/fhir"`)
	for i := range n {
		b = append(b, " a"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `="x"`...)
	}
	return append(b, `><type value="message"/></Bundle>`...)
}
