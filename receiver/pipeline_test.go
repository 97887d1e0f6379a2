package receiver_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

// TestPagingAndWorkflowFilter sends more messages than one inbox page holds
// and a message of another workflow: every Send Document message is
// collected, the other one stays in the inbox.
func TestPagingAndWorkflowFilter(t *testing.T) {
	e := MustEnv(t, nil) // PageSize 10
	rng := rand.New(rand.NewPCG(1, 2))
	var hdrs []string
	for i := range 25 {
		in := example(senddoc.UseCaseGeneric, 1+i%2)
		in.Patient.NHSNumber = patient.GenerateTestNHSNumber(rng)
		e.register(t, regOf(in))
		b := mustBuild(t, in)
		e.sendBuilt(t, b)
		hdrs = append(hdrs, b.HeaderID)
	}
	other := e.send(t, []byte("not for the receiver"), "OTHER_WORKFLOW", "x")
	ack := e.send(t, []byte("an ack"), senddoc.WorkflowV1Ack, "x")
	n, err := e.rcv.Collect(t.Context())
	if err != nil || n != 25 {
		t.Fatalf("Collect: got %d, %v; want 25", n, err)
	}
	e.run(t)
	e.readAcks(t)
	for _, h := range hdrs {
		if got := e.codes(h); len(got) != 2 || got[0] != itk3.CodeSuccess || got[1] != itk3.CodePatientKnown {
			t.Errorf("%s: got %v", h, got)
		}
	}
	left, err := e.cfg.Mesh.(*mesh.Client).Inbox(t.Context(), mesh.InboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || !strings.Contains(strings.Join(left, " "), other) || !strings.Contains(strings.Join(left, " "), ack) {
		t.Fatalf("inbox after collecting: %v, want only %s and %s", left, other, ack)
	}
}

// TestTwoWorkersShareTheStore runs two receivers (separate MESH clients,
// one database) concurrently: every message is processed once and answered
// with exactly one InfAck and one BusAck.
func TestTwoWorkersShareTheStore(t *testing.T) {
	e := MustEnv(t, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	var hdrs []string
	for range 30 {
		in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
		in.Patient.NHSNumber = patient.GenerateTestNHSNumber(rng)
		e.register(t, regOf(in))
		b := mustBuild(t, in)
		e.sendBuilt(t, b)
		hdrs = append(hdrs, b.HeaderID)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i := range 2 {
		cfg := e.cfg
		cfg.Owner = fmt.Sprintf("worker-%d", i)
		cfg.Batch = 3
		cfg.Mesh = mustClient(t, e.mesh, practiceMailbox)
		r, err := receiver.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if err := r.RunOnce(t.Context()); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	e.readAcks(t)
	for _, h := range hdrs {
		if got := e.codes(h); len(got) != 2 {
			t.Errorf("%s: got acks %v, want one InfAck and one BusAck", h, got)
		}
	}
	docs, _ := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{Limit: 1000})
	if len(docs) != len(hdrs) {
		t.Fatalf("documents: got %d, want %d", len(docs), len(hdrs))
	}
}

// flakyMesh fails chosen calls once, to interrupt the pipeline between
// its recorded steps.
type flakyMesh struct {
	receiver.Mesh
	mu       sync.Mutex
	failAck  int // MESH acknowledgements to fail
	failSend int // ack sends to fail after MESH accepted them
}

var errInjected = errors.New("injected failure")

func (f *flakyMesh) Ack(ctx context.Context, id string) error {
	f.mu.Lock()
	fail := f.failAck > 0
	f.failAck--
	f.mu.Unlock()
	if fail {
		return errInjected
	}
	return f.Mesh.Ack(ctx, id)
}

func (f *flakyMesh) Send(ctx context.Context, req mesh.SendRequest) (mesh.SendResult, error) {
	res, err := f.Mesh.Send(ctx, req)
	f.mu.Lock()
	fail := f.failSend > 0
	f.failSend--
	f.mu.Unlock()
	if err == nil && fail {
		return mesh.SendResult{}, errInjected // sent, but the answer was lost
	}
	return res, err
}

func (f *flakyMesh) RichOutbox(ctx context.Context, opts mesh.RichInboxOptions) ([]mesh.RichMessage, error) {
	return f.Mesh.(receiver.SentFinder).RichOutbox(ctx, opts)
}

func (f *flakyMesh) Track(ctx context.Context, id string) (mesh.Tracking, error) {
	return f.Mesh.(receiver.SentFinder).Track(ctx, id)
}

// TestInterruptedSteps loses the MESH acknowledgement and the answer to
// an ack send: the message is stored once, acknowledged on a later round,
// and each ack reaches the sender once (the lost send is found in the
// outbox by its file name instead of being repeated).
func TestInterruptedSteps(t *testing.T) {
	var fm *flakyMesh
	e := MustEnv(t, func(c *receiver.Config) {
		fm = &flakyMesh{Mesh: c.Mesh, failAck: 1, failSend: 1}
		c.Mesh = fm
		c.Lease = time.Minute
	})
	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	e.register(t, regOf(in))
	b := mustBuild(t, in)
	meshID := e.sendBuilt(t, b)

	if err := e.rcv.RunOnce(t.Context()); err == nil {
		t.Fatal("first round: want the injected send failure reported")
	}
	m, err := e.store.GetMessageByMeshID(t.Context(), meshID)
	if err != nil || m.MeshAcked {
		t.Fatalf("after a failed MESH ack: %+v, %v; want stored and not acknowledged", m, err)
	}
	// Later rounds: the MESH ack is retried; the ack whose answer was lost
	// is retried after its backoff and found in the outbox.
	e.clock.Advance(time.Hour)
	e.run(t)
	e.clock.Advance(time.Hour)
	e.run(t)
	m, _ = e.store.GetMessageByMeshID(t.Context(), meshID)
	if !m.MeshAcked {
		t.Fatal("message never acknowledged on MESH")
	}
	e.readAcks(t)
	if got := e.codes(b.HeaderID); len(got) != 2 {
		t.Fatalf("acks: got %v, want exactly [20013 30001]", got)
	}
	counts, _ := e.store.CountMessages(t.Context())
	if counts[receiver.MessageAccepted] != 1 || len(counts) != 1 {
		t.Fatalf("messages: %v, want one accepted", counts)
	}
}

// TestStartStop runs the pipeline goroutine and checks Stop ends it.
func TestStartStop(t *testing.T) {
	e := MustEnv(t, func(c *receiver.Config) { c.PollInterval = 10 * time.Millisecond })
	e.rcv.Stop() // before Start: no-op
	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV2)
	e.register(t, regOf(in))
	b := mustBuild(t, in)
	e.sendBuilt(t, b)
	if err := e.rcv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := e.rcv.Start(t.Context()); err == nil {
		t.Fatal("second Start succeeded")
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if docs, _ := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{}); len(docs) == 1 {
			break
		}
		e.rcv.Kick()
		time.Sleep(10 * time.Millisecond)
	}
	e.rcv.Stop()
	e.rcv.Stop()
	// Stop returns once the loop has closed its done channel; the goroutine
	// may still be unwinding for a moment after that.
	var s string
	for wait := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		if s = string(buf[:runtime.Stack(buf, true)]); !strings.Contains(s, "receiver.(*Receiver).loop") || time.Now().After(wait) {
			break
		}
	}
	if strings.Contains(s, "receiver.(*Receiver).loop") {
		t.Fatalf("pipeline goroutine still running after Stop:\n%s", s)
	}
	if docs, _ := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{}); len(docs) != 1 {
		t.Fatalf("documents: got %d, want 1", len(docs))
	}
}
