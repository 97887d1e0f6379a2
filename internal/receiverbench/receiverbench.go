// Package receiverbench measures the Generic FHIR Receiver end to end
// against a MESH server, beside its upper limit, the pure decode+validate
// loop over the same messages in the same run.
//
// A run builds distinct Send Document consultation reports (PDF attached)
// for patients on the practice register, times decode+validate over them
// in one goroutine, sends them all to the practice mailbox (untimed), then
// times the receiver from its first poll until every message is stored,
// acknowledged on MESH, validated, matched, filed and answered with an
// infrastructure and a business acknowledgement. It counts what the
// practice worklist and the sender's inbox hold afterwards, so a run that
// lost or doubled anything fails.
package receiverbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

// Options say what to measure.
type Options struct {
	// Messages is how many reports; default 2000.
	Messages int
	// Sender is the sending mailbox's client, Practice the receiver's.
	Sender, Practice *mesh.Client
	// Store and Blobs are the receiver's storage, empty.
	Store receiver.Store
	Blobs blob.Store
	// ODSCode is the practice's ODS code; default "X26".
	ODSCode string
	// Workers and Batch tune the receiver (receiver.Config); 0 keeps its
	// defaults.
	Workers, Batch int
	// MeshCPU, when set, reads the MESH server process's CPU time so far.
	MeshCPU func() (time.Duration, error)
	// Logger receives the receiver's log; nil discards it.
	Logger *slog.Logger
	// Seed makes the patients; 0 picks one from the clock.
	Seed uint64
}

// Phase is one timed part of a run.
type Phase struct {
	Elapsed time.Duration
	// CPU is this process's user+system CPU time in the phase.
	CPU time.Duration
}

// Result is what a run measured.
type Result struct {
	Messages     int
	MessageBytes int // mean size of a message
	// DecodeValidate is the upper limit: senddoc.Validate over every
	// message, one after the other in one goroutine.
	DecodeValidate Phase
	// EndToEnd is the receiver, from its first poll until everything is
	// filed and answered. Its CPU is this process's only (the receiver);
	// MeshCPU is the MESH server's in the same interval, when known.
	EndToEnd Phase
	MeshCPU  time.Duration
	// Filed counts documents awaiting filing afterwards; Acks the messages
	// in the sender's inbox (one InfAck and one BusAck per message).
	Filed, Acks int
}

// Rate returns messages per second of a phase.
func (r Result) Rate(p Phase) float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(r.Messages) / p.Elapsed.Seconds()
}

// Ratio is the end-to-end rate over the decode+validate rate.
func (r Result) Ratio() float64 {
	if r.EndToEnd.Elapsed <= 0 {
		return 0
	}
	return float64(r.DecodeValidate.Elapsed) / float64(r.EndToEnd.Elapsed)
}

// PerMessage divides d by the message count.
func (r Result) PerMessage(d time.Duration) time.Duration {
	if r.Messages == 0 {
		return 0
	}
	return d / time.Duration(r.Messages)
}

// Run performs one measurement.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Messages <= 0 {
		o.Messages = 2000
	}
	if o.ODSCode == "" {
		o.ODSCode = "X26"
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.Sender == nil || o.Practice == nil:
		return Result{}, errors.New("receiverbench: Sender and Practice clients are required")
	case o.Store == nil || o.Blobs == nil:
		return Result{}, errors.New("receiverbench: Store and Blobs are required")
	}
	res := Result{Messages: o.Messages}

	bodies, envs, patients, err := build(o)
	if err != nil {
		return res, err
	}
	total := 0
	for _, b := range bodies {
		total += len(b)
	}
	res.MessageBytes = total / len(bodies)
	if _, err := o.Store.UpsertPatients(ctx, patients, time.Now()); err != nil {
		return res, fmt.Errorf("receiverbench: register patients: %w", err)
	}

	// The upper limit.
	t0, c0 := time.Now(), CPUTime()
	for i, body := range bodies {
		rep, err := senddoc.Validate(ctx, bytes.NewReader(body), senddoc.Options{})
		if err != nil {
			return res, fmt.Errorf("receiverbench: validate message %d: %w", i, err)
		}
		if !rep.Conformant() {
			return res, fmt.Errorf("receiverbench: message %d does not validate: %v", i, rep.Findings)
		}
	}
	res.DecodeValidate = Phase{Elapsed: time.Since(t0), CPU: CPUTime() - c0}

	if err := sendAll(ctx, o.Sender, o.Practice.Mailbox(), bodies, envs); err != nil {
		return res, err
	}

	rcv, err := receiver.New(receiver.Config{Store: o.Store, Blobs: o.Blobs, Mesh: o.Practice, ODSCode: o.ODSCode,
		Logger: o.Logger, Workers: o.Workers, Batch: o.Batch})
	if err != nil {
		return res, fmt.Errorf("receiverbench: %w", err)
	}
	var m0 time.Duration
	if o.MeshCPU != nil {
		if m0, err = o.MeshCPU(); err != nil {
			return res, err
		}
	}
	t0, c0 = time.Now(), CPUTime()
	last, progress := 0, t0
	for {
		if err := rcv.RunOnce(ctx); err != nil {
			return res, fmt.Errorf("receiverbench: receiver: %w", err)
		}
		counts, err := o.Store.CountDocuments(ctx)
		if err != nil {
			return res, fmt.Errorf("receiverbench: count documents: %w", err)
		}
		if res.Filed = counts[receiver.DocAwaitingFiling]; res.Filed >= o.Messages {
			break
		}
		if n := sumCounts(counts); n > last {
			last, progress = n, time.Now()
		} else if time.Since(progress) > 30*time.Second {
			return res, fmt.Errorf("receiverbench: %d of %d messages filed, no progress for 30s (documents by state: %v)", res.Filed, o.Messages, counts)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	res.EndToEnd = Phase{Elapsed: time.Since(t0), CPU: CPUTime() - c0}
	if o.MeshCPU != nil {
		m1, err := o.MeshCPU()
		if err != nil {
			return res, err
		}
		res.MeshCPU = m1 - m0
	}

	ids, err := o.Sender.Inbox(ctx, mesh.InboxOptions{})
	if err != nil {
		return res, fmt.Errorf("receiverbench: list the sender's inbox: %w", err)
	}
	res.Acks = len(ids)
	if res.Filed != o.Messages || res.Acks != 2*o.Messages {
		return res, fmt.Errorf("receiverbench: %d messages: %d filed and %d acknowledgements in the sender's inbox, want %d and %d",
			o.Messages, res.Filed, res.Acks, o.Messages, 2*o.Messages)
	}
	return res, nil
}

func sumCounts(m map[receiver.DocumentState]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// build makes the messages: the same consultation report for distinct
// registered patients, each with fresh identifiers.
func build(o Options) (bodies [][]byte, envs []senddoc.Envelope, patients []receiver.Patient, err error) {
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed>>1|1))
	in := senddoc.Example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	in.SenderMailbox = o.Sender.Mailbox()
	in.PDF = senddoc.ExamplePDF()
	given := ""
	if len(in.Patient.Given) > 0 {
		given = in.Patient.Given[0]
	}
	seen := map[string]bool{}
	for len(bodies) < o.Messages {
		nhs := patient.GenerateTestNHSNumber(rng)
		if seen[nhs] {
			continue
		}
		seen[nhs] = true
		in.Patient.NHSNumber = nhs
		b, err := senddoc.Build(in, senddoc.BuildOptions{})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("receiverbench: build a report: %w", err)
		}
		x, err := b.XML()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("receiverbench: encode a report: %w", err)
		}
		bodies, envs = append(bodies, x), append(envs, b.Envelope)
		patients = append(patients, receiver.Patient{NHSNumber: nhs, BirthDate: in.Patient.BirthDate, Family: in.Patient.Family,
			Given: given, Status: receiver.StatusRegistered})
	}
	return bodies, envs, patients, nil
}

// sendAll sends every body to the practice with 8 senders at once, with
// the MESH headers its envelope names (workflow, subject, local ID).
func sendAll(ctx context.Context, c *mesh.Client, to string, bodies [][]byte, envs []senddoc.Envelope) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				_, err := c.Send(ctx, mesh.SendRequest{To: to, WorkflowID: envs[i].WorkflowID, Subject: envs[i].Subject,
					LocalID: envs[i].LocalID, Body: bytes.NewReader(bodies[i]), Size: int64(len(bodies[i]))})
				if err != nil {
					cancel(fmt.Errorf("receiverbench: send message %d: %w", i, err))
				}
			}
		})
	}
	for i := range bodies {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// CPUTime is this process's user plus system CPU time so far.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
