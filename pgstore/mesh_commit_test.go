package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// What the MESH requests of both drivers do is storetest's (RunMeshServer);
// how pgstore does them in one statement each is checked here.

// A request whose only write is its token (a download, an inbox page)
// commits without waiting for the WAL flush; a send and an acknowledgement
// wait, their token with them. Each statement runs in a transaction of the
// test's own, where the setting it leaves for its commit can be read.
func TestTokenOpsCommitWait(t *testing.T) {
	db := pgstoretest.MustOpen(t)
	st := db.Mesh()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	snd := meshserver.Mailbox{ID: "X26SND1", Password: "pw", ODSCode: "X26", Active: true}
	rcv := meshserver.Mailbox{ID: "X26RCV1", Password: "pw", ODSCode: "X26", Active: true}
	for _, mb := range []meshserver.Mailbox{snd, rcv} {
		if err := st.PutMailbox(ctx, mb); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	pending := func(mb meshserver.Mailbox) *meshserver.Token {
		n++
		return &meshserver.Token{Nonce: fmt.Sprint("n", n), Count: "0", At: now, Seen: mb}
	}
	const id = "20260101000000000000_WAITAA"
	m := meshserver.Message{ID: id, MessageType: meshserver.TypeData, Sender: snd.ID, Recipient: rcv.ID, WorkflowID: "WF",
		Status: meshserver.StatusAccepted, TotalChunks: 1, Size: 5, CreatedAt: now, StatusAt: now, ExpiresAt: now.Add(time.Hour)}
	c := meshserver.Chunk{MessageID: id, Number: 1, Size: 5, BlobKey: "mesh/t/" + id}
	tests := []struct {
		name  string
		query func() (string, []any)
		want  string // synchronous_commit at the end of the statement
	}{
		{"small send waits", func() (string, []any) {
			return pgstore.SendQuery(meshserver.SendParams{Token: pending(snd), Message: m, Chunk: c, Body: []byte("hello")})
		}, "on"},
		{"download does not wait", func() (string, []any) {
			return pgstore.DownloadQuery(meshserver.DownloadParams{Token: pending(rcv), ID: id, Chunk: 1})
		}, "off"},
		{"inbox page does not wait", func() (string, []any) {
			return pgstore.InboxQuery(meshserver.InboxPageParams{Token: pending(rcv), Mailbox: rcv.ID, Limit: 10, Count: true})
		}, "off"},
		{"acknowledgement waits", func() (string, []any) {
			return pgstore.AcknowledgeQuery(meshserver.AcknowledgeParams{Token: pending(rcv), Mailbox: rcv.ID, ID: id, Code: "00", Event: "ACK", At: now})
		}, "on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, args := tt.query()
			tx, err := db.Pool().Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(context.WithoutCancel(ctx))
			// As on a server with the default (the test server may run
			// without waiting at all).
			if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
				t.Fatal(err)
			}
			rows, err := tx.Query(ctx, q, args...)
			if err != nil {
				t.Fatal(err)
			}
			var recorded int64
			for rows.Next() {
				if err := rows.Scan(append([]any{&recorded}, make([]any, len(rows.FieldDescriptions())-1)...)...); err != nil {
					t.Fatal(err)
				}
			}
			if rows.Close(); rows.Err() != nil {
				t.Fatal(rows.Err())
			}
			if recorded != 1 {
				t.Fatalf("token recorded %d times, want once", recorded)
			}
			var got string
			if err := tx.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("synchronous_commit = %s for the commit, want %s", got, tt.want)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
