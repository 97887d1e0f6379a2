package pgstore_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
)

// TestTwoSendersShareOneDatabase runs two started sender services, each
// with its own pool on one schema and the same MESH mailbox, against a
// receiver on PostgreSQL: every report is submitted to both at once (one
// transmission results), sent exactly once (the practice records each MESH
// message and no repeat), and both senders, polling the same inbox, drive
// every transmission to complete, entering each state once.
func TestTwoSendersShareOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 100 reports through a MESH server")
	}
	const n = 100
	senderSchema := pgstoretest.Schema(t)
	ms := meshtest.NewServer(t, meshtest.Options{Mailboxes: []meshtest.Mailbox{
		{ID: multiSender, Password: "password", ODSCode: "X26"},
		{ID: multiPractice, Password: "password", ODSCode: "X26"},
	}})
	svcs := make([]*sender.Service, 2)
	for i := range svcs {
		svc, err := sender.New(sender.Config{Store: pgstoretest.MustOpenSchema(t, senderSchema).Sender(),
			Mesh: mustMeshClient(t, ms, multiSender), Routing: sender.RouteMailbox, Mailbox: multiPractice,
			SendInterval: 20 * time.Millisecond, PollInterval: 50 * time.Millisecond, TrackInterval: time.Second,
			AlertInterval: time.Second, Lease: 30 * time.Second, Owner: fmt.Sprintf("sender-%d", i),
			Backoff: mesh.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}, Logger: multiLogger(t), EditWindow: -1})
		if err != nil {
			t.Fatal(err)
		}
		svcs[i] = svc
	}

	rdb := pgstoretest.MustOpen(t)
	blobs, err := fileblob.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := receiver.New(receiver.Config{Store: rdb.Receiver(), Blobs: blobs, Mesh: mustMeshClient(t, ms, multiPractice),
		ODSCode: "X26", Logger: multiLogger(t), PollInterval: 20 * time.Millisecond, PageSize: 50})
	if err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(9, 10))
	in := senddoc.Example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	in.SenderMailbox = multiSender
	in.PDF = senddoc.ExamplePDF()
	var regs []receiver.Patient
	ids := map[string]bool{}
	for range n {
		in.Patient.NHSNumber = patient.GenerateTestNHSNumber(rng)
		regs = append(regs, receiver.Patient{NHSNumber: in.Patient.NHSNumber, BirthDate: in.Patient.BirthDate,
			Family: in.Patient.Family, Given: in.Patient.Given[0], Status: receiver.StatusRegistered})
		// The same report submitted to both senders at once is one
		// transmission.
		var wg sync.WaitGroup
		trs := make([]sender.Transmission, len(svcs))
		created := make([]bool, len(svcs))
		errs := make([]error, len(svcs))
		for i, svc := range svcs {
			sub := in
			wg.Go(func() { trs[i], created[i], errs[i] = svc.Submit(t.Context(), sender.Submission{Input: &sub}) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if trs[0].ID != trs[1].ID || created[0] == created[1] {
			t.Fatalf("one report submitted twice: ids %s/%s, created %v/%v; want one id, created once", trs[0].ID, trs[1].ID, created[0], created[1])
		}
		ids[trs[0].ID] = true
	}
	if _, err := rdb.Receiver().UpsertPatients(t.Context(), regs, time.Now()); err != nil {
		t.Fatal(err)
	}

	if err := rcv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, svc := range svcs {
		if err := svc.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	store := pgstoretest.MustOpenSchema(t, senderSchema).Sender()
	var counts map[sender.State]int
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if counts, err = store.CountByState(t.Context()); err != nil {
			t.Fatal(err)
		}
		if counts[sender.StateComplete] == n {
			break
		}
	}
	time.Sleep(500 * time.Millisecond) // further rounds must change nothing
	for _, svc := range svcs {
		svc.Stop()
	}
	rcv.Stop()

	if counts, err = store.CountByState(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 || counts[sender.StateComplete] != n {
		t.Errorf("transmissions: got %v, want %d complete", counts, n)
	}
	// Each report reached the practice once: a second MESH message with the
	// same MessageHeader.id would be recorded and answered 20007.
	msgs, err := rdb.Receiver().CountMessages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[receiver.MessageAccepted] != n {
		t.Errorf("messages at the practice: got %v, want %d accepted and nothing else", msgs, n)
	}
	for id := range ids {
		tr, err := store.GetTransmission(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Attempts != 1 || tr.InfAckCode != 20013 || tr.BusAckCode != 30001 {
			t.Errorf("transmission %s: attempts %d, InfAck %d, BusAck %d; want 1, 20013, 30001", id, tr.Attempts, tr.InfAckCode, tr.BusAckCode)
		}
		evs, err := store.Events(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		// Each state is entered once; "queued → queued" events note send
		// attempts, of which there is exactly one.
		entered, attempts := map[sender.State]int{}, 0
		for _, e := range evs {
			if e.From != e.To {
				entered[e.To]++
			} else if strings.HasPrefix(e.Note, "sending attempt") {
				attempts++
			}
		}
		for st, k := range entered {
			if k != 1 {
				t.Errorf("transmission %s: entered %s %d times, want once (history %v)", id, st, k, evs)
			}
		}
		for _, st := range []sender.State{sender.StateQueued, sender.StateSent, sender.StateInfAck, sender.StateComplete} {
			if entered[st] != 1 {
				t.Errorf("transmission %s: never entered %s (history %v)", id, st, evs)
			}
		}
		if attempts != 1 {
			t.Errorf("transmission %s: %d send attempts recorded, want 1", id, attempts)
		}
	}
	if alerts, err := store.ListAlerts(t.Context(), sender.AlertFilter{}); err != nil || len(alerts) != 0 {
		t.Errorf("alerts: got %v, %v; want none", alerts, err)
	}
}
