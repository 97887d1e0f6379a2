package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
)

// runMeshUpkeep checks expiry, purge and deletion.
func runMeshUpkeep(t *testing.T, open func(t *testing.T) (a, b MeshBackend)) {
	// outcome is the server's decision for an expired message m at now:
	// undeliverable, and a report to its sender.
	outcome := func(now time.Time) func(m meshserver.Message) (meshserver.Message, *meshserver.Message) {
		return func(m meshserver.Message) (meshserver.Message, *meshserver.Message) {
			m.Status, m.StatusCode, m.StatusEvent, m.StatusDescription, m.StatusAt = meshserver.StatusUndeliverable, "14", "SEND", "not collected", now
			rep := meshserver.Message{ID: "R" + m.ID[1:], MessageType: meshserver.TypeReport, Recipient: m.Sender, WorkflowID: m.WorkflowID,
				LinkedMsgID: m.ID, Status: meshserver.StatusAccepted, StatusCode: "14", StatusEvent: "SEND", StatusDescription: "not collected",
				CreatedAt: now, StatusAt: now}
			return m, &rep
		}
	}

	t.Run("expire due with the outcome the server decides", func(t *testing.T) {
		a, _ := open(t)
		s := a.Store
		ctx := t.Context()
		due := message(msgID(1), "A", "B", "WF")
		due.ExpiresAt = t0.Add(time.Hour)
		notDue := message(msgID(2), "A", "B", "WF")
		notDue.ExpiresAt = t0.Add(48 * time.Hour)
		stalled := message(msgID(3), "A", "B", "WF")
		stalled.Status, stalled.TotalChunks, stalled.ExpiresAt = meshserver.StatusUploading, 2, t0.Add(time.Hour)
		acked := message(msgID(4), "A", "B", "WF")
		acked.Status, acked.ExpiresAt = meshserver.StatusAcknowledged, t0.Add(time.Hour)
		never := message(msgID(5), "A", "B", "WF")
		never.ExpiresAt = time.Time{}
		createMessages(t, s, due, notDue, stalled, acked, never)
		now := t0.Add(2 * time.Hour)
		got, err := s.ExpireDue(ctx, meshserver.ExpireParams{Now: now, Limit: 10, Outcome: outcome(now)})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range got {
			ids = append(ids, m.ID)
			want, _ := outcome(now)(map[string]meshserver.Message{due.ID: due, stalled.ID: stalled}[m.ID])
			if fmt.Sprint(m) != fmt.Sprint(want) {
				t.Errorf("expired message as returned: got %+v\nwant %+v", m, want)
			}
			if stored, _ := s.GetMessage(ctx, m.ID); fmt.Sprint(stored) != fmt.Sprint(want) {
				t.Errorf("expired message as stored: got %+v\nwant %+v", stored, want)
			}
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{due.ID, stalled.ID}) {
			t.Fatalf("expired %v, want the due message and the stalled upload", ids)
		}
		page, err := s.InboxPage(ctx, meshserver.InboxPageParams{Mailbox: "A", Limit: 10})
		if err != nil || len(page.IDs) != 2 {
			t.Fatalf("the sender's inbox: got %v, %v; want the two reports", page.IDs, err)
		}
		for _, id := range page.IDs {
			if r, _ := s.GetMessage(ctx, id); r.MessageType != meshserver.TypeReport || r.StatusCode != "14" {
				t.Fatalf("report %s: got %+v", id, r)
			}
		}
		for _, m := range []meshserver.Message{notDue, acked, never} {
			if stored, _ := s.GetMessage(ctx, m.ID); stored.Status != m.Status {
				t.Errorf("%s: status %s changed to %s", m.ID, m.Status, stored.Status)
			}
		}
		again, err := s.ExpireDue(ctx, meshserver.ExpireParams{Now: now, Limit: 10, Outcome: outcome(now)})
		if err != nil || len(again) != 0 {
			t.Fatalf("second ExpireDue: got %d, %v; want 0", len(again), err)
		}
	})

	t.Run("expire from two handles at once: each message once", func(t *testing.T) {
		a, b := open(t)
		ctx := t.Context()
		const n = 60
		for i := range n {
			createMessages(t, a.Store, message(msgID(i), "A", "B", "WF"))
		}
		now := t0.Add(200 * time.Hour)
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for w := range 4 {
			s := []meshserver.Store{a.Store, b.Store}[w%2]
			wg.Go(func() {
				for {
					got, err := s.ExpireDue(ctx, meshserver.ExpireParams{Now: now, Limit: 7, Outcome: outcome(now)})
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
		if c, err := b.Store.CountInbox(ctx, "A"); err != nil || c != n {
			t.Fatalf("reports in the sender's inbox: got %d, %v; want %d", c, err, n)
		}
	})

	t.Run("purge finished messages", func(t *testing.T) {
		a, _ := open(t)
		s := a.Store
		ctx := t.Context()
		live := message(msgID(1), "A", "B", "WF")
		done := message(msgID(2), "A", "B", "WF")
		done.Status = meshserver.StatusAcknowledged
		rep := message(msgID(3), "", "A", "WF")
		rep.MessageType = meshserver.TypeReport
		// A report that was also acknowledged meets both conditions: it
		// must be purged once.
		ackedRep := message(msgID(4), "", "A", "WF")
		ackedRep.MessageType, ackedRep.Status = meshserver.TypeReport, meshserver.StatusAcknowledged
		failed := message(msgID(5), "A", "B", "WF")
		failed.Status = meshserver.StatusUndeliverable
		createMessages(t, s, live, done, rep, ackedRep, failed)
		d, err := s.PurgeMessages(ctx, t0, 10)
		if err != nil || len(d.IDs) != 0 {
			t.Fatalf("purge before anything is old: got %v, %v", d, err)
		}
		// A limit of 3 takes three of the four purgeable messages, the
		// next pass the last one; the order within a pass is the store's.
		var ids, keys []string
		for _, limit := range []int{3, 3, 3} {
			d, err = s.PurgeMessages(ctx, t0.Add(time.Second), limit)
			if err != nil || len(d.IDs) > limit {
				t.Fatalf("purge (limit %d): got %v, %v", limit, d, err)
			}
			ids, keys = append(ids, d.IDs...), append(keys, d.BlobKeys...)
		}
		slices.Sort(ids)
		slices.Sort(keys)
		want := []string{done.ID, rep.ID, ackedRep.ID, failed.ID}
		var wantKeys []string
		for _, id := range want {
			wantKeys = append(wantKeys, "mesh/t/"+id)
		}
		if !slices.Equal(ids, want) || !slices.Equal(keys, wantKeys) {
			t.Fatalf("purged %v (keys %v); want each finished message and report once: %v", ids, keys, want)
		}
		_, err = s.GetChunk(ctx, done.ID, 1)
		wantErr(t, "chunk of a purged message", err, meshserver.ErrNotFound)
		if _, err := s.GetMessage(ctx, live.ID); err != nil {
			t.Fatalf("live message purged: %v", err)
		}
	})

	t.Run("delete a mailbox's messages, then all", func(t *testing.T) {
		a, _ := open(t)
		s := a.Store
		ctx := t.Context()
		createMessages(t, s, message(msgID(1), "A", "B", "WF"), message(msgID(2), "B", "C", "WF"), message(msgID(3), "C", "D", "WF"))
		d, err := s.DeleteMessages(ctx, "B")
		slices.Sort(d.IDs)
		if err != nil || !slices.Equal(d.IDs, []string{msgID(1), msgID(2)}) || len(d.BlobKeys) != 2 {
			t.Fatalf("DeleteMessages(B): got %+v, %v; want the two messages of B with their keys", d, err)
		}
		d, err = s.DeleteMessages(ctx, "")
		if err != nil || !slices.Equal(d.IDs, []string{msgID(3)}) || !slices.Equal(d.BlobKeys, []string{"mesh/t/" + msgID(3)}) {
			t.Fatalf("DeleteMessages(all): got %+v, %v", d, err)
		}
		_, err = s.GetMessage(ctx, msgID(3))
		wantErr(t, "deleted message", err, meshserver.ErrNotFound)
	})
}
