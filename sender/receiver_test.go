package sender_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/sender"
)

// TestWithReceiver sends reports to gpcm's Generic FHIR Receiver over real
// MESH and waits until every one is complete with both acks. It sends 20
// reports; GPCM_SENDER_E2E_N=1000 runs the acceptance size.
func TestWithReceiver(t *testing.T) {
	n := 20
	if v := os.Getenv("GPCM_SENDER_E2E_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("GPCM_SENDER_E2E_N=%q: want a positive number", v)
		}
	}
	e := mustEnv(t, envOptions{})
	ctx := t.Context()
	rcv := practiceReceiver(t, e, receiver.UpdateRecordReview)
	start := time.Now()
	ids := make([]string, n)
	for i := range n {
		in := exampleInput()
		in.Encounter.ID = fmt.Sprintf("6d6b8a8e-6f0c-4c1f-9a1e-%012d", i)
		ids[i] = e.submit(t, in).ID
	}
	submitted := time.Since(start)
	deadline := time.Now().Add(10 * time.Minute)
	for round := 0; ; round++ {
		e.sendDue(t)
		if err := rcv.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		e.poll(t)
		counts, err := e.store.CountByState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[sender.StateComplete] == n {
			break
		}
		if time.Now().After(deadline) || counts[sender.StateFailed]+counts[sender.StateOverdue] > 0 {
			t.Fatalf("after %d rounds: %v", round, counts)
		}
	}
	for _, id := range ids {
		tr := e.get(t, id)
		if tr.InfAckCode != 20013 || tr.BusAckCode != 30001 {
			t.Fatalf("%s: acks %d/%d, want 20013/30001", id, tr.InfAckCode, tr.BusAckCode)
		}
		ev, err := e.store.Events(ctx, id)
		if err != nil || len(ev) < 4 {
			t.Fatalf("%s: history %+v %v", id, ev, err)
		}
	}
	docs, err := rcv.ListDocuments(ctx, receiver.ListDocumentsParams{Limit: n + 10})
	if err != nil || len(docs) != n {
		t.Fatalf("receiver holds %d documents, %v; want %d (none twice)", len(docs), err, n)
	}
	t.Logf("%d reports: submitted in %v, all complete with both acks after %v", n, submitted, time.Since(start))
}
