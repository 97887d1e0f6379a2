package pgstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// ReadChunk returns message, chunk record and, only for a body kept in the
// blobs table, the body.
func TestReadChunk(t *testing.T) {
	st := pgstoretest.MustOpen(t).Mesh()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	msg := func(id string) meshserver.Message {
		return meshserver.Message{ID: id, MessageType: meshserver.TypeData, Sender: "X26ABC1", Recipient: "X26ABC2",
			WorkflowID: "WF", Status: meshserver.StatusAccepted, TotalChunks: 2, Size: 5, CreatedAt: now, StatusAt: now}
	}
	inline := meshserver.Chunk{MessageID: "20260101000000000000_AAAAAA", Number: 1, Size: 5, BlobKey: "mesh/x/a-1-aa"}
	if err := st.CreateMessageInline(ctx, msg(inline.MessageID), inline, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	outside := meshserver.Chunk{MessageID: "20260101000000000000_BBBBBB", Number: 1, Size: 7, BlobKey: "mesh/x/b-1-bb"}
	if err := st.CreateMessage(ctx, msg(outside.MessageID), &outside); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		id         string
		n          int
		wantErr    error
		wantChunk  *meshserver.Chunk
		wantInline string
	}{
		{name: "inline body", id: inline.MessageID, n: 1, wantChunk: &inline, wantInline: "hello"},
		{name: "body elsewhere", id: outside.MessageID, n: 1, wantChunk: &outside},
		{name: "missing chunk", id: inline.MessageID, n: 2},
		{name: "unknown message", id: "20260101000000000000_CCCCCC", n: 1, wantErr: meshserver.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.ReadChunk(ctx, tt.id, tt.n)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("ReadChunk: got %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			want := msg(tt.id)
			if got.Message != want {
				t.Errorf("message: got %+v, want %+v", got.Message, want)
			}
			if got.HasChunk != (tt.wantChunk != nil) || (tt.wantChunk != nil && got.Chunk != *tt.wantChunk) {
				t.Errorf("chunk: got %v %+v, want %+v", got.HasChunk, got.Chunk, tt.wantChunk)
			}
			if got.Inline != (tt.wantInline != "") || string(got.Body) != tt.wantInline {
				t.Errorf("body: got inline=%v %q, want %q", got.Inline, got.Body, tt.wantInline)
			}
		})
	}
}
