package httptimeout_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/httptimeout"
)

// limits are short so that the tests run quickly; transfers below move at
// about 8 times MinRate.
var limits = httptimeout.Limits{Read: 300 * time.Millisecond, Write: 300 * time.Millisecond, MinRate: 64 << 10}

// protocols runs f over HTTP/1.1 and HTTP/2 (both TLS, as gpcm mesh-server).
var protocols = []struct {
	name string
	h2   bool
}{{"HTTP/1.1", false}, {"HTTP/2", true}}

// start serves h with lim applied (or only lim's server timeouts when
// wrap is false) and returns the server.
func start(t *testing.T, h http.Handler, h2, wrap bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/warm" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	}))
	srv.EnableHTTP2 = h2
	if wrap {
		limits.Apply(srv.Config)
	} else {
		l := limits.WithDefaults()
		srv.Config.ReadTimeout, srv.Config.WriteTimeout = l.Read, l.Write
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	warm(t, srv)
	return srv
}

// warm opens the client's connection with a request of its own, so that
// the TLS handshake, which the short limits also bound and which a busy
// machine can slow beyond them, is not part of the request a test times.
// A handshake cut by the limits is retried.
func warm(t *testing.T, srv *httptest.Server) {
	t.Helper()
	var err error
	for range 10 {
		var res *http.Response
		if res, err = srv.Client().Get(srv.URL + "/warm"); err == nil {
			res.Body.Close()
			return
		}
	}
	t.Fatalf("warm-up request: %v", err)
}

// paced yields n bytes in pieces of at most size every interval; it stops
// when ctx ends.
type paced struct {
	ctx      context.Context
	n, size  int
	interval time.Duration
}

func (p *paced) Read(b []byte) (int, error) {
	if p.n == 0 {
		return 0, io.EOF
	}
	select {
	case <-p.ctx.Done():
		return 0, p.ctx.Err()
	case <-time.After(p.interval):
	}
	b = b[:min(len(b), p.size, p.n)]
	for i := range b {
		b[i] = 'x'
	}
	p.n -= len(b)
	return len(b), nil
}

type readResult struct {
	n   int64
	err error
	dur time.Duration
}

// A body trickling in far below MinRate is cut about Limits.Read after the
// request began, long before it would have finished (200 bytes at one
// every 50 ms would take 10 s).
func TestSlowBodyCutOff(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			got := make(chan readResult, 1)
			srv := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				began := time.Now()
				n, err := io.Copy(io.Discard, r.Body)
				got <- readResult{n, err, time.Since(began)}
			}), p.h2, true)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			const total = 200
			req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL, &paced{ctx: ctx, n: total, size: 1, interval: 50 * time.Millisecond})
			req.ContentLength = total
			done := make(chan error, 1)
			go func() {
				res, err := srv.Client().Do(req)
				if err == nil {
					res.Body.Close()
				}
				done <- err
			}()
			var res readResult
			select {
			case res = <-got:
			case err := <-done:
				t.Fatalf("request ended (%v) before the handler saw its body end", err)
			}
			cancel()
			<-done
			if res.err == nil || res.n >= total {
				t.Fatalf("slow body: handler read %d of %d bytes, err %v; want it cut short", res.n, total, res.err)
			}
			t.Logf("slow body cut after %v (%d bytes): %v", res.dur.Round(time.Millisecond), res.n, res.err)
		})
	}
}

// An upload and a download that take several times Limits.Read and
// Limits.Write but move faster than MinRate complete; with only the
// server's fixed timeouts the same transfers are cut.
func TestLargeTransfer(t *testing.T) {
	const size = 256 << 10 // at 512 KiB/s: 0.5 s or more, beyond Read and Write
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.Method == "POST" {
			n, err := io.Copy(io.Discard, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusRequestTimeout)
				return
			}
			fmt.Fprint(w, n)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		// Written at the pace the client sends above (a store that is
		// slow to read from), flushed so that each piece meets the
		// connection's write deadline.
		piece := []byte(strings.Repeat("y", 16<<10))
		for range size / len(piece) {
			time.Sleep(31 * time.Millisecond)
			if _, err := w.Write(piece); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	})
	for _, p := range protocols {
		for _, wrap := range []bool{true, false} {
			name := p.name + " with Handler"
			if !wrap {
				name = p.name + " server timeouts only"
			}
			t.Run(name, func(t *testing.T) {
				srv := start(t, handler, p.h2, wrap)
				ctx := t.Context()
				req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL, &paced{ctx: ctx, n: size, size: 16 << 10, interval: 31 * time.Millisecond})
				req.ContentLength = size
				upload := "0"
				res, err := srv.Client().Do(req)
				if err == nil {
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					upload = string(b)
				}
				req, _ = http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
				var download int64
				if res, err := srv.Client().Do(req); err == nil {
					download, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				if got := upload == strconv.Itoa(size); got != wrap {
					t.Errorf("upload: server got %s of %d bytes; want complete %v", upload, size, wrap)
				}
				if got := download == size; got != wrap {
					t.Errorf("download: got %d of %d bytes; want complete %v", download, size, wrap)
				}
			})
		}
	}
}

// A stream of small events lives as long as each write is preceded by
// Extend; without it the stream is cut after Limits.Write.
func TestExtend(t *testing.T) {
	const events = 8
	for _, p := range protocols {
		for _, extend := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s extend %v", p.name, extend), func(t *testing.T) {
				srv := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					rc := http.NewResponseController(w)
					w.Header().Set("Content-Type", "text/event-stream")
					for i := range events {
						if extend {
							httptimeout.Extend(w, time.Now().Add(400*time.Millisecond))
						}
						if _, err := fmt.Fprintf(w, "data: %d\n\n", i); err != nil {
							return
						}
						if err := rc.Flush(); err != nil {
							return
						}
						select {
						case <-r.Context().Done():
							return
						case <-time.After(100 * time.Millisecond):
						}
					}
				}), p.h2, true)
				res, err := srv.Client().Get(srv.URL)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				n := 0
				sc := bufio.NewScanner(res.Body)
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "data: ") {
						n++
					}
				}
				if (n == events) != extend {
					t.Fatalf("got %d of %d events (read error %v), want all %v", n, events, sc.Err(), extend)
				}
			})
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		l    httptimeout.Limits
		want string
	}{
		{"zero means defaults", httptimeout.Limits{}, ""},
		{"negative read", httptimeout.Limits{Read: -time.Second}, "Limits.Read -1s cannot be negative"},
		{"negative rate", httptimeout.Limits{MinRate: -1}, "Limits.MinRate -1 cannot be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.l.Validate()
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate: got %v, want %q", err, tt.want)
			}
		})
	}
	if d := (httptimeout.Limits{}).WithDefaults(); d.Read != httptimeout.DefaultRead || d.MinRate != httptimeout.DefaultMinRate {
		t.Fatalf("WithDefaults: got %+v", d)
	}
}
