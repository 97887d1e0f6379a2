package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcm/gpcm/internal/meshbench"
	"github.com/gpcm/gpcm/mesh"
)

// crashServer is the gpcm mesh-server subprocess that the killer replaces.
type crashServer struct {
	t      *testing.T
	opts   meshbench.ServerOptions
	mu     sync.Mutex
	proc   *meshbench.ServerProcess
	starts int
}

func (s *crashServer) start(ctx context.Context) error {
	p, err := meshbench.StartServer(ctx, s.opts)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("start gpcm mesh-server (start %d): %w", s.starts+1, err)
	}
	s.proc = p
	s.starts++
	return nil
}

func (s *crashServer) kill() {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	p.Kill()
}

// crashLedger records what the senders were told and what the receiver saw.
type crashLedger struct {
	mu       sync.Mutex
	want     map[string][32]byte // local ID → sha256 of the body
	accepted map[string]string   // message ID → local ID, for every 202
	got      map[string]bool     // message IDs downloaded intact
	corrupt  []string
}

func (l *crashLedger) nAccepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.accepted)
}

// TestCrashKill9 runs gpcm mesh-server as a subprocess under 8 senders and a
// receiver and kills it with SIGKILL at random (seeded) moments, restarting
// it on the same data directory and port. Afterwards every message that got
// 202 must have been downloaded intact, and every listed message must
// download completely. GPCM_E2E_MESSAGES (default 600), GPCM_E2E_KILLS
// (default 4) and GPCM_E2E_SEED change the run.
func TestCrashKill9(t *testing.T) {
	requireE2E(t)
	bin := gpcmBinary(t)
	total := envInt(t, "GPCM_E2E_MESSAGES", 600)
	kills := envInt(t, "GPCM_E2E_KILLS", 4)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("GPCM_E2E_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("GPCM_E2E_SEED=%q: %v", v, err)
		}
	}
	t.Logf("crash test: %d messages, %d kills, GPCM_E2E_SEED=%d", total, kills, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()
	data := t.TempDir()
	var serverLog bytes.Buffer
	var logMu sync.Mutex
	srv := &crashServer{t: t, opts: meshbench.ServerOptions{
		Command: bin, Listen: fmt.Sprintf("127.0.0.1:%d", freePort(t)), DataDir: data,
		Mailboxes: []string{"X26ABC1", "X26ABC2"}, Password: "password", SharedKey: "TestKey",
		Log: lockedWriter{&logMu, &serverLog},
	}}
	if err := srv.start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.mu.Lock()
		p := srv.proc
		srv.mu.Unlock()
		_ = p.Stop(30 * time.Second)
		if t.Failed() {
			logMu.Lock()
			t.Logf("server stderr:\n%s", serverLog.String())
			logMu.Unlock()
		}
	}()
	url := srv.proc.URL

	newClient := func(mailbox string) *mesh.Client {
		c, err := mesh.NewClient(mesh.Config{
			URL: url, Mailbox: mailbox, Password: "password", SharedKey: "TestKey",
			TLS:       mesh.TLSConfig{CAFile: filepath.Join(data, "tls", "ca.pem")},
			ChunkSize: 64 << 10, ResponseTimeout: 20 * time.Second,
			Retry: mesh.Backoff{Retries: 40, Initial: 25 * time.Millisecond, Max: 250 * time.Millisecond},
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	led := &crashLedger{want: map[string][32]byte{}, accepted: map[string]string{}, got: map[string]bool{}}
	bodies := make([][]byte, total)
	for i := range bodies {
		n := 1 + rng.IntN(8<<10)
		if i%10 == 0 {
			n = 150<<10 + rng.IntN(1000) // three chunks of 64 KiB
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		bodies[i] = b
		led.want["crash-"+strconv.Itoa(i)] = sha256.Sum256(b)
	}

	// Killer: kills after random amounts of progress, so that a slow
	// machine still sees every kill during the load.
	marks := make([]int, kills)
	for k := range marks {
		marks[k] = total/10 + rng.IntN(total*8/10)
	}
	slices.Sort(marks)
	delays := make([]time.Duration, kills)
	for k := range delays {
		delays[k] = time.Duration(rng.IntN(40)) * time.Millisecond
	}
	killerDone := make(chan struct{})
	var killErr error
	go func() {
		defer close(killerDone)
		for k, mark := range marks {
			for led.nAccepted() < mark {
				if ctx.Err() != nil {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(delays[k])
			n := led.nAccepted()
			srv.kill()
			t.Logf("kill -9 #%d after %d accepted (mark %d, +%v); restarting", k+1, n, mark, delays[k])
			if killErr = srv.start(ctx); killErr != nil {
				cancel()
				return
			}
		}
	}()

	// Senders: 8, each message until it gets 202 (a fresh message after an
	// unknown or partial outcome; the old one must never be listed half).
	var next atomic.Int64
	var sendWG sync.WaitGroup
	var sendFail atomic.Value
	for range 8 {
		c := newClient("X26ABC1")
		sendWG.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				lid := "crash-" + strconv.Itoa(i)
				for attempt := 1; ; attempt++ {
					res, err := c.Send(ctx, mesh.SendRequest{To: "X26ABC2", WorkflowID: "GPFED_CONSULT_REPORT", LocalID: lid,
						Body: bytes.NewReader(bodies[i]), Size: int64(len(bodies[i]))})
					if err == nil {
						led.mu.Lock()
						led.accepted[res.MessageID] = lid
						led.mu.Unlock()
						break
					}
					var me *mesh.Error
					if errors.As(err, &me) && me.Status >= 400 && me.Status < 500 && me.Status != 429 && me.Status != 408 {
						sendFail.CompareAndSwap(nil, fmt.Errorf("%s: %w", lid, err))
						return
					}
					if attempt >= 60 || ctx.Err() != nil {
						sendFail.CompareAndSwap(nil, fmt.Errorf("%s: gave up after %d attempts: %w", lid, attempt, err))
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}

	// Receiver: list, download, check, acknowledge while the server dies
	// under it; failures during the run are retried on the next listing.
	recv := newClient("X26ABC2")
	recvStop := make(chan struct{})
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		for {
			select {
			case <-recvStop:
				return
			case <-ctx.Done():
				return
			default:
			}
			ids, err := recv.Inbox(ctx, mesh.InboxOptions{})
			if err != nil || len(ids) == 0 {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			for _, id := range ids {
				_ = receiveOne(ctx, recv, led, id)
			}
		}
	}()

	sendWG.Wait()
	<-killerDone
	close(recvStop)
	<-recvDone
	if killErr != nil {
		t.Fatal(killErr)
	}
	if err := sendFail.Load(); err != nil {
		t.Fatalf("sender: %v", err)
	}
	srv.mu.Lock()
	starts := srv.starts
	srv.mu.Unlock()
	if starts != kills+1 {
		t.Fatalf("server started %d times, want %d (1 + %d kills)", starts, kills+1, kills)
	}

	// Drain with the server up: every listed message must download whole.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ids, err := recv.Inbox(ctx, mesh.InboxOptions{})
		if err != nil {
			t.Fatalf("final inbox listing: %v", err)
		}
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			if err := receiveOne(ctx, recv, led, id); err != nil {
				t.Errorf("listed message %s does not download completely after the crashes: %v", id, err)
			}
		}
		if time.Now().After(deadline) || t.Failed() {
			t.Fatalf("inbox not drained after 2 minutes: %d listed", len(ids))
		}
	}

	led.mu.Lock()
	defer led.mu.Unlock()
	for _, c := range led.corrupt {
		t.Errorf("corrupt download: %s", c)
	}
	var lost []string
	perLocal := map[string]bool{}
	for id, lid := range led.accepted {
		perLocal[lid] = true
		if !led.got[id] {
			lost = append(lost, id+" ("+lid+")")
		}
	}
	slices.Sort(lost)
	if len(lost) > 0 {
		t.Errorf("%d messages got 202 but were never downloaded intact: %v", len(lost), lost[:min(len(lost), 20)])
	}
	if len(perLocal) != total {
		t.Errorf("%d of %d local IDs accepted", len(perLocal), total)
	}
	t.Logf("crash test: %d messages, %d accepted sends (202), %d message IDs downloaded intact, %d kills, server started %d times",
		total, len(led.accepted), len(led.got), kills, starts)
}

// receiveOne downloads a message, checks its body against the sent one and
// acknowledges it.
func receiveOne(ctx context.Context, c *mesh.Client, led *crashLedger, id string) error {
	d, err := c.Get(ctx, id)
	if errors.Is(err, mesh.ErrNotFound) || errors.Is(err, mesh.ErrGone) {
		led.mu.Lock()
		done := led.got[id]
		led.mu.Unlock()
		if done {
			return nil // acknowledged already; the listing was older
		}
		return err
	}
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(h, d)
	d.Close()
	if err != nil {
		return fmt.Errorf("after %d bytes: %w", n, err)
	}
	lid := d.Message.LocalID
	led.mu.Lock()
	want, ok := led.want[lid]
	if !ok || !bytes.Equal(h.Sum(nil), want[:]) {
		led.corrupt = append(led.corrupt, fmt.Sprintf("message %s local ID %q: %d bytes, sha256 differs from the body sent", id, lid, n))
		led.mu.Unlock()
		return fmt.Errorf("corrupt")
	}
	led.got[id] = true
	led.mu.Unlock()
	if err := c.Ack(ctx, id); err != nil && !errors.Is(err, mesh.ErrNotFound) && !errors.Is(err, mesh.ErrGone) {
		return fmt.Errorf("acknowledge: %w", err)
	}
	return nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
