//go:build unix

package tier_test

import (
	"bytes"
	"fmt"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob"
)

// BenchmarkPut compares, per body size, a durable Put as a file (fileblob:
// create, write, fsync, rename, sync dir) with a durable Put as a row of the
// SQLite database (group commit), 8 writers at once as the MESH server sees
// them. The crossover justifies DefaultThreshold: compare cpu-ns/op
// (the process's CPU per Put) and ns/op of file/SIZE and sqlite/SIZE.
func BenchmarkPut(b *testing.B) {
	for _, size := range []int{4 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10, 1 << 20} {
		body := bytes.Repeat([]byte("x"), size)
		for _, tc := range []struct {
			name string
			open func(b *testing.B) blob.Store
		}{
			{"file", func(b *testing.B) blob.Store { return mustFiles(b) }},
			{"sqlite", func(b *testing.B) blob.Store { return mustDB(b).Blobs() }},
		} {
			b.Run(fmt.Sprintf("%s/%dKiB", tc.name, size>>10), func(b *testing.B) {
				s := tc.open(b)
				var seq atomic.Int64
				b.SetBytes(int64(size))
				b.SetParallelism(4) // 4 × GOMAXPROCS(2) = 8 writers
				cpu0 := cpuTime()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						key := "mesh/b/" + strconv.FormatInt(seq.Add(1), 10)
						if _, err := s.Put(b.Context(), key, bytes.NewReader(body)); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
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
