package pgstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

var t0 = time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC)

func dataMessage(id string, status string, chunks int) meshserver.Message {
	return meshserver.Message{ID: id, MessageType: meshserver.TypeData, Sender: "A", Recipient: "B", WorkflowID: "WF",
		Status: status, TotalChunks: chunks, CreatedAt: t0, StatusAt: t0, ExpiresAt: t0.Add(time.Hour)}
}

// TestExpireDueAcrossPools runs the expiry of two "processes" at once over
// many due messages: SKIP LOCKED hands each message to exactly one of
// them, so every message expires once and gets exactly one report.
func TestExpireDueAcrossPools(t *testing.T) {
	schema := pgstoretest.Schema(t)
	stores := []meshserver.Store{pgstoretest.MustOpenSchema(t, schema).Mesh(), pgstoretest.MustOpenSchema(t, schema).Mesh()}
	ctx := t.Context()
	const n = 200
	for i := range n {
		if err := stores[0].CreateMessage(ctx, dataMessage(fmt.Sprintf("20260115103000%06d_AAAAAA", i), meshserver.StatusAccepted, 1), nil); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(2 * time.Hour)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 4 {
		s := stores[w%2]
		wg.Go(func() {
			for {
				got, err := s.ExpireDue(ctx, meshserver.ExpireParams{Now: now, Limit: 7, Report: func(m meshserver.Message) meshserver.Message {
					return meshserver.Message{ID: "R" + m.ID, MessageType: meshserver.TypeReport, Recipient: m.Sender, WorkflowID: m.WorkflowID,
						LinkedMsgID: m.ID, Status: meshserver.StatusAccepted, StatusCode: "14", StatusEvent: "SEND", CreatedAt: now, StatusAt: now}
				}})
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("expired: got %d distinct messages, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("message %s expired %d times, want once", id, k)
		}
	}
	if c, err := stores[1].CountInbox(ctx, "A"); err != nil || c != n {
		t.Fatalf("reports in the sender's inbox: got %d, %v; want %d", c, err, n)
	}
}

// TestAddChunkAcrossPools uploads the chunks of one message concurrently
// through two pools: the row lock serialises them, so the message is
// accepted exactly once, with the full size.
func TestAddChunkAcrossPools(t *testing.T) {
	schema := pgstoretest.Schema(t)
	stores := []meshserver.Store{pgstoretest.MustOpenSchema(t, schema).Mesh(), pgstoretest.MustOpenSchema(t, schema).Mesh()}
	ctx := t.Context()
	const chunks = 20
	id := "20260115103000000001_AAAAAA"
	if err := stores[0].CreateMessage(ctx, dataMessage(id, meshserver.StatusUploading, chunks),
		&meshserver.Chunk{MessageID: id, Number: 1, Size: 100, BlobKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for n := 2; n <= chunks; n++ {
		wg.Go(func() {
			m, err := stores[n%2].AddChunk(ctx, meshserver.AddChunkParams{
				Chunk: meshserver.Chunk{MessageID: id, Number: n, Size: 100, BlobKey: fmt.Sprintf("k%d", n)},
				Now:   t0.Add(time.Minute), ExpiresAt: t0.Add(time.Hour)})
			if err != nil {
				t.Error(err)
				return
			}
			if m.Status == meshserver.StatusAccepted {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	m, err := stores[1].GetMessage(ctx, id)
	if err != nil || m.Status != meshserver.StatusAccepted || m.Size != 100*chunks || accepted != 1 {
		t.Fatalf("after concurrent chunks: got %s size %d (%v), accepted by %d callers; want accepted size %d by 1",
			m.Status, m.Size, err, accepted, 100*chunks)
	}
}
