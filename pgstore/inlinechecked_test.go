package pgstore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// CreateMessageInlineChecked stores message, chunk and body only for a
// recipient that exists, is active and takes the workflow.
func TestCreateMessageInlineChecked(t *testing.T) {
	db := pgstoretest.MustOpen(t)
	st, blobs := db.Mesh(), db.Blobs()
	ctx := t.Context()
	for _, mb := range []meshserver.Mailbox{
		{ID: "X26ANY1", Password: "pw", Active: true},
		{ID: "X26WF01", Password: "pw", Active: true, Workflows: []string{"WF"}},
		{ID: "X26OFF1", Password: "pw", Active: false},
	} {
		if err := st.PutMailbox(ctx, mb); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	tests := []struct {
		name, id, to, wf string
		want             error
	}{
		{name: "any workflow", id: "20260101000000000000_AAAAAA", to: "X26ANY1", wf: "WF"},
		{name: "listed workflow", id: "20260101000000000000_BBBBBB", to: "X26WF01", wf: "WF"},
		{name: "workflow not listed", id: "20260101000000000000_CCCCCC", to: "X26WF01", wf: "OTHER", want: meshserver.ErrRecipient},
		{name: "inactive recipient", id: "20260101000000000000_DDDDDD", to: "X26OFF1", wf: "WF", want: meshserver.ErrRecipient},
		{name: "unknown recipient", id: "20260101000000000000_EEEEEE", to: "X26ZZZ9", wf: "WF", want: meshserver.ErrRecipient},
		{name: "id taken", id: "20260101000000000000_AAAAAA", to: "X26ANY1", wf: "WF", want: meshserver.ErrConflict},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := meshserver.Message{ID: tt.id, MessageType: meshserver.TypeData, Sender: "X26ANY1", Recipient: tt.to,
				WorkflowID: tt.wf, Status: meshserver.StatusAccepted, TotalChunks: 1, Size: 5, CreatedAt: now, StatusAt: now}
			first := meshserver.Chunk{MessageID: m.ID, Number: 1, Size: 5, BlobKey: fmt.Sprintf("mesh/x/%d-%s", i, m.ID)}
			err := st.CreateMessageInlineChecked(ctx, m, first, []byte("hello"))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("CreateMessageInlineChecked: got %v, want %v", err, tt.want)
			}
			_, blobErr := blobs.Size(ctx, first.BlobKey)
			if tt.want == nil {
				if got, err := st.GetMessage(ctx, m.ID); err != nil || got != m {
					t.Fatalf("GetMessage: got %+v, %v", got, err)
				}
				if blobErr != nil {
					t.Fatalf("blob: %v", blobErr)
				}
				return
			}
			if !errors.Is(blobErr, blob.ErrNotFound) {
				t.Fatalf("blob of a refused message: got %v, want not found", blobErr)
			}
			if errors.Is(tt.want, meshserver.ErrRecipient) {
				if _, err := st.GetMessage(ctx, m.ID); !errors.Is(err, meshserver.ErrNotFound) {
					t.Fatalf("refused message: got %v, want ErrNotFound", err)
				}
			}
		})
	}
}
