package pgstore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// ListInboxIDs agrees with ListInbox and CountInbox.
func TestListInboxIDs(t *testing.T) {
	st := pgstoretest.MustOpen(t).Mesh()
	ctx := t.Context()
	now := time.Now().UTC()
	for i := range 7 {
		m := meshserver.Message{ID: fmt.Sprintf("20260101000000000000_%06d", i), MessageType: meshserver.TypeData,
			Sender: "X26ABC1", Recipient: "X26ABC2", WorkflowID: []string{"WF_A", "WF_B"}[i%2],
			Status: meshserver.StatusAccepted, TotalChunks: 1, CreatedAt: now, StatusAt: now}
		if i == 6 {
			m.Recipient = "X26ABC3"
		}
		if err := st.CreateMessage(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		p     meshserver.ListInboxParams
		count bool
	}{
		{name: "first page with count", p: meshserver.ListInboxParams{Mailbox: "X26ABC2", Limit: 4}, count: true},
		{name: "next page without count", p: meshserver.ListInboxParams{Mailbox: "X26ABC2", Limit: 4, After: "20260101000000000000_000003"}},
		{name: "filter", p: meshserver.ListInboxParams{Mailbox: "X26ABC2", Limit: 10,
			Filter: meshserver.WorkflowFilter{Op: meshserver.FilterEquals, Value: "WF_B"}}, count: true},
		{name: "empty inbox", p: meshserver.ListInboxParams{Mailbox: "X26ZZZ9", Limit: 10}, count: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, n, err := st.ListInboxIDs(ctx, tt.p, tt.count)
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := st.ListInbox(ctx, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, m := range msgs {
				want = append(want, m.ID)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("ids: got %v, want %v", ids, want)
			}
			wantN := 0
			if tt.count {
				if wantN, err = st.CountInbox(ctx, tt.p.Mailbox); err != nil {
					t.Fatal(err)
				}
			}
			if n != wantN {
				t.Errorf("count: got %d, want %d", n, wantN)
			}
		})
	}
}
