// Package peak measures in tests how far the heap rises while a function
// runs.
package peak

import (
	"runtime"
	"sync"
	"time"
)

// Heap runs fn and returns how far the heap (HeapAlloc, garbage not yet
// collected included) rose above what it was before, sampled every
// millisecond and once at the end.
func Heap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, top := ms.HeapAlloc, ms.HeapAlloc
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
				top = max(top, m.HeapAlloc)
				mu.Unlock()
			}
		}
	})
	fn()
	runtime.ReadMemStats(&ms)
	close(done)
	wg.Wait()
	return max(top, ms.HeapAlloc) - base
}
