package meshbench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

// Sender sends messages; *mesh.Client satisfies it.
type Sender interface {
	Send(ctx context.Context, req mesh.SendRequest) (mesh.SendResult, error)
}

// Receiver lists, downloads and acknowledges; *mesh.Client satisfies it.
type Receiver interface {
	InboxPage(ctx context.Context, opts mesh.InboxOptions, next string) (mesh.InboxResponse, error)
	Get(ctx context.Context, messageID string) (*mesh.Download, error)
	Ack(ctx context.Context, messageID string) error
}

// Load is one measured run: Messages bodies of Size bytes sent to To by the
// Senders concurrently, while Receiver (with Workers concurrent downloads)
// lists, downloads, checks and acknowledges them.
type Load struct {
	// Senders are the concurrent senders, one goroutine each (give each its
	// own client so each has its own connections).
	Senders []Sender
	// Receiver is the recipient mailbox's client.
	Receiver Receiver
	// Workers is the number of concurrent downloads; default 4.
	Workers int
	// To and WorkflowID address the messages.
	To, WorkflowID string
	// Messages is the total number of messages; Size the bytes of each.
	Messages int
	Size     int64
	// Seed makes bodies and local IDs distinct per run; 0 picks one from
	// the clock.
	Seed uint64
	// Poll is the wait after a listing that found nothing or some
	// messages still in flight; default 5ms.
	Poll time.Duration
	// Idle ends the run with an error when no message has been
	// acknowledged for this long; default 2 minutes.
	Idle time.Duration
	// Rate, when above zero, offers the load open-loop: message i is due
	// at start + i/Rate seconds and its latencies count from that moment,
	// so a sender held up by the server adds its waiting to them (no
	// coordinated omission). Zero: every sender sends as fast as it can.
	Rate float64
	// Warm opens the connections before the clock starts: each sender, and
	// Workers concurrent calls on the receiver, make a MESH handshake
	// (when they offer Handshake, as *mesh.Client does), so that TLS
	// set-up is not counted in the first messages' latencies.
	Warm bool
	// AllowLost ends the run without an error when every send is done and
	// nothing has been acknowledged for Idle while sent messages are still
	// missing: they are counted in Result.Lost. For comparing with a server
	// that loses messages; the rate then counts delivered messages only.
	AllowLost bool
}

// Result is what a run measured.
type Result struct {
	Messages int           // messages sent, downloaded intact and acknowledged
	Bytes    int64         // payload bytes of those
	Elapsed  time.Duration // first send to last acknowledgement
	Send     Summary       // send call (until 202 for every chunk)
	EndToEnd Summary       // send start to acknowledgement done
	// Where the end-to-end time goes on the receiving side: Inbox from the
	// 202 until a download worker starts on the message (time in the
	// inbox, listing and the local queue), Download the download and
	// check, Ack the acknowledgement.
	Inbox, Download, Ack Summary
	SendErrors           int
	// Lost counts messages accepted (202) that never arrived (AllowLost).
	Lost    int
	Foreign int // other messages in the inbox, left alone
	Retried int // listings, downloads or acks that failed and were done again
	// RetryErrors are the first few distinct errors behind Retried.
	RetryErrors []string
}

// Rate returns acknowledged messages per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Messages) / r.Elapsed.Seconds()
}

// MBps returns acknowledged payload megabytes (10^6) per second.
func (r Result) MBps() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Bytes) / 1e6 / r.Elapsed.Seconds()
}

func (l *Load) defaults() error {
	if l.Workers <= 0 {
		l.Workers = 4
	}
	if l.Poll <= 0 {
		l.Poll = 5 * time.Millisecond
	}
	if l.Idle <= 0 {
		l.Idle = 2 * time.Minute
	}
	if l.Seed == 0 {
		l.Seed = uint64(time.Now().UnixNano())
	}
	switch {
	case len(l.Senders) == 0:
		return errors.New("meshbench: no senders")
	case l.Receiver == nil:
		return errors.New("meshbench: no receiver")
	case l.To == "" || l.WorkflowID == "":
		return errors.New("meshbench: To and WorkflowID are required")
	case l.Messages <= 0:
		return fmt.Errorf("meshbench: Messages %d: want at least 1", l.Messages)
	case l.Size < 1:
		return fmt.Errorf("meshbench: Size %d: want at least 1 byte (MESH refuses empty messages)", l.Size)
	}
	return nil
}

// localID names message i of a run; ours reads it back.
func localID(seed uint64, i int) string {
	return "meshbench-" + strconv.FormatUint(seed, 36) + "-" + strconv.Itoa(i)
}

func parseLocalID(seed uint64, s string) (int, bool) {
	rest, ok := strings.CutPrefix(s, "meshbench-"+strconv.FormatUint(seed, 36)+"-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	return i, err == nil && i >= 0
}

// run is the shared state of one Run.
type run struct {
	l       Load
	pay     *Payloads
	started []atomic.Int64 // unix nanos of each send start; 0 = not sent
	sentAt  []atomic.Int64 // unix nanos of each send's 202
	sentOK  []atomic.Bool
	acked   []atomic.Bool

	mu       sync.Mutex
	seen     map[string]bool // dispatched (or foreign) message IDs
	nAcked   int
	nSentOK  int
	sendDone bool
	finished chan struct{} // closed when every sent message is acknowledged
	fatal    error
	lastAck  time.Time
	foreign  int
	retried  int
	errs     []string
	bytes    int64
}

// Run performs the load and returns its measurements. It returns an error
// (with the partial Result) when a payload comes back different, when
// messages stop arriving for Load.Idle, or when ctx ends.
func Run(ctx context.Context, l Load) (Result, error) {
	if err := l.defaults(); err != nil {
		return Result{}, err
	}
	r := &run{
		l: l, pay: NewPayloads(l.Seed),
		started: make([]atomic.Int64, l.Messages), sentAt: make([]atomic.Int64, l.Messages), sentOK: make([]atomic.Bool, l.Messages), acked: make([]atomic.Bool, l.Messages),
		seen: map[string]bool{}, finished: make(chan struct{}), lastAck: time.Now(),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if l.Warm {
		warm(ctx, l)
	}

	start := time.Now()
	var wg sync.WaitGroup
	sendLat := make([]Latencies, len(l.Senders))
	var next atomic.Int64
	var sendErrs atomic.Int64
	var firstSendErr atomic.Value
	for w, s := range l.Senders {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= l.Messages {
					return
				}
				t0 := time.Now()
				if l.Rate > 0 {
					due := start.Add(time.Duration(float64(i) / l.Rate * float64(time.Second)))
					if wait := due.Sub(t0); wait > 0 {
						sleep(ctx, wait)
					}
					t0 = due
				}
				r.started[i].Store(t0.UnixNano())
				_, err := s.Send(ctx, mesh.SendRequest{
					To: l.To, WorkflowID: l.WorkflowID, LocalID: localID(l.Seed, i),
					Filename: "meshbench.bin", Body: r.pay.Reader(uint32(i), l.Size), Size: l.Size,
				})
				if err != nil {
					if ctx.Err() == nil {
						sendErrs.Add(1)
						firstSendErr.CompareAndSwap(nil, err)
					}
					continue
				}
				done := time.Now()
				sendLat[w].Record(done.Sub(t0))
				r.sentAt[i].Store(done.UnixNano())
				r.sentOK[i].Store(true)
				r.mu.Lock()
				r.nSentOK++
				r.mu.Unlock()
			}
		})
	}
	e2e := make([]stageLatencies, l.Workers)
	recvErr := make(chan error, 1)
	var rwg sync.WaitGroup
	rwg.Go(func() { recvErr <- r.receive(ctx, e2e) })

	wg.Wait()
	r.mu.Lock()
	r.sendDone = true
	r.checkFinished()
	r.mu.Unlock()
	if n := sendErrs.Load(); n > 0 && n == int64(l.Messages) {
		cancel()
	}
	rwg.Wait()
	err := <-recvErr

	var res Result
	var sl, el Latencies
	for i := range sendLat {
		sl.Merge(&sendLat[i])
	}
	var inbox, down, ack Latencies
	for i := range e2e {
		el.Merge(&e2e[i].e2e)
		inbox.Merge(&e2e[i].inbox)
		down.Merge(&e2e[i].download)
		ack.Merge(&e2e[i].ack)
	}
	r.mu.Lock()
	res.Messages, res.Bytes, res.Foreign, res.Retried = r.nAcked, r.bytes, r.foreign, r.retried
	if l.AllowLost {
		// Counted after the download workers finished: a message listed
		// before the receive loop gave up is delivered, not lost.
		res.Lost = r.nSentOK - r.nAcked
	}
	res.RetryErrors = slices.Clone(r.errs)
	end := r.lastAck
	r.mu.Unlock()
	res.Elapsed = end.Sub(start)
	res.Send, res.EndToEnd = sl.Summary(), el.Summary()
	res.Inbox, res.Download, res.Ack = inbox.Summary(), down.Summary(), ack.Summary()
	res.SendErrors = int(sendErrs.Load())
	if err == nil && res.SendErrors > 0 {
		err = fmt.Errorf("meshbench: %d of %d sends failed; first: %v", res.SendErrors, l.Messages, firstSendErr.Load())
	}
	return res, err
}

// checkFinished closes r.finished when all sends are done and every sent
// message is acknowledged. Call with r.mu held.
func (r *run) checkFinished() {
	if r.sendDone && r.nAcked >= r.nSentOK {
		select {
		case <-r.finished:
		default:
			close(r.finished)
		}
	}
}

// noteRetry counts a retried operation and keeps its error if new. Call
// with r.mu held.
func (r *run) noteRetry(err error) {
	r.retried++
	msg := err.Error()
	if len(r.errs) < 5 && !slices.Contains(r.errs, msg) {
		r.errs = append(r.errs, msg)
	}
}

func (r *run) fail(err error) {
	r.mu.Lock()
	if r.fatal == nil {
		r.fatal = err
	}
	r.mu.Unlock()
}

// stageLatencies are one download worker's samples.
type stageLatencies struct {
	e2e, inbox, download, ack Latencies
}

// receive lists the inbox and feeds message IDs to download workers until
// every sent message is acknowledged.
func (r *run) receive(ctx context.Context, lat []stageLatencies) error {
	queue := make(chan string, 4*r.l.Workers)
	var wg sync.WaitGroup
	for w := range r.l.Workers {
		wg.Go(func() {
			for id := range queue {
				r.handle(ctx, id, &lat[w])
			}
		})
	}
	defer wg.Wait()
	defer close(queue)

	next := ""
	for {
		r.mu.Lock()
		fatal, idle := r.fatal, time.Since(r.lastAck)
		sendDone, missing := r.sendDone, r.nSentOK-r.nAcked
		r.mu.Unlock()
		select {
		case <-r.finished:
			return nil
		default:
		}
		if fatal != nil {
			return fatal
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("meshbench: stopped with %d messages not acknowledged: %w", missing, err)
		}
		if sendDone && idle > r.l.Idle && r.l.AllowLost {
			return nil // the missing ones are counted once the workers are done
		}
		if sendDone && idle > r.l.Idle {
			return fmt.Errorf("meshbench: %d sent messages never arrived (nothing acknowledged for %v)", missing, r.l.Idle)
		}
		page, err := r.l.Receiver.InboxPage(ctx, mesh.InboxOptions{MaxResults: mesh.DefaultInboxPage}, next)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			r.mu.Lock()
			r.noteRetry(err)
			r.mu.Unlock()
			next = ""
			sleep(ctx, 20*r.l.Poll)
			continue
		}
		fresh := 0
		for _, id := range page.Messages {
			r.mu.Lock()
			dup := r.seen[id]
			r.seen[id] = true
			r.mu.Unlock()
			if dup {
				continue
			}
			fresh++
			select {
			case queue <- id:
			case <-ctx.Done():
			case <-r.finished:
			}
		}
		switch {
		case fresh == 0 && page.Links.Next != "":
			next = page.Links.Next
		case fresh == 0:
			next = ""
			select {
			case <-r.finished:
			case <-ctx.Done():
			case <-time.After(r.l.Poll):
			}
		case fresh < len(page.Messages):
			// The inbox holds messages in flight: poll rather than list
			// again at once (a listing costs the server more than a
			// download).
			next = ""
			select {
			case <-r.finished:
			case <-ctx.Done():
			case <-time.After(r.l.Poll):
			}
		default:
			next = ""
		}
	}
}

// handle downloads, checks and acknowledges one message.
func (r *run) handle(ctx context.Context, id string, lat *stageLatencies) {
	retry := func(err error) {
		r.mu.Lock()
		r.noteRetry(err)
		delete(r.seen, id) // list it again
		r.mu.Unlock()
	}
	t0 := time.Now()
	d, err := r.l.Receiver.Get(ctx, id)
	if errors.Is(err, mesh.ErrNotFound) || errors.Is(err, mesh.ErrGone) {
		return // acknowledged already (listed twice)
	}
	if err != nil {
		if ctx.Err() == nil {
			retry(err)
		}
		return
	}
	defer d.Close()
	i, ours := parseLocalID(r.l.Seed, d.Message.LocalID)
	if !ours || i >= r.l.Messages {
		r.mu.Lock()
		r.foreign++
		r.mu.Unlock()
		return
	}
	if err := r.pay.Check(d, uint32(i), r.l.Size); err != nil {
		if errors.Is(err, ErrMismatch) {
			r.fail(fmt.Errorf("meshbench: message %s (local ID %s): %w", id, d.Message.LocalID, err))
			return
		}
		if ctx.Err() == nil {
			retry(err)
		}
		return
	}
	t1 := time.Now()
	// An acknowledgement that failed may still have happened: repeat it
	// rather than list the message again (it may never be listed again);
	// 404 or 410 on a repeat means the earlier one succeeded.
	var ackErr error
	for attempt := range 3 {
		ackErr = r.l.Receiver.Ack(ctx, id)
		if ackErr == nil || errors.Is(ackErr, mesh.ErrNotFound) || errors.Is(ackErr, mesh.ErrGone) {
			ackErr = nil
			break
		}
		if ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		r.noteRetry(ackErr)
		r.mu.Unlock()
		sleep(ctx, (50*time.Millisecond)<<attempt)
	}
	if ackErr != nil {
		retry(ackErr)
		return
	}
	now := time.Now()
	if r.acked[i].Swap(true) {
		return // a second copy of the same local ID
	}
	if s0 := r.started[i].Load(); s0 != 0 {
		lat.e2e.Record(now.Sub(time.Unix(0, s0)))
	}
	if s1 := r.sentAt[i].Load(); s1 != 0 {
		// A message can be listed before its sender has read the 202.
		lat.inbox.Record(max(t0.Sub(time.Unix(0, s1)), 0))
	}
	lat.download.Record(t1.Sub(t0))
	lat.ack.Record(now.Sub(t1))
	r.mu.Lock()
	r.nAcked++
	r.bytes += r.l.Size
	r.lastAck = now
	r.checkFinished()
	r.mu.Unlock()
}

// handshaker is what Warm calls; *mesh.Client satisfies it.
type handshaker interface {
	Handshake(ctx context.Context) error
}

// warm makes one handshake per sender and Workers concurrent handshakes on
// the receiver, each on a connection of its own. It only opens
// connections: a refused handshake (a mailbox the server does not know) is
// left for the run itself to report.
func warm(ctx context.Context, l Load) {
	var calls []handshaker
	for _, s := range l.Senders {
		if h, ok := s.(handshaker); ok {
			calls = append(calls, h)
		}
	}
	if h, ok := l.Receiver.(handshaker); ok {
		for range l.Workers {
			calls = append(calls, h)
		}
	}
	var wg sync.WaitGroup
	for _, h := range calls {
		wg.Go(func() { _ = h.Handshake(ctx) })
	}
	wg.Wait()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
