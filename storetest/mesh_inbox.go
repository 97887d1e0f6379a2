package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
)

// runMeshInbox checks the inbox pages, counts and message lists.
func runMeshInbox(t *testing.T, open func(t *testing.T) meshserver.Store) {
	s := open(t)
	ctx := t.Context()
	wfs := []string{"GPFED_CONSULT_REPORT", "GPFED_CONSULT_REPORT_ACK", "OTHER_WF", "GPFED_CONSULT_REPORT"}
	var inbox []string
	for i, wf := range wfs {
		m := message(msgID(i), "A", "B", wf)
		m.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		createMessages(t, s, m)
		inbox = append(inbox, m.ID)
	}
	up := message(msgID(9), "A", "B", "OTHER_WF")
	up.Status, up.Size = meshserver.StatusUploading, 1000
	other := message(msgID(8), "A", "C", "OTHER_WF")
	acked := message(msgID(7), "C", "B", "OTHER_WF")
	acked.Status = meshserver.StatusAcknowledged
	createMessages(t, s, up, other, acked)

	t.Run("pages in id order", func(t *testing.T) {
		var got []string
		after := ""
		for range 3 {
			page, err := s.InboxPage(ctx, meshserver.InboxPageParams{Mailbox: "B", After: after, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if page.Count != 0 {
				t.Fatalf("count %d without Count, want 0", page.Count)
			}
			got = append(got, page.IDs...)
			if len(page.IDs) == 0 {
				break
			}
			after = page.IDs[len(page.IDs)-1]
		}
		if !slices.Equal(got, inbox) {
			t.Fatalf("pages: got %v, want %v", got, inbox)
		}
	})

	t.Run("count with and without a page", func(t *testing.T) {
		for _, limit := range []int{0, 2} {
			page, err := s.InboxPage(ctx, meshserver.InboxPageParams{Mailbox: "B", Limit: limit, Count: true})
			if err != nil || page.Count != 4 || len(page.IDs) != limit {
				t.Fatalf("limit %d with count: got %v (count %d), %v; want %d ids, count 4", limit, page.IDs, page.Count, err, limit)
			}
		}
		if n, err := s.CountInbox(ctx, "B"); err != nil || n != 4 {
			t.Fatalf("CountInbox(B): got %d, %v; want 4", n, err)
		}
		if page, err := s.InboxPage(ctx, meshserver.InboxPageParams{Mailbox: "NOBODY", Limit: 10, Count: true}); err != nil || page.IDs != nil || page.Count != 0 {
			t.Fatalf("empty inbox: got %+v, %v; want no ids (nil) and 0", page, err)
		}
	})

	t.Run("workflow filters", func(t *testing.T) {
		tests := []struct {
			name string
			f    meshserver.WorkflowFilter
			want int
		}{
			{"none", meshserver.WorkflowFilter{}, 4},
			{"equals", meshserver.WorkflowFilter{Op: meshserver.FilterEquals, Value: "GPFED_CONSULT_REPORT"}, 2},
			{"not equals", meshserver.WorkflowFilter{Op: meshserver.FilterEquals, Value: "GPFED_CONSULT_REPORT", Negate: true}, 2},
			{"prefix", meshserver.WorkflowFilter{Op: meshserver.FilterPrefix, Value: "GPFED_"}, 3},
			{"not prefix", meshserver.WorkflowFilter{Op: meshserver.FilterPrefix, Value: "GPFED_", Negate: true}, 1},
			{"contains", meshserver.WorkflowFilter{Op: meshserver.FilterContains, Value: "_ACK"}, 1},
			{"not contains", meshserver.WorkflowFilter{Op: meshserver.FilterContains, Value: "_ACK", Negate: true}, 3},
			{"underscore is literal", meshserver.WorkflowFilter{Op: meshserver.FilterContains, Value: "R_W"}, 1},
			{"percent is literal", meshserver.WorkflowFilter{Op: meshserver.FilterContains, Value: "%"}, 0},
			{"case sensitive", meshserver.WorkflowFilter{Op: meshserver.FilterPrefix, Value: "gpfed"}, 0},
		}
		for _, tt := range tests {
			page, err := s.InboxPage(ctx, meshserver.InboxPageParams{Mailbox: "B", Limit: 100, Filter: tt.f})
			if err != nil || len(page.IDs) != tt.want {
				t.Errorf("%s: got %d, %v; want %d", tt.name, len(page.IDs), err, tt.want)
			}
		}
	})

	t.Run("usage counts what waits", func(t *testing.T) {
		if u, err := s.InboxUsage(ctx, "B"); err != nil || u != (meshserver.Usage{Messages: 5, Bytes: 4*3 + 1000}) {
			t.Fatalf("InboxUsage(B): got %+v, %v; want the 4 accepted and the uploading one", u, err)
		}
		if u, err := s.InboxUsage(ctx, "NOBODY"); err != nil || u != (meshserver.Usage{}) {
			t.Fatalf("InboxUsage(NOBODY): got %+v, %v; want zero", u, err)
		}
	})

	t.Run("lists newest first", func(t *testing.T) {
		tests := []struct {
			name string
			p    meshserver.ListMessagesParams
			want []string
		}{
			{"by sender", meshserver.ListMessagesParams{Sender: "A"}, []string{up.ID, other.ID, inbox[3], inbox[2], inbox[1], inbox[0]}},
			{"by recipient", meshserver.ListMessagesParams{Recipient: "B"}, []string{up.ID, acked.ID, inbox[3], inbox[2], inbox[1], inbox[0]}},
			{"both", meshserver.ListMessagesParams{Sender: "C", Recipient: "B"}, []string{acked.ID}},
			{"since", meshserver.ListMessagesParams{Recipient: "B", Since: t0.Add(2 * time.Minute)}, []string{inbox[3], inbox[2]}},
			{"before, limited", meshserver.ListMessagesParams{Sender: "A", Before: other.ID, Limit: 2}, []string{inbox[3], inbox[2]}},
		}
		for _, tt := range tests {
			got, err := s.ListMessages(ctx, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, m := range got {
				ids = append(ids, m.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
			}
		}
		// Rich lists as ListMessages does, after its token.
		tok := (&tokens{}).next(sndMailbox)
		putMailboxes(t, s, sndMailbox)
		rich, err := s.Rich(ctx, meshserver.RichParams{Token: tok, ListMessagesParams: meshserver.ListMessagesParams{Sender: "A"}})
		list, _ := s.ListMessages(ctx, meshserver.ListMessagesParams{Sender: "A"})
		if err != nil || fmt.Sprint(rich) != fmt.Sprint(list) {
			t.Fatalf("Rich: got %d messages, %v; want ListMessages' %d", len(rich), err, len(list))
		}
		wantRecorded(t, s, tok)
	})

	t.Run("counts by status", func(t *testing.T) {
		counts, err := s.CountByStatus(ctx)
		want := map[string]int{meshserver.StatusAccepted: 5, meshserver.StatusUploading: 1, meshserver.StatusAcknowledged: 1}
		if err != nil || fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Fatalf("CountByStatus: got %v, %v; want %v", counts, err, want)
		}
	})
}
