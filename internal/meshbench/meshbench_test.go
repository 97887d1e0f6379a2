package meshbench_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/internal/meshbench"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshtest"
)

func client(t *testing.T, srv *meshtest.Server, mailbox string) *mesh.Client {
	t.Helper()
	c, err := mesh.NewClient(mesh.Config{URL: srv.URL, Mailbox: mailbox, Password: "password", SharedKey: srv.SharedKey,
		TLS: mesh.TLSConfig{RootCAs: srv.CertPool()}, ChunkSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRun(t *testing.T) {
	srv := meshtest.NewServer(t, meshtest.Options{})
	var senders []meshbench.Sender
	for range 3 {
		senders = append(senders, client(t, srv, "X26ABC1"))
	}
	res, err := meshbench.Run(t.Context(), meshbench.Load{
		Senders: senders, Receiver: client(t, srv, "X26ABC2"), Workers: 2, Warm: true,
		To: "X26ABC2", WorkflowID: "GPFED_CONSULT_REPORT", Messages: 60, Size: 70_000, Seed: 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 60 || res.Bytes != 60*70_000 || res.SendErrors != 0 {
		t.Errorf("got %d messages, %d bytes, %d send errors; want 60, %d, 0", res.Messages, res.Bytes, res.SendErrors, 60*70_000)
	}
	if res.EndToEnd.Count != 60 || res.Send.Count != 60 || res.EndToEnd.P99 < res.EndToEnd.P50 || res.Rate() <= 0 {
		t.Errorf("summaries: send %+v e2e %+v rate %v", res.Send, res.EndToEnd, res.Rate())
	}
	if res.Inbox.Count != 60 || res.Download.Count != 60 || res.Ack.Count != 60 {
		t.Errorf("receiving-side summaries: inbox %+v download %+v ack %+v", res.Inbox, res.Download, res.Ack)
	}
	// A second run on the same inbox with a foreign message left in it.
	if _, err := client(t, srv, "X26ABC1").Send(t.Context(), mesh.SendRequest{To: "X26ABC2", WorkflowID: "W", LocalID: "other", Body: bytes.NewReader([]byte("x")), Size: 1}); err != nil {
		t.Fatal(err)
	}
	res, err = meshbench.Run(t.Context(), meshbench.Load{
		Senders: senders[:1], Receiver: client(t, srv, "X26ABC2"),
		To: "X26ABC2", WorkflowID: "GPFED_CONSULT_REPORT", Messages: 10, Size: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 10 || res.Foreign != 1 {
		t.Errorf("got %d messages, %d foreign; want 10, 1", res.Messages, res.Foreign)
	}
}

func TestRunLarge(t *testing.T) {
	srv := meshtest.NewServer(t, meshtest.Options{})
	res, err := meshbench.RunLarge(t.Context(), meshbench.Large{
		Sender: client(t, srv, "X26ABC1"), Receiver: client(t, srv, "X26ABC2"),
		To: "X26ABC2", WorkflowID: "GPFED_CONSULT_REPORT", Size: 1<<20 + 12345,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Chunks != 5 || res.Bytes != 1<<20+12345 {
		t.Errorf("got %d chunks %d bytes, want 5 chunks", res.Chunks, res.Bytes)
	}
}

func TestRunErrors(t *testing.T) {
	srv := meshtest.NewServer(t, meshtest.Options{})
	tests := []struct {
		name string
		load meshbench.Load
	}{
		{"no senders", meshbench.Load{Receiver: client(t, srv, "X26ABC2"), To: "X", WorkflowID: "W", Messages: 1}},
		{"no messages", meshbench.Load{Senders: []meshbench.Sender{client(t, srv, "X26ABC1")}, Receiver: client(t, srv, "X26ABC2"), To: "X", WorkflowID: "W"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := meshbench.Run(t.Context(), tt.load); err == nil {
				t.Error("got nil error")
			}
		})
	}
	// Unknown recipient: every send fails and the run says so.
	_, err := meshbench.Run(t.Context(), meshbench.Load{Senders: []meshbench.Sender{client(t, srv, "X26ABC1")},
		Receiver: client(t, srv, "X26ABC2"), To: "NOSUCHBOX", WorkflowID: "W", Messages: 3, Size: 10})
	if err == nil {
		t.Error("unknown recipient: got nil error")
	}
}

func TestPayloads(t *testing.T) {
	p := meshbench.NewPayloads(42)
	for _, size := range []int64{0, 1, 15, 16, 17, 65535, 65536, 65537, 300_000} {
		b, err := io.ReadAll(p.Reader(3, size))
		if err != nil || int64(len(b)) != size {
			t.Fatalf("size %d: read %d bytes, %v", size, len(b), err)
		}
		if err := p.Check(bytes.NewReader(b), 3, size); err != nil {
			t.Errorf("size %d: own body: %v", size, err)
		}
		if size > 0 {
			if err := p.Check(bytes.NewReader(b), 4, size); size >= 12 && !errors.Is(err, meshbench.ErrMismatch) {
				t.Errorf("size %d: other message's body: got %v, want ErrMismatch", size, err)
			}
			c := bytes.Clone(b)
			c[len(c)-1] ^= 1
			if err := p.Check(bytes.NewReader(c), 3, size); !errors.Is(err, meshbench.ErrMismatch) {
				t.Errorf("size %d: flipped last byte: got %v, want ErrMismatch", size, err)
			}
			if err := p.Check(bytes.NewReader(b[:len(b)-1]), 3, size); !errors.Is(err, meshbench.ErrMismatch) {
				t.Errorf("size %d: short: got %v, want ErrMismatch", size, err)
			}
		}
		if err := p.Check(bytes.NewReader(append(b, 0)), 3, size); !errors.Is(err, meshbench.ErrMismatch) {
			t.Errorf("size %d: long: got %v, want ErrMismatch", size, err)
		}
	}
	// Chunks of one body are not interchangeable.
	b, _ := io.ReadAll(p.Reader(1, 3*65536))
	swapped := append(append(bytes.Clone(b[65536:131072]), b[:65536]...), b[131072:]...)
	if err := p.Check(bytes.NewReader(swapped), 1, 3*65536); !errors.Is(err, meshbench.ErrMismatch) {
		t.Errorf("swapped blocks: got %v, want ErrMismatch", err)
	}
}

func TestLatenciesSummary(t *testing.T) {
	var l meshbench.Latencies
	if s := l.Summary(); s.Count != 0 {
		t.Errorf("empty: got %+v", s)
	}
	for i := 100; i >= 1; i-- {
		l.Record(time.Duration(i) * time.Millisecond)
	}
	s := l.Summary()
	want := meshbench.Summary{Count: 100, Mean: 50500 * time.Microsecond, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
}

func TestRequireLoopback(t *testing.T) {
	tests := []struct {
		name string
		url  string
		ok   bool
	}{
		{"ipv4 loopback", "https://127.0.0.1:8700", true},
		{"other loopback", "https://127.0.0.2:1", true},
		{"ipv6 loopback", "https://[::1]:8700", true},
		{"localhost", "https://localhost:8700", true},
		{"live MESH", "https://msg.intspineservices.nhs.uk", false},
		{"private address", "https://10.0.0.1:443", false},
		{"not a URL", "127.0.0.1:8700", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := meshbench.RequireLoopback(tt.url); (err == nil) != tt.ok {
				t.Errorf("RequireLoopback(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestDiskBaselineAndMemory(t *testing.T) {
	dir := t.TempDir()
	res, err := meshbench.DiskBaseline(t.Context(), dir, 3<<20)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes != 3<<20 || res.Elapsed <= 0 || res.Command == "" {
		t.Errorf("got %+v", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "dd.bin")); !os.IsNotExist(err) {
		t.Errorf("dd.bin left behind: %v", err)
	}
	m, err := meshbench.ProcessMemory(os.Getpid())
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if m.Peak < m.Current || m.Peak <= 0 {
		t.Errorf("got %+v", m)
	}
}

func TestProcessCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	d, err := meshbench.ProcessCPU(os.Getpid())
	if err != nil || d < 0 {
		t.Fatalf("ProcessCPU(self): got %v, %v; want a duration, nil", d, err)
	}
	if _, err := meshbench.ProcessCPU(-1); err == nil {
		t.Fatal("ProcessCPU(-1): got nil error")
	}
}

// TestRunOpenLoop offers the load at a fixed rate: the last message is not
// due before (n-1)/rate, so the run cannot end sooner (a lower bound the
// pacing guarantees, not a speed figure).
func TestRunOpenLoop(t *testing.T) {
	srv := meshtest.NewServer(t, meshtest.Options{})
	const n, rate = 20, 400.0
	res, err := meshbench.Run(t.Context(), meshbench.Load{
		Senders: []meshbench.Sender{client(t, srv, "X26ABC1"), client(t, srv, "X26ABC1")}, Receiver: client(t, srv, "X26ABC2"),
		To: "X26ABC2", WorkflowID: "GPFED_CONSULT_REPORT", Messages: n, Size: 100, Rate: rate,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != n || res.EndToEnd.Count != n {
		t.Errorf("got %d messages, %d latencies; want %d", res.Messages, res.EndToEnd.Count, n)
	}
	if min := time.Duration(float64(n-1) / rate * float64(time.Second)); res.Elapsed < min {
		t.Errorf("open-loop run of %d messages at %v/s took %v, less than the schedule's %v", n, rate, res.Elapsed, min)
	}
}

// hidingReceiver plays a server that loses a message after its 202: the
// first message its inbox lists is never listed again or downloaded.
type hidingReceiver struct {
	*mesh.Client
	mu     sync.Mutex
	hidden string
}

func (h *hidingReceiver) InboxPage(ctx context.Context, opts mesh.InboxOptions, next string) (mesh.InboxResponse, error) {
	page, err := h.Client.InboxPage(ctx, opts, next)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hidden == "" && len(page.Messages) > 0 {
		h.hidden = page.Messages[0]
	}
	page.Messages = slices.DeleteFunc(page.Messages, func(id string) bool { return id == h.hidden })
	return page, err
}

func TestRunLost(t *testing.T) {
	srv := meshtest.NewServer(t, meshtest.Options{})
	tests := []struct {
		name      string
		allowLost bool
		wantErr   bool
	}{
		{"a lost message fails the run", false, true},
		{"allowed: counted as lost", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := meshbench.Run(t.Context(), meshbench.Load{
				Senders: []meshbench.Sender{client(t, srv, "X26ABC1")}, Receiver: &hidingReceiver{Client: client(t, srv, "X26ABC2")},
				To: "X26ABC2", WorkflowID: "GPFED_CONSULT_REPORT", Messages: 5, Size: 10, Idle: 2 * time.Second, AllowLost: tt.allowLost,
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.allowLost && (res.Messages != 4 || res.Lost != 1) {
				t.Errorf("got %d delivered, %d lost; want 4, 1", res.Messages, res.Lost)
			}
			// Clear the inbox for the next row.
			ids, _ := client(t, srv, "X26ABC2").Inbox(t.Context(), mesh.InboxOptions{})
			for _, id := range ids {
				_ = client(t, srv, "X26ABC2").Ack(t.Context(), id)
			}
		})
	}
}
