package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
)

// RunMeshServer exercises a meshserver.Store. open must return a fresh,
// empty store for each call and arrange its cleanup with t.Cleanup.
func RunMeshServer(t *testing.T, open func(t *testing.T) meshserver.Store) {
	t0 := time.Date(2026, 1, 15, 10, 30, 0, 123456000, time.UTC)

	msg := func(id, from, to, wf string) meshserver.Message {
		return meshserver.Message{ID: id, MessageType: meshserver.TypeData, Sender: from, Recipient: to, WorkflowID: wf,
			Subject: "subj", LocalID: "local-" + id, FileName: id + ".dat", Status: meshserver.StatusAccepted,
			TotalChunks: 1, Size: 3, CreatedAt: t0, StatusAt: t0, ExpiresAt: t0.Add(120 * time.Hour)}
	}

	t.Run("mailbox round trip", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		want := meshserver.Mailbox{ID: "X26ABC1", Password: "pw", ODSCode: "X26", Name: "One", Active: true, Workflows: []string{"A", "B"}}
		if err := s.PutMailbox(ctx, want); err != nil {
			t.Fatal(err)
		}
		if err := s.PutMailbox(ctx, meshserver.Mailbox{ID: "X27ABC1", Password: "pw", ODSCode: "X27", Active: true}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetMailbox(ctx, "X26ABC1")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
		if _, err := s.GetMailbox(ctx, "NOPE"); !errors.Is(err, meshserver.ErrNotFound) {
			t.Fatalf("unknown mailbox: got %v, want ErrNotFound", err)
		}
		list, err := s.ListMailboxes(ctx, "X27")
		if err != nil || len(list) != 1 || list[0].ID != "X27ABC1" || list[0].Workflows != nil {
			t.Fatalf("ListMailboxes(X27): got %+v, %v", list, err)
		}
		if err := s.SetMailboxActive(ctx, "X26ABC1", false); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetMailbox(ctx, "X26ABC1"); got.Active {
			t.Fatal("mailbox still active after disable")
		}
		if err := s.SetMailboxActive(ctx, "NOPE", false); !errors.Is(err, meshserver.ErrNotFound) {
			t.Fatalf("disable unknown: got %v, want ErrNotFound", err)
		}
	})

	t.Run("message create get and conflict", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		m := msg("20260115103000123456_ABCDEF", "A", "B", "WF")
		m.Checksum, m.ContentType, m.ContentEncoding, m.Encrypted, m.Compressed, m.PartnerID = "md5:x", "text/plain", "gzip", "Y", "N", "p"
		if err := s.CreateMessage(ctx, m, &meshserver.Chunk{MessageID: m.ID, Number: 1, Size: 3, BlobKey: "k1"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetMessage(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(m) {
			t.Fatalf("got %+v\nwant %+v", got, m)
		}
		if err := s.CreateMessage(ctx, m, nil); !errors.Is(err, meshserver.ErrConflict) {
			t.Fatalf("duplicate id: got %v, want ErrConflict", err)
		}
		if _, err := s.GetMessage(ctx, "NOPE"); !errors.Is(err, meshserver.ErrNotFound) {
			t.Fatalf("unknown: got %v, want ErrNotFound", err)
		}
		c, err := s.GetChunk(ctx, m.ID, 1)
		if err != nil || c.BlobKey != "k1" || c.Size != 3 {
			t.Fatalf("GetChunk: got %+v, %v", c, err)
		}
		if _, err := s.GetChunk(ctx, m.ID, 2); !errors.Is(err, meshserver.ErrNotFound) {
			t.Fatalf("missing chunk: got %v, want ErrNotFound", err)
		}
	})

	t.Run("chunks finalise only when all present", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		m := msg("20260115103000000001_AAAAAA", "A", "B", "WF")
		m.Status, m.TotalChunks, m.ExpiresAt = meshserver.StatusUploading, 3, time.Time{}
		if err := s.CreateMessage(ctx, m, &meshserver.Chunk{MessageID: m.ID, Number: 1, Size: 10, BlobKey: "c1"}); err != nil {
			t.Fatal(err)
		}
		later := t0.Add(time.Minute)
		add := func(n int, key string) meshserver.Message {
			t.Helper()
			got, err := s.AddChunk(ctx, meshserver.AddChunkParams{Chunk: meshserver.Chunk{MessageID: m.ID, Number: n, Size: 10, BlobKey: key}, Now: later, ExpiresAt: later.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := add(3, "c3"); got.Status != meshserver.StatusUploading {
			t.Fatalf("after chunks 1,3 of 3: status %s, want uploading", got.Status)
		}
		if got := add(3, "c3b"); got.Status != meshserver.StatusUploading || got.Size != 20 {
			t.Fatalf("re-sent chunk 3: got status %s size %d, want uploading 20", got.Status, got.Size)
		}
		got := add(2, "c2")
		if got.Status != meshserver.StatusAccepted || got.Size != 30 || !got.ExpiresAt.Equal(later.Add(time.Hour)) {
			t.Fatalf("all chunks: got %+v", got)
		}
		if c, _ := s.GetChunk(ctx, m.ID, 3); c.BlobKey != "c3b" {
			t.Fatalf("chunk 3 key: got %q, want c3b", c.BlobKey)
		}
		_, err := s.AddChunk(ctx, meshserver.AddChunkParams{Chunk: meshserver.Chunk{MessageID: m.ID, Number: 2, Size: 1, BlobKey: "x"}, Now: later})
		if !errors.Is(err, meshserver.ErrConflict) {
			t.Fatalf("chunk after finalise: got %v, want ErrConflict", err)
		}
		_, err = s.AddChunk(ctx, meshserver.AddChunkParams{Chunk: meshserver.Chunk{MessageID: "NOPE", Number: 2, BlobKey: "x"}, Now: later})
		if !errors.Is(err, meshserver.ErrNotFound) {
			t.Fatalf("chunk of unknown message: got %v, want ErrNotFound", err)
		}
	})

	t.Run("inbox paging filter and count", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		wfs := []string{"GPFED_CONSULT_REPORT", "GPFED_CONSULT_REPORT_ACK", "OTHER_WF", "GPFED_CONSULT_REPORT"}
		for i, wf := range wfs {
			if err := s.CreateMessage(ctx, msg(fmt.Sprintf("2026011510300000000%d_AAAAAA", i), "A", "B", wf), nil); err != nil {
				t.Fatal(err)
			}
		}
		up := msg("20260115103000000009_AAAAAA", "A", "B", "OTHER_WF")
		up.Status = meshserver.StatusUploading
		other := msg("20260115103000000008_AAAAAA", "A", "C", "OTHER_WF")
		for _, m := range []meshserver.Message{up, other} {
			if err := s.CreateMessage(ctx, m, nil); err != nil {
				t.Fatal(err)
			}
		}
		page, err := s.ListInbox(ctx, meshserver.ListInboxParams{Mailbox: "B", Limit: 2})
		if err != nil || len(page) != 2 || page[0].ID >= page[1].ID {
			t.Fatalf("first page: got %d, %v", len(page), err)
		}
		rest, err := s.ListInbox(ctx, meshserver.ListInboxParams{Mailbox: "B", Limit: 10, After: page[1].ID})
		if err != nil || len(rest) != 2 {
			t.Fatalf("second page: got %d, %v; want 2", len(rest), err)
		}
		tests := []struct {
			name string
			f    meshserver.WorkflowFilter
			want int
		}{
			{"equals", meshserver.WorkflowFilter{Op: meshserver.FilterEquals, Value: "GPFED_CONSULT_REPORT"}, 2},
			{"not equals", meshserver.WorkflowFilter{Op: meshserver.FilterEquals, Value: "GPFED_CONSULT_REPORT", Negate: true}, 2},
			{"prefix", meshserver.WorkflowFilter{Op: meshserver.FilterPrefix, Value: "GPFED_"}, 3},
			{"not prefix", meshserver.WorkflowFilter{Op: meshserver.FilterPrefix, Value: "GPFED_", Negate: true}, 1},
			{"contains", meshserver.WorkflowFilter{Op: meshserver.FilterContains, Value: "_ACK"}, 1},
			{"not contains", meshserver.WorkflowFilter{Op: meshserver.FilterContains, Value: "_ACK", Negate: true}, 3},
			{"underscore is literal", meshserver.WorkflowFilter{Op: meshserver.FilterContains, Value: "R_W"}, 1},
			{"case sensitive", meshserver.WorkflowFilter{Op: meshserver.FilterPrefix, Value: "gpfed"}, 0},
		}
		for _, tt := range tests {
			got, err := s.ListInbox(ctx, meshserver.ListInboxParams{Mailbox: "B", Limit: 100, Filter: tt.f})
			if err != nil || len(got) != tt.want {
				t.Errorf("%s: got %d, %v; want %d", tt.name, len(got), err, tt.want)
			}
		}
		if n, err := s.CountInbox(ctx, "B"); err != nil || n != 4 {
			t.Fatalf("CountInbox: got %d, %v; want 4", n, err)
		}
		all, err := s.ListMessages(ctx, meshserver.ListMessagesParams{Sender: "A"})
		if err != nil || len(all) != 6 || all[0].ID < all[1].ID {
			t.Fatalf("ListMessages: got %d, %v; want 6 newest first", len(all), err)
		}
		byLocal, err := s.FindByLocalID(ctx, "A", "local-"+other.ID)
		if err != nil || len(byLocal) != 1 {
			t.Fatalf("FindByLocalID: got %d, %v", len(byLocal), err)
		}
		counts, err := s.CountByStatus(ctx)
		if err != nil || counts[meshserver.StatusAccepted] != 5 || counts[meshserver.StatusUploading] != 1 {
			t.Fatalf("CountByStatus: got %v, %v", counts, err)
		}
		d, err := s.DeleteMessages(ctx, "C")
		if err != nil || len(d.IDs) != 1 {
			t.Fatalf("DeleteMessages(C): got %v, %v", d, err)
		}
		d, err = s.DeleteMessages(ctx, "")
		if err != nil || len(d.IDs) != 5 {
			t.Fatalf("DeleteMessages(all): got %v, %v", d, err)
		}
	})

	t.Run("inbox usage counts what waits", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		rows := []struct {
			id, to, status string
			size           int64
		}{
			{"20260115103000000001_AAAAAA", "B", meshserver.StatusAccepted, 100},
			{"20260115103000000002_AAAAAA", "B", meshserver.StatusUploading, 1000},
			{"20260115103000000003_AAAAAA", "B", meshserver.StatusAcknowledged, 10000},
			{"20260115103000000004_AAAAAA", "B", meshserver.StatusUndeliverable, 10000},
			{"20260115103000000005_AAAAAA", "C", meshserver.StatusAccepted, 10000},
		}
		for _, r := range rows {
			m := msg(r.id, "A", r.to, "WF")
			m.Status, m.Size = r.status, r.size
			if err := s.CreateMessage(ctx, m, nil); err != nil {
				t.Fatal(err)
			}
		}
		if u, err := s.InboxUsage(ctx, "B"); err != nil || u != (meshserver.Usage{Messages: 2, Bytes: 1100}) {
			t.Fatalf("InboxUsage(B): got %+v, %v; want 2 messages, 1100 bytes (accepted and uploading)", u, err)
		}
		if u, err := s.InboxUsage(ctx, "NOBODY"); err != nil || u != (meshserver.Usage{}) {
			t.Fatalf("InboxUsage(NOBODY): got %+v, %v; want zero", u, err)
		}
	})

	t.Run("update status", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		m := msg("20260115103000000001_AAAAAA", "A", "B", "WF")
		if err := s.CreateMessage(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Hour)
		p := meshserver.UpdateStatusParams{ID: m.ID, From: []string{meshserver.StatusAccepted}, To: meshserver.StatusAcknowledged, At: at}
		got, err := s.UpdateStatus(ctx, p)
		if err != nil || got.Status != meshserver.StatusAcknowledged || !got.AckedAt.Equal(at) {
			t.Fatalf("ack: got %+v, %v", got, err)
		}
		if _, err := s.UpdateStatus(ctx, p); !errors.Is(err, meshserver.ErrConflict) {
			t.Fatalf("second ack: got %v, want ErrConflict", err)
		}
		p.ID = "NOPE"
		if _, err := s.UpdateStatus(ctx, p); !errors.Is(err, meshserver.ErrNotFound) {
			t.Fatalf("unknown: got %v, want ErrNotFound", err)
		}
		if n, _ := s.CountInbox(ctx, "B"); n != 0 {
			t.Fatalf("acknowledged message still counted: %d", n)
		}
	})

	t.Run("expire due with report", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		due := msg("20260115103000000001_AAAAAA", "A", "B", "WF")
		due.ExpiresAt = t0.Add(time.Hour)
		notDue := msg("20260115103000000002_AAAAAA", "A", "B", "WF")
		notDue.ExpiresAt = t0.Add(48 * time.Hour)
		stalled := msg("20260115103000000003_AAAAAA", "A", "B", "WF")
		stalled.Status, stalled.TotalChunks = meshserver.StatusUploading, 2
		stalled.ExpiresAt = t0.Add(time.Hour)
		acked := msg("20260115103000000004_AAAAAA", "A", "B", "WF")
		acked.Status, acked.ExpiresAt = meshserver.StatusAcknowledged, t0.Add(time.Hour)
		for _, m := range []meshserver.Message{due, notDue, stalled, acked} {
			if err := s.CreateMessage(ctx, m, nil); err != nil {
				t.Fatal(err)
			}
		}
		now := t0.Add(2 * time.Hour)
		n := 0
		got, err := s.ExpireDue(ctx, meshserver.ExpireParams{Now: now, Limit: 10, Report: func(m meshserver.Message) meshserver.Message {
			n++
			return meshserver.Message{ID: fmt.Sprintf("20260115123000000000_REPOR%d", n), MessageType: meshserver.TypeReport, Recipient: m.Sender,
				WorkflowID: m.WorkflowID, LinkedMsgID: m.ID, Status: meshserver.StatusAccepted, StatusCode: "14", StatusEvent: "SEND",
				StatusDescription: "Message not collected by recipient after 5 days", CreatedAt: now, StatusAt: now}
		}})
		if err != nil || len(got) != 2 || got[0].Status != meshserver.StatusUndeliverable || got[1].Status != meshserver.StatusUndeliverable {
			t.Fatalf("ExpireDue: got %+v, %v; want the due and the stalled upload", got, err)
		}
		inbox, _ := s.ListInbox(ctx, meshserver.ListInboxParams{Mailbox: "A", Limit: 10})
		if len(inbox) != 2 || inbox[0].MessageType != meshserver.TypeReport {
			t.Fatalf("sender inbox: got %+v, want two reports", inbox)
		}
		if st, _ := s.GetMessage(ctx, acked.ID); st.Status != meshserver.StatusAcknowledged {
			t.Fatalf("acknowledged message changed to %s", st.Status)
		}
		again, err := s.ExpireDue(ctx, meshserver.ExpireParams{Now: now, Limit: 10})
		if err != nil || len(again) != 0 {
			t.Fatalf("second ExpireDue: got %d, %v; want 0", len(again), err)
		}
		st, _ := s.GetMessage(ctx, due.ID)
		if st.Status != meshserver.StatusUndeliverable || st.StatusCode != "14" {
			t.Fatalf("expired message: got status %s code %s", st.Status, st.StatusCode)
		}
	})

	t.Run("purge finished messages", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		live := msg("20260115103000000001_AAAAAA", "A", "B", "WF")
		done := msg("20260115103000000002_AAAAAA", "A", "B", "WF")
		done.Status = meshserver.StatusAcknowledged
		rep := msg("20260115103000000003_AAAAAA", "", "A", "WF")
		rep.MessageType = meshserver.TypeReport
		// A report that was also acknowledged meets both conditions: it
		// must be purged once.
		ackedRep := msg("20260115103000000004_AAAAAA", "", "A", "WF")
		ackedRep.MessageType, ackedRep.Status = meshserver.TypeReport, meshserver.StatusAcknowledged
		failed := msg("20260115103000000005_AAAAAA", "A", "B", "WF")
		failed.Status = meshserver.StatusUndeliverable
		for _, m := range []meshserver.Message{live, done, rep, ackedRep, failed} {
			if err := s.CreateMessage(ctx, m, &meshserver.Chunk{MessageID: m.ID, Number: 1, Size: 1, BlobKey: "k" + m.ID}); err != nil {
				t.Fatal(err)
			}
		}
		d, err := s.PurgeMessages(ctx, t0, 10)
		if err != nil || len(d.IDs) != 0 {
			t.Fatalf("purge before anything is old: got %v, %v", d, err)
		}
		// A limit of 3 takes three of the four purgeable messages, the next
		// pass the last one; the order within a pass is the store's.
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
		if !slices.Equal(ids, want) {
			t.Fatalf("purged %v; want each finished message and report once: %v", ids, want)
		}
		if len(keys) != 4 || keys[0] != "k"+done.ID {
			t.Fatalf("purge blob keys: got %v", keys)
		}
		if _, err := s.GetChunk(ctx, done.ID, 1); !errors.Is(err, meshserver.ErrNotFound) {
			t.Fatalf("chunk of purged message: got %v, want ErrNotFound", err)
		}
		if _, err := s.GetMessage(ctx, live.ID); err != nil {
			t.Fatalf("live message purged: %v", err)
		}
	})

	t.Run("nonce replay across callers", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		p := meshserver.UseNonceParams{Mailbox: "A", Nonce: "n1", Count: "0", At: t0}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.UseNonce(ctx, p)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, meshserver.ErrReplay):
				t.Fatalf("UseNonce: got %v, want nil or ErrReplay", err)
			}
		}
		if ok != 1 {
			t.Fatalf("concurrent uses of one token: %d accepted, want 1", ok)
		}
		if err := s.UseNonce(ctx, meshserver.UseNonceParams{Mailbox: "A", Nonce: "n1", Count: "1", At: t0}); err != nil {
			t.Fatalf("next count: got %v, want nil", err)
		}
		if n, err := s.PruneNonces(ctx, t0.Add(time.Second)); err != nil || n != 2 {
			t.Fatalf("PruneNonces: got %d, %v; want 2", n, err)
		}
		if err := s.UseNonce(ctx, p); err != nil {
			t.Fatalf("after prune: got %v, want nil", err)
		}
	})

	t.Run("patient register", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		p := meshserver.Patient{NHSNumber: "9690937286", BirthDate: "19670126", Surname: "SMITH", PracticeODS: "X26"}
		if err := s.PutPatient(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetPatient(ctx, p.NHSNumber)
		if err != nil || got != p {
			t.Fatalf("GetPatient: got %+v, %v", got, err)
		}
		if _, err := s.GetPatient(ctx, "9999999999"); !errors.Is(err, meshserver.ErrNotFound) {
			t.Fatalf("unknown patient: got %v, want ErrNotFound", err)
		}
	})
}
