package receiver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/gpcm/gpcm/blob"
)

// Config configures a Receiver.
type Config struct {
	Store Store
	Blobs blob.Store
	Mesh  Mesh
	// ODSCode is the practice's ODS code, the responder in acknowledgements.
	ODSCode string
	Logger  *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// PollInterval is the wait between inbox polls; default 30s.
	PollInterval time.Duration
	// HoldFor is how long a document whose demographics differ from the
	// register waits for a person before it is answered 30002; default 72h.
	HoldFor time.Duration
	// Lease is how long a claim on a message or ack lasts before another
	// worker may take it over; default 2m.
	Lease time.Duration
	// Batch is how many rows one claim takes; default 20.
	Batch int
	// Workers is how many downloads, MESH acknowledgements and ack sends
	// one process runs at once; default 8. More at once let the MESH server
	// commit more requests together (BenchmarkReceiver: 16 used 3.5-3.7 ms
	// of CPU per message where 4 used 4.3-4.9).
	// Messages are decided on up to GOMAXPROCS cores, and their outcomes
	// recorded in arrival order.
	Workers int
	// InlineMax is the largest message whose payload the Store keeps
	// itself, written in the same transaction as its metadata (no file or
	// object per message); larger ones go to Blobs. Default 64 KiB (above
	// that a file costs less CPU than a database row, which is written
	// twice: WAL, then checkpoint); negative sends every payload to Blobs.
	InlineMax int64
	// PageSize is the inbox page size (10..5000); default 500.
	PageSize int
	// MaxMessageBytes is the largest message accepted (ITK3 20015 beyond);
	// default 100 MiB.
	MaxMessageBytes int64
	// AllowTestNHSNumbers accepts NHS numbers failing the check digit (the
	// official examples carry such numbers).
	AllowTestNHSNumbers bool
	// ProcessBudget is the time one message may take to be read,
	// validated and extracted; default 1 minute. A message over it is
	// given back and tried once more after a backoff (the machine may
	// just have been busy); over it again, it is answered 10009, naming
	// its MessageHeader.id when a lenient scan finds it. Keep it shorter
	// than Lease, or another worker may take a slow message over (the
	// first to record its outcome wins).
	ProcessBudget time.Duration
	// AttachmentTypes lists the attachment media types the practice
	// accepts (type/subtype, or type/* for a whole family); default
	// DefaultAttachmentTypes. An attachment of another type is answered
	// 20005, one that is an executable, script or HTML (by its declared
	// type or its first bytes) 20004, unless named here exactly.
	AttachmentTypes []string
	// AcceptUsable accepts a message whose only errors are payload findings
	// (20009) when the document can still be shown (patient and attachment
	// readable); the findings are kept with the document. Off by default:
	// GPCM-SD-041 says an invalid message is rejected.
	AcceptUsable bool
	// UpdateRecord is the practice's setting for GP Connect Update Record
	// (workflow GPCONNECT_UPDATE_RECORD): UpdateRecordReview (the default)
	// puts each update in the worklist for a person to review and file,
	// UpdateRecordAutoFile files one for a registered patient at once, and
	// UpdateRecordOff answers every update 20010 (the practice does not
	// take Update Record; the pharmacy sends it another way).
	UpdateRecord UpdateRecordMode
	// Owner names this process in claims; default host-pid-random.
	Owner string
	// WatchStore, when positive, is how often a started receiver looks
	// for document changes other processes committed (one indexed read of
	// the newest history event) and tells its subscribers; 0 leaves
	// Subscribe to this process's own changes.
	WatchStore time.Duration
}

func (c *Config) withDefaults() error {
	var missing []string
	if c.Store == nil {
		missing = append(missing, "Store")
	}
	if c.Blobs == nil {
		missing = append(missing, "Blobs")
	}
	if c.Mesh == nil {
		missing = append(missing, "Mesh")
	}
	if len(missing) > 0 {
		return fmt.Errorf("receiver: config: %v must be set", missing)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 30 * time.Second
	}
	if c.HoldFor <= 0 {
		c.HoldFor = 72 * time.Hour
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.ProcessBudget <= 0 {
		c.ProcessBudget = time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = 20
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.InlineMax == 0 {
		c.InlineMax = 64 << 10
	}
	if c.PageSize == 0 {
		c.PageSize = 500
	}
	if c.PageSize < 10 || c.PageSize > 5000 {
		return fmt.Errorf("receiver: config: PageSize %d must be between 10 and 5000", c.PageSize)
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 100 << 20
	}
	if c.UpdateRecord == "" {
		c.UpdateRecord = UpdateRecordReview
	}
	if _, err := ParseUpdateRecordMode(string(c.UpdateRecord)); err != nil {
		return fmt.Errorf("receiver: config: %w", err)
	}
	if c.AttachmentTypes == nil {
		c.AttachmentTypes = DefaultAttachmentTypes()
	}
	if c.Owner == "" {
		host, _ := os.Hostname()
		var r [4]byte
		_, _ = rand.Read(r[:])
		c.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(r[:]))
	}
	return nil
}

// Receiver is the Generic FHIR Receiver pipeline for one practice mailbox.
type Receiver struct {
	cfg         Config
	log         *slog.Logger
	metrics     *Metrics
	attachments *attachmentPolicy
	caps        []capability // by workflow (capability.go)

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	kick    chan struct{}
	started bool

	// Slow messages finishing behind a batch (schedule.go): RunOnce waits
	// for them; lastStraggler (under mu) is the newest still recording.
	stragglers     sync.WaitGroup
	stragglerSlots chan struct{}
	lastStraggler  *straggler

	changes changeHub
}

// New checks cfg and returns a Receiver; it starts nothing.
func New(cfg Config) (*Receiver, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	ap, err := newAttachmentPolicy(cfg.AttachmentTypes)
	if err != nil {
		return nil, err
	}
	// Payloads are read through the Store first: small ones live there.
	cfg.Blobs = payloads{Store: cfg.Blobs, msgs: cfg.Store}
	r := &Receiver{cfg: cfg, log: cfg.Logger.WithGroup("receiver"), metrics: newMetrics(), attachments: ap, kick: make(chan struct{}, 1),
		stragglerSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	r.caps = []capability{sendDocument{r}, updateRecord{r}}
	return r, nil
}

// Metrics returns the receiver's counters.
func (r *Receiver) Metrics() *Metrics { return r.metrics }

// Start runs the pipeline in one goroutine until Stop or ctx ends. Starting
// twice is an error.
func (r *Receiver) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("receiver: already started")
	}
	ctx, cancel := context.WithCancel(ctx)
	r.cancel, r.done, r.started = cancel, make(chan struct{}), true
	loopDone := make(chan struct{})
	go r.loop(ctx, loopDone)
	go func() {
		if r.cfg.WatchStore > 0 {
			r.watchStore(ctx, r.cfg.WatchStore)
		}
		<-loopDone
		close(r.done)
	}()
	return nil
}

// Stop ends the pipeline and waits for it. It is safe to call more than
// once, or without Start.
func (r *Receiver) Stop() {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// Kick asks the running pipeline to poll now.
func (r *Receiver) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *Receiver) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.kick:
		}
		if err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("pipeline round failed; will retry", "err", err)
		}
		t.Reset(r.cfg.PollInterval)
	}
}

// RunOnce does one full round: collect every waiting message, process
// everything claimable, answer expired holds and send the outbox. The three
// stages overlap: processing starts as soon as the first messages are
// stored and sending as soon as the first outcomes are recorded, each stage
// in its own goroutine that RunOnce waits for. A stage that fails stops
// for this round without stopping the others; the errors are joined.
func (r *Receiver) RunOnce(ctx context.Context) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	fail := func(err error) {
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	}
	stored, recorded := make(chan struct{}, 1), make(chan struct{}, 1)
	collected, processed := make(chan struct{}), make(chan struct{})
	wg.Add(3)
	go func() {
		defer wg.Done()
		defer close(collected)
		_, err := r.collect(ctx, func() { signal(stored) })
		fail(err)
	}()
	go func() {
		defer wg.Done()
		defer close(processed)
		progress := func() { signal(recorded) }
		step := func(ctx context.Context) (int, error) { return r.process(ctx, true, progress) }
		fail(drain(ctx, step, stored, collected, progress))
		r.stragglers.Wait() // slow messages of this round are recorded
		_, err := r.ExpireHolds(ctx)
		fail(err)
	}()
	go func() {
		defer wg.Done()
		fail(drain(ctx, r.SendAcks, recorded, processed, nil))
	}()
	wg.Wait()
	return errors.Join(errs...)
}

// signal wakes whoever waits on c without blocking.
func signal(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// drain runs step until it finds nothing to do after the stage feeding it
// finished (done closed); while that stage runs, an idle step waits for
// its signal (more). progress, if set, is called after a step did work.
func drain(ctx context.Context, step func(context.Context) (int, error), more <-chan struct{}, done <-chan struct{}, progress func()) error {
	for {
		finished := false
		select {
		case <-done:
			finished = true // nothing new can arrive after this step
		default:
		}
		n, err := step(ctx)
		if n > 0 && progress != nil {
			progress()
		}
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		if finished {
			return nil
		}
		select {
		case <-more:
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// readAllLimit reads r up to max bytes; tooBig reports more. size, when
// known (> 0), is how long r is: the buffer is made that size at once
// instead of doubling its way there (a 100 MiB message would otherwise
// allocate about 2.4 times itself).
func readAllLimit(rd io.Reader, max, size int64) (b []byte, tooBig bool, err error) {
	lr := io.LimitReader(rd, max+1)
	if size > 0 && size <= max {
		var buf bytes.Buffer
		buf.Grow(int(size) + 1) // +1: the read that finds the end
		_, err = buf.ReadFrom(lr)
		b = buf.Bytes()
	} else {
		b, err = io.ReadAll(lr)
	}
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > max {
		return b[:max], true, nil
	}
	return b, false, nil
}

// forEach runs fn on every item with at most workers at once and joins
// the errors. It returns when all calls have returned.
func forEach[T any](workers int, items []T, fn func(T) error) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, max(workers, 1))
	for _, it := range items {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(it); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
