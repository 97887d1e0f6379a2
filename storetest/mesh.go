package storetest

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/meshserver"
)

// MeshBackend is one handle on a MESH store's database, as one server
// process opens it: the store, and the blob store on the same database
// (DB.Blobs) where the store keeps the bodies Send keeps inline.
type MeshBackend struct {
	Store meshserver.Store
	Blobs blob.Store
}

// RunMeshServer exercises a meshserver.Store. open must return two
// handles on one fresh, empty database (as two server processes on it
// would open it) and arrange their cleanup with t.Cleanup.
//
// The suite is split by area: mailboxes and patients (mesh_mailboxes.go),
// sends and chunk uploads (mesh_send.go), inbox pages, counts and lists
// (mesh_inbox.go), downloads, acknowledgements and tracking
// (mesh_messages.go), expiry, purge and deletion (mesh_upkeep.go), and the
// token every request method records (mesh_tokens.go).
func RunMeshServer(t *testing.T, open func(t *testing.T) (a, b MeshBackend)) {
	one := func(t *testing.T) meshserver.Store {
		a, _ := open(t)
		return a.Store
	}
	t.Run("mailboxes", func(t *testing.T) { runMeshMailboxes(t, one) })
	t.Run("send", func(t *testing.T) { runMeshSend(t, open) })
	t.Run("upload", func(t *testing.T) { runMeshUpload(t, open) })
	t.Run("inbox", func(t *testing.T) { runMeshInbox(t, one) })
	t.Run("download", func(t *testing.T) { runMeshDownload(t, open) })
	t.Run("acknowledge", func(t *testing.T) { runMeshAcknowledge(t, open) })
	t.Run("track", func(t *testing.T) { runMeshTrack(t, one) })
	t.Run("upkeep", func(t *testing.T) { runMeshUpkeep(t, open) })
	t.Run("tokens", func(t *testing.T) { runMeshTokens(t, open) })
}

// t0 is the fixtures' time, with microseconds (what both drivers keep).
var t0 = time.Date(2026, 1, 15, 10, 30, 0, 123456000, time.UTC)

// message is an accepted single-chunk data message of 3 bytes at t0.
func message(id, from, to, wf string) meshserver.Message {
	return meshserver.Message{ID: id, MessageType: meshserver.TypeData, Sender: from, Recipient: to, WorkflowID: wf,
		Subject: "subj", LocalID: "local-" + id, FileName: id + ".dat", Status: meshserver.StatusAccepted,
		TotalChunks: 1, Size: 3, CreatedAt: t0, StatusAt: t0, ExpiresAt: t0.Add(120 * time.Hour)}
}

// msgID is the nth fixture message id.
func msgID(n int) string { return fmt.Sprintf("20260115103000%06d_AAAAAA", n) }

// chunk1 is chunk 1 of m under key "mesh/t/{id}".
func chunk1(m meshserver.Message) meshserver.Chunk {
	return meshserver.Chunk{MessageID: m.ID, Number: 1, Size: m.Size, BlobKey: "mesh/t/" + m.ID}
}

// The fixture mailboxes: a sender limited to workflow WF, a recipient
// taking any, and an inactive one.
var (
	sndMailbox = meshserver.Mailbox{ID: "X26SND1", Password: "pw", ODSCode: "X26", Name: "Sender", Active: true, Workflows: []string{"WF"}}
	rcvMailbox = meshserver.Mailbox{ID: "X26RCV1", Password: "pw", ODSCode: "X26", Name: "Recipient", Active: true}
	offMailbox = meshserver.Mailbox{ID: "X26OFF1", Password: "pw", ODSCode: "X26", Active: false}
)

// putMailboxes stores mbs (by default the three fixtures).
func putMailboxes(t *testing.T, s meshserver.Store, mbs ...meshserver.Mailbox) {
	t.Helper()
	if len(mbs) == 0 {
		mbs = []meshserver.Mailbox{sndMailbox, rcvMailbox, offMailbox}
	}
	for _, mb := range mbs {
		if err := s.PutMailbox(t.Context(), mb); err != nil {
			t.Fatal(err)
		}
	}
}

// createMessages stores ms, each with its chunk1.
func createMessages(t *testing.T, s meshserver.Store, ms ...meshserver.Message) {
	t.Helper()
	for _, m := range ms {
		c := chunk1(m)
		if err := s.CreateMessage(t.Context(), m, &c); err != nil {
			t.Fatal(err)
		}
	}
}

// tokens hands out tokens with nonces of their own.
type tokens struct{ n int }

// next is a new token of mb, as the server saw it.
func (ts *tokens) next(mb meshserver.Mailbox) *meshserver.Token {
	ts.n++
	return &meshserver.Token{Nonce: fmt.Sprintf("nonce-%d", ts.n), Count: "0", At: t0, Seen: mb}
}

// wantRecorded fails unless tok was recorded: Authenticate refuses it again.
func wantRecorded(t *testing.T, s meshserver.Store, tok *meshserver.Token) {
	t.Helper()
	if _, err := s.Authenticate(t.Context(), *tok); !errors.Is(err, meshserver.ErrReplay) {
		t.Fatalf("the token again: got %v, want ErrReplay (recorded)", err)
	}
}

// wantNotRecorded fails if tok was recorded: the same (mailbox, nonce,
// count) with the mailbox as stored now is recorded by Authenticate. A
// token of a mailbox that is gone or inactive cannot be recorded at all.
func wantNotRecorded(t *testing.T, s meshserver.Store, tok *meshserver.Token) {
	t.Helper()
	now, err := s.GetMailbox(t.Context(), tok.Seen.ID)
	switch {
	case errors.Is(err, meshserver.ErrNotFound):
		return
	case err != nil:
		t.Fatal(err)
	case !now.Active:
		return
	}
	again := *tok
	again.Seen = now
	if _, err := s.Authenticate(t.Context(), again); err != nil {
		t.Fatalf("the token with the mailbox as stored: got %v, want it recorded now (it was not before)", err)
	}
}

// readBlob reads key from blobs.
func readBlob(t *testing.T, blobs blob.Store, key string) []byte {
	t.Helper()
	rc, err := blobs.Open(t.Context(), key, 0)
	if err != nil {
		t.Fatalf("blob %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantErr fails unless err is want (nil: no error).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) { // errors.Is(err, nil) is err == nil
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}
