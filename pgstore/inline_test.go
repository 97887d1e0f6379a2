package pgstore_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// CreateMessageInline stores message, chunk record and body together; a
// conflicting id stores none of them.
func TestCreateMessageInline(t *testing.T) {
	db := pgstoretest.MustOpen(t)
	st, blobs := db.Mesh(), db.Blobs()
	now := time.Now().UTC().Truncate(time.Microsecond)
	m := meshserver.Message{ID: "20260101000000000000_ABCDEF", MessageType: meshserver.TypeData, Sender: "X26ABC1",
		Recipient: "X26ABC2", WorkflowID: "WF", Status: meshserver.StatusAccepted, TotalChunks: 1, Size: 5, CreatedAt: now, StatusAt: now}
	first := meshserver.Chunk{MessageID: m.ID, Number: 1, Size: 5, BlobKey: "mesh/2026010100/" + m.ID + "-1-aa"}
	if err := st.CreateMessageInline(t.Context(), m, first, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetChunk(t.Context(), m.ID, 1); err != nil || got != first {
		t.Fatalf("GetChunk: got %+v, %v; want %+v", got, err, first)
	}
	rc, err := blobs.Open(t.Context(), first.BlobKey, 0)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(body, []byte("hello")) {
		t.Fatalf("body: got %q, want %q", body, "hello")
	}
	again := first
	again.BlobKey = "mesh/2026010100/" + m.ID + "-1-bb"
	if err := st.CreateMessageInline(t.Context(), m, again, []byte("other")); !errors.Is(err, meshserver.ErrConflict) {
		t.Fatalf("same id again: got %v, want ErrConflict", err)
	}
	if _, err := blobs.Size(t.Context(), again.BlobKey); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("body of the refused message: got %v, want ErrNotFound", err)
	}
}
