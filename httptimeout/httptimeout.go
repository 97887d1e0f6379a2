package httptimeout

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Defaults applied to zero fields of Limits.
const (
	DefaultReadHeader = 30 * time.Second
	DefaultRead       = time.Minute
	DefaultWrite      = time.Minute
	DefaultIdle       = 2 * time.Minute
	// DefaultMinRate is 32 KiB/s (256 kbit/s): a 100 MB chunk may take
	// up to about 51 minutes.
	DefaultMinRate = 32 << 10
)

// step is how far the computed deadline must move before it is set again
// (setting a deadline resets a runtime timer; once a second is enough).
const step = time.Second

// Limits are the timeouts of one HTTP server. The zero value means the
// defaults.
type Limits struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration
	// Read is how long a request may take to arrive beyond the time its
	// body takes at MinRate.
	Read time.Duration
	// Write is how long a response may take beyond the time the request
	// and response bodies take at MinRate.
	Write time.Duration
	// Idle is how long a kept-alive connection may wait for its next request.
	Idle time.Duration
	// MinRate is the slowest average transfer, in bytes per second, that
	// earns a request more time.
	MinRate int64
}

// WithDefaults returns l with zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	if l.ReadHeader == 0 {
		l.ReadHeader = DefaultReadHeader
	}
	if l.Read == 0 {
		l.Read = DefaultRead
	}
	if l.Write == 0 {
		l.Write = DefaultWrite
	}
	if l.Idle == 0 {
		l.Idle = DefaultIdle
	}
	if l.MinRate == 0 {
		l.MinRate = DefaultMinRate
	}
	return l
}

// Validate says which limit is negative.
func (l Limits) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ReadHeader", l.ReadHeader}, {"Read", l.Read}, {"Write", l.Write}, {"Idle", l.Idle}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("httptimeout: Limits.%s %v cannot be negative", d.name, d.v))
		}
	}
	if l.MinRate < 0 {
		errs = append(errs, fmt.Errorf("httptimeout: Limits.MinRate %d cannot be negative", l.MinRate))
	}
	return errors.Join(errs...)
}

// Apply sets hs's header, read, write and idle timeouts from l (defaults
// for zero fields) and wraps hs.Handler (http.DefaultServeMux if nil) with
// l.Handler.
func (l Limits) Apply(hs *http.Server) {
	l = l.WithDefaults()
	hs.ReadHeaderTimeout = l.ReadHeader
	hs.ReadTimeout = l.Read
	hs.WriteTimeout = l.Write
	hs.IdleTimeout = l.Idle
	h := hs.Handler
	if h == nil {
		h = http.DefaultServeMux
	}
	hs.Handler = l.Handler(h)
}

// Handler wraps h so that each request's deadlines move forward with the
// bytes it moves (see the package comment). The server's ReadTimeout and
// WriteTimeout should be l.Read and l.Write (Apply sets them): they hold
// until the first extension.
func (l Limits) Handler(h http.Handler) http.Handler {
	l = l.WithDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		t := &transfer{ResponseWriter: w, l: l, start: now, readSet: now.Add(l.Read), writeSet: now.Add(l.Write)}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &body{ReadCloser: r.Body, t: t}
		}
		h.ServeHTTP(t, r)
	})
}

// Extend keeps the request that w answers (a ResponseWriter given by a
// Limits.Handler, possibly wrapped by writers that have an Unwrap method)
// alive at least until the given time, however few bytes it moves: for a
// stream of events, call it before each write with the time the next one
// is due plus a margin. Without a Limits.Handler it does nothing.
func Extend(w http.ResponseWriter, until time.Time) {
	for w != nil {
		if t, ok := w.(*transfer); ok {
			t.extend(until)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// transfer is the ResponseWriter of one request: it counts the bytes
// moved and moves the connection's deadlines.
type transfer struct {
	http.ResponseWriter
	l     Limits
	start time.Time

	mu    sync.Mutex
	rc    *http.ResponseController
	moved int64
	wrote bool
	floor time.Time
	// readSet and writeSet are the deadlines in force.
	readSet, writeSet time.Time
}

// add counts n bytes moved and moves the deadlines when they are due to.
func (t *transfer) add(n int, write bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.moved += int64(n)
	t.wrote = t.wrote || write
	t.update()
}

func (t *transfer) extend(until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if until.After(t.floor) {
		t.floor = until
	}
	t.update()
}

// update sets the read and write deadlines when what the request has
// earned is a step past what is in force. Once the response has begun,
// reads get the write deadline too: on HTTP/1 the server keeps reading the
// connection after the body to notice a client leaving, and a read
// deadline passing then would cancel the request.
func (t *transfer) update() {
	earned := time.Duration(float64(t.moved) / float64(t.l.MinRate) * float64(time.Second))
	read := later(t.start.Add(t.l.Read+earned), t.floor)
	write := later(t.start.Add(t.l.Write+earned), t.floor)
	if t.wrote {
		read = later(read, write)
	}
	if read.Sub(t.readSet) >= step || (!t.floor.IsZero() && read.After(t.readSet)) {
		t.controller().SetReadDeadline(read)
		t.readSet = read
	}
	if write.Sub(t.writeSet) >= step || (!t.floor.IsZero() && write.After(t.writeSet)) {
		t.controller().SetWriteDeadline(write)
		t.writeSet = write
	}
}

func (t *transfer) controller() *http.ResponseController {
	if t.rc == nil {
		t.rc = http.NewResponseController(t.ResponseWriter)
	}
	return t.rc
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (t *transfer) Write(p []byte) (int, error) {
	t.add(len(p), true)
	return t.ResponseWriter.Write(p)
}

func (t *transfer) WriteHeader(code int) {
	if code >= 200 {
		t.add(0, true)
	}
	t.ResponseWriter.WriteHeader(code)
}

// Flush lets streaming handlers flush through the wrapper.
func (t *transfer) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (t *transfer) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// body counts the request body's bytes.
type body struct {
	io.ReadCloser
	t *transfer
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.t.add(n, false)
	}
	return n, err
}
