package receiver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
)

// How a batch is decided (issue 23 §2).
//
// Every message is decided within Config.ProcessBudget: a context deadline
// through reading, validating and extracting it, checked between the
// stages as well. A message over the budget is given back and tried once
// more after a backoff; over it on that attempt too, it is answered 10009
// (it could not be read within the budget), naming its MessageHeader.id
// when a lenient scan finds it.
//
// One slow message must not hold up the others. When part of a batch is
// still being decided after slowAfter, the messages already decided are
// recorded at once and the rest are left to a straggler goroutine that
// records each as soon as it is decided; RunOnce goes on claiming and
// answering other messages meanwhile (a straggler's claims outlast the
// budget, so nobody else takes them). Order holds where it matters: a
// message is never recorded before an earlier one from the same sender
// mailbox (in its batch or left to an earlier straggler), so each sender's
// messages keep their arrival order, and a replacement never before any
// earlier message (its original may be that one, from another mailbox of
// the same organisation). So a hostile sender delays only its own later
// messages. RunOnce waits for its stragglers before it returns; at most
// GOMAXPROCS run at once, beyond that a batch is decided whole before the
// next.

// budgetAttempts is the claim on which a message over the budget is
// answered 10009 instead of tried again.
const budgetAttempts = 2

// scanBudget bounds the lenient header scan of a message over budget (it
// is linear in the message: a fraction of a second for the largest).
const scanBudget = 5 * time.Second

// slowAfter is how long a batch waits for all its messages before it
// records those decided and leaves the rest to a straggler.
const slowAfter = 100 * time.Millisecond

// overBudget reports whether bctx, derived from ctx, ran out of its own
// time (rather than ctx ending).
func overBudget(ctx, bctx context.Context) bool {
	return ctx.Err() == nil && errors.Is(bctx.Err(), context.DeadlineExceeded)
}

// overBudget is the outcome of a message whose decision ran out of
// budget: 10009, with the MessageHeader.id when a short lenient scan of
// body (nil if it could not be read) finds it.
func (r *Receiver) overBudget(ctx context.Context, body []byte) outcome {
	r.metrics.overBudget.Add(1)
	o := outcome{code: itk3.CodeUnreadableMessage,
		diagnostics: fmt.Sprintf("the message could not be read within this receiver's processing budget (%s)", r.cfg.ProcessBudget)}
	o.rep.MessageHeaderID = itk3.UnreadableIdentifier
	if body == nil {
		return o
	}
	sctx, cancel := context.WithTimeout(ctx, scanBudget)
	defer cancel()
	if rep := senddoc.ScanReport(sctx, body); rep.MessageHeaderID != itk3.UnreadableIdentifier {
		o.rep, o.readable = rep, true
	}
	return o
}

// batch is one claimed batch being decided.
type batch struct {
	msgs  []Message
	items []*item
	done  chan int // index of each item once decided
	all   sync.WaitGroup
	seen  []bool // items received from done
	left  int
}

// decideAll starts deciding msgs, at most GOMAXPROCS at once.
func (r *Receiver) decideAll(ctx context.Context, msgs []Message) *batch {
	b := &batch{msgs: msgs, items: make([]*item, len(msgs)), done: make(chan int, len(msgs)), seen: make([]bool, len(msgs)), left: len(msgs)}
	idx := make([]int, len(msgs))
	for i := range idx {
		idx[i] = i
	}
	b.all.Go(func() {
		_ = forEach(runtime.GOMAXPROCS(0), idx, func(i int) error {
			b.items[i] = r.prepare(ctx, msgs[i])
			b.done <- i
			return nil
		})
	})
	return b
}

// wait takes decided items until all are, or until the timer fires (nil:
// no limit); it reports whether all are decided.
func (b *batch) wait(timer <-chan time.Time) bool {
	for b.left > 0 {
		select {
		case i := <-b.done:
			b.take(i)
		case <-timer:
			return false
		}
	}
	b.all.Wait()
	return true
}

func (b *batch) take(i int) {
	b.seen[i] = true
	b.left--
}

// eligible divides the positions pending (in arrival order) into the
// items that may be recorded now and those that must wait: one not yet
// decided; one behind an unrecorded message from the same sender mailbox
// (in this batch, or in blocked: the mailboxes an earlier straggler still
// has messages of), so each sender's messages keep their order; and a
// replacement behind any unrecorded message (its original may be that
// one), also one in an earlier straggler unless prevDone.
func (b *batch) eligible(pending []int, blocked map[string]bool, prevDone bool) (now []*item, rest []int) {
	gap := !prevDone
	held := maps.Clone(blocked)
	if held == nil {
		held = map[string]bool{}
	}
	for _, i := range pending {
		from := strings.ToUpper(b.msgs[i].From)
		switch {
		case !b.seen[i]:
			gap = true
			held[from] = true
			rest = append(rest, i)
		case held[from] || (gap && len(b.items[i].o.p.ReplacesIDs) > 0):
			held[from] = true
			rest = append(rest, i)
		default:
			now = append(now, b.items[i])
		}
	}
	return now, rest
}

// straggler is a batch's slow remainder being recorded in the background.
type straggler struct {
	done chan struct{} // closed once it has recorded everything
	// from holds the sender mailboxes (upper case) it and the stragglers
	// before it had unrecorded messages of when it started: a later batch's
	// message from one of them waits for it, to keep each sender's order.
	from map[string]bool
}

// lastStraggler returns the newest straggler still recording (nil if
// none).
func (r *Receiver) newestStraggler() *straggler {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastStraggler
}

// process is Process; with detach a batch with slow messages leaves them
// to a straggler (RunOnce), which calls progress after recording.
func (r *Receiver) process(ctx context.Context, detach bool, progress func()) (int, error) {
	msgs, err := r.cfg.Store.ClaimMessages(ctx, ClaimParams{Owner: r.cfg.Owner, Now: r.cfg.Now(), Lease: r.cfg.Lease, Limit: r.cfg.Batch})
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	b := r.decideAll(ctx, msgs)
	if !detach || !r.stragglerSlot() {
		b.wait(nil)
		if prev := r.newestStraggler(); prev != nil {
			<-prev.done // keep order behind a straggler still recording
		}
		return r.finish(ctx, b.items)
	}
	timer := time.NewTimer(slowAfter)
	defer timer.Stop()
	all := b.wait(timer.C)
	prev := r.newestStraggler()
	if all && prev == nil {
		r.releaseStragglerSlot()
		return r.finish(ctx, b.items) // the usual case: one transaction
	}
	pending := make([]int, len(b.items))
	for i := range pending {
		pending[i] = i
	}
	var blocked map[string]bool
	if prev != nil {
		blocked = prev.from
	}
	now, rest := b.eligible(pending, blocked, prev == nil)
	var st *straggler
	if len(rest) > 0 {
		// Registered before recording, so the next batch sees it.
		st = r.startStraggler(b, rest, prev)
	} else {
		r.releaseStragglerSlot()
	}
	n, err := r.finish(ctx, now)
	if st != nil {
		r.straggle(ctx, st, b, rest, prev, progress)
	}
	return n, err
}

// stragglerSlot takes one of the GOMAXPROCS straggler slots, or reports
// there is none free.
func (r *Receiver) stragglerSlot() bool {
	select {
	case r.stragglerSlots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (r *Receiver) releaseStragglerSlot() { <-r.stragglerSlots }

// startStraggler registers the straggler for b's positions pending,
// behind prev (nil if none).
func (r *Receiver) startStraggler(b *batch, pending []int, prev *straggler) *straggler {
	st := &straggler{done: make(chan struct{}), from: map[string]bool{}}
	if prev != nil {
		maps.Copy(st.from, prev.from)
	}
	for _, i := range pending {
		st.from[strings.ToUpper(b.msgs[i].From)] = true
	}
	r.mu.Lock()
	r.lastStraggler = st
	r.mu.Unlock()
	return st
}

// straggle records the items of b at positions pending, each as soon as it
// is decided and may go (see eligible), in a goroutine RunOnce waits for;
// prev is the straggler before (nil if none). It holds a straggler slot
// until done.
func (r *Receiver) straggle(ctx context.Context, st *straggler, b *batch, pending []int, prev *straggler, progress func()) {
	r.stragglers.Go(func() {
		defer func() {
			r.mu.Lock()
			if r.lastStraggler == st {
				r.lastStraggler = nil
			}
			r.mu.Unlock()
			close(st.done)
			r.releaseStragglerSlot()
		}()
		prevDone := prev == nil
		for len(pending) > 0 {
			switch {
			case b.left > 0:
				b.take(<-b.done)
			case !prevDone:
				<-prev.done // only messages waiting for the straggler before remain
			}
			if !prevDone {
				select {
				case <-prev.done:
					prevDone = true
				default:
				}
			}
			var blocked map[string]bool
			if !prevDone {
				blocked = prev.from
			}
			var now []*item
			now, pending = b.eligible(pending, blocked, prevDone)
			if len(now) == 0 {
				continue
			}
			n, err := r.finish(ctx, now)
			if err != nil && ctx.Err() == nil {
				r.log.Warn("recording slow messages failed; they will be retried", "err", err)
			}
			if n > 0 && progress != nil {
				progress()
			}
		}
		b.all.Wait()
	})
}
