package meshbench

import (
	"slices"
	"time"
)

// Summary describes a set of latencies.
type Summary struct {
	Count int
	Mean  time.Duration
	P50   time.Duration
	P90   time.Duration
	P99   time.Duration
	Max   time.Duration
}

// Latencies collects durations; it keeps every sample (8 bytes each), so
// percentiles are exact. It is not safe for concurrent use: give each
// goroutine its own and Merge them.
type Latencies struct {
	d []time.Duration
}

// Record adds one sample.
func (l *Latencies) Record(d time.Duration) { l.d = append(l.d, d) }

// Merge adds every sample of o.
func (l *Latencies) Merge(o *Latencies) { l.d = append(l.d, o.d...) }

// Len returns the number of samples.
func (l *Latencies) Len() int { return len(l.d) }

// Summary returns count, mean, nearest-rank percentiles and maximum.
func (l *Latencies) Summary() Summary {
	if len(l.d) == 0 {
		return Summary{}
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Summary{
		Count: len(s),
		Mean:  sum / time.Duration(len(s)),
		P50:   rank(s, 0.50),
		P90:   rank(s, 0.90),
		P99:   rank(s, 0.99),
		Max:   s[len(s)-1],
	}
}

// rank returns the nearest-rank q-quantile of sorted s.
func rank(s []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(s))+0.999999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
