package authlimit

import (
	"sync/atomic"
	"time"
)

// evictScan is how many of the oldest keys eviction looks at for one that
// is not being delayed.
const evictScan = 8

// entry is one key's failures, linked from newest to oldest failure (as
// eviction last reordered them).
type entry struct {
	k          key
	fails      int
	last       time.Time
	prev, next *entry
}

// table is one dimension: a map and a list in order of latest failure
// (head newest), bounded by size. Callers hold Limiter.mu.
type table struct {
	p          Policy
	size       int
	m          map[key]*entry
	head, tail *entry
	keys       *atomic.Int64
}

func (t *table) waitOf(e *entry, now time.Time) time.Duration {
	return max(0, e.last.Add(t.p.delay(e.fails)).Sub(now))
}

// live returns k's entry, dropping it when forgotten.
func (t *table) live(k key, now time.Time, forget time.Duration) *entry {
	e := t.m[k]
	if e != nil && now.Sub(e.last) >= forget {
		t.remove(k)
		return nil
	}
	return e
}

func (t *table) wait(k key, now time.Time, forget time.Duration) time.Duration {
	e := t.live(k, now, forget)
	if e == nil {
		return 0
	}
	return t.waitOf(e, now)
}

// fail counts a failure of k and returns its failures so far.
func (t *table) fail(k key, now time.Time, forget time.Duration) int {
	e := t.live(k, now, forget)
	if e == nil {
		if len(t.m) >= t.size {
			t.evict(now, forget)
		}
		e = &entry{k: k}
		t.m[k] = e
		t.keys.Add(1)
	} else {
		t.unlink(e)
	}
	e.fails++
	e.last = now
	t.pushFront(e)
	return e.fails
}

// evict drops one key: the oldest that is forgotten or not being delayed.
// A delayed key met on the way gets a second chance at the front of the
// list; after evictScan of them the oldest goes whatever its state (the
// table is then full of delayed keys).
func (t *table) evict(now time.Time, forget time.Duration) {
	for i := 0; i < evictScan && t.tail != nil; i++ {
		e := t.tail
		if now.Sub(e.last) >= forget || t.waitOf(e, now) == 0 {
			t.remove(e.k)
			return
		}
		t.unlink(e)
		t.pushFront(e)
	}
	if t.tail != nil {
		t.remove(t.tail.k)
	}
}

func (t *table) remove(k key) {
	e, ok := t.m[k]
	if !ok {
		return
	}
	t.unlink(e)
	delete(t.m, k)
	t.keys.Add(-1)
}

func (t *table) pushFront(e *entry) {
	e.prev, e.next = nil, t.head
	if t.head != nil {
		t.head.prev = e
	}
	t.head = e
	if t.tail == nil {
		t.tail = e
	}
}

func (t *table) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		t.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		t.tail = e.prev
	}
	e.prev, e.next = nil, nil
}
