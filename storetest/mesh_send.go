package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/meshserver"
)

// runMeshSend checks RequestStore.Send: what it stores, in one
// transaction, and what it refuses.
func runMeshSend(t *testing.T, open func(t *testing.T) (a, b MeshBackend)) {
	a, b := open(t)
	s := a.Store
	ctx := t.Context()
	putMailboxes(t, s)
	var toks tokens
	n := 0
	next := func(to, wf string) meshserver.Message {
		n++
		return message(msgID(n), sndMailbox.ID, to, wf)
	}
	// stored fails unless m and its chunk are stored as given.
	stored := func(t *testing.T, m meshserver.Message, c meshserver.Chunk) {
		t.Helper()
		got, err := b.Store.GetMessage(ctx, m.ID)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(m) {
			t.Fatalf("message: got %+v, %v\nwant %+v", got, err, m)
		}
		if got, err := b.Store.GetChunk(ctx, m.ID, 1); err != nil || got != c {
			t.Fatalf("chunk 1: got %+v, %v; want %+v", got, err, c)
		}
	}
	// nothing fails if m, its chunk or a body under key is stored.
	nothing := func(t *testing.T, m meshserver.Message, key string) {
		t.Helper()
		if _, err := b.Store.GetMessage(ctx, m.ID); !errors.Is(err, meshserver.ErrNotFound) {
			t.Fatalf("message of a refused send: got %v, want ErrNotFound", err)
		}
		if _, err := b.Blobs.Size(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("body of a refused send: got %v, want blob.ErrNotFound", err)
		}
	}

	t.Run("inline body is a row of the blobs table", func(t *testing.T) {
		m := next(rcvMailbox.ID, "WF")
		m.Checksum, m.ContentType, m.ContentEncoding, m.Encrypted, m.Compressed, m.PartnerID = "md5:x", "text/plain", "gzip", "Y", "N", "p"
		c := chunk1(m)
		tok := toks.next(sndMailbox)
		if err := s.Send(ctx, meshserver.SendParams{Token: tok, Message: m, Chunk: c, Body: []byte("abc")}); err != nil {
			t.Fatal(err)
		}
		stored(t, m, c)
		// The other handle's payload store reads it under the chunk's key.
		if got := readBlob(t, b.Blobs, c.BlobKey); string(got) != "abc" {
			t.Fatalf("inline body through Blobs: got %q, want %q", got, "abc")
		}
		wantRecorded(t, b.Store, tok)
	})

	t.Run("empty inline body", func(t *testing.T) {
		m := next(rcvMailbox.ID, "WF")
		m.Size = 0
		c := chunk1(m)
		if err := s.Send(ctx, meshserver.SendParams{Token: toks.next(sndMailbox), Message: m, Chunk: c, Body: []byte{}}); err != nil {
			t.Fatal(err)
		}
		if got := readBlob(t, b.Blobs, c.BlobKey); len(got) != 0 {
			t.Fatalf("empty body: got %q", got)
		}
	})

	t.Run("body stored by the caller", func(t *testing.T) {
		m := next(rcvMailbox.ID, "WF")
		c := chunk1(m)
		if err := s.Send(ctx, meshserver.SendParams{Message: m, Chunk: c}); err != nil {
			t.Fatal(err)
		}
		stored(t, m, c)
		if _, err := b.Blobs.Size(ctx, c.BlobKey); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("no body given, yet one is kept: got %v", err)
		}
	})

	t.Run("first chunk of an upload", func(t *testing.T) {
		m := next(rcvMailbox.ID, "WF")
		m.Status, m.TotalChunks, m.ExpiresAt = meshserver.StatusUploading, 3, time.Time{}
		c := chunk1(m)
		if err := s.Send(ctx, meshserver.SendParams{Token: toks.next(sndMailbox), Message: m, Chunk: c, Body: []byte("abc")}); err != nil {
			t.Fatal(err)
		}
		stored(t, m, c)
	})

	for _, tt := range []struct {
		name   string
		to, wf string
	}{
		{"recipient unknown", "X26ZZZ9", "WF"},
		{"recipient inactive", offMailbox.ID, "WF"},
		{"recipient does not take the workflow", sndMailbox.ID, "OTHER"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := next(tt.to, tt.wf)
			c := chunk1(m)
			tok := toks.next(sndMailbox)
			err := s.Send(ctx, meshserver.SendParams{Token: tok, Message: m, Chunk: c, Body: []byte("abc")})
			wantErr(t, "Send", err, meshserver.ErrRecipient)
			if !meshserver.TokenRecorded(err) {
				t.Fatalf("TokenRecorded(%v) is false, want true", err)
			}
			nothing(t, m, c.BlobKey)
			wantRecorded(t, b.Store, tok) // the request was answered: its token is spent
		})
	}

	t.Run("routing failure with its report", func(t *testing.T) {
		m := next("", "WF")
		m.Status, m.StatusCode, m.StatusEvent, m.StatusDescription = meshserver.StatusError, "20", "SEND", "no practice"
		m.ExpiresAt = time.Time{}
		n++
		rep := meshserver.Message{ID: msgID(n), MessageType: meshserver.TypeReport, Recipient: sndMailbox.ID, WorkflowID: "WF",
			LinkedMsgID: m.ID, LocalID: m.LocalID, Status: meshserver.StatusAccepted, StatusCode: "20", StatusEvent: "SEND",
			StatusDescription: "no practice", CreatedAt: t0, StatusAt: t0}
		c := chunk1(m)
		if err := s.Send(ctx, meshserver.SendParams{Token: toks.next(sndMailbox), Message: m, Chunk: c, Body: []byte("abc"), Report: &rep}); err != nil {
			t.Fatal(err)
		}
		stored(t, m, c)
		if got, err := b.Store.GetMessage(ctx, rep.ID); err != nil || fmt.Sprint(got) != fmt.Sprint(rep) {
			t.Fatalf("report: got %+v, %v\nwant %+v", got, err, rep)
		}
	})

	t.Run("id taken", func(t *testing.T) {
		m := next(rcvMailbox.ID, "WF")
		createMessages(t, s, m)
		again := chunk1(m)
		again.BlobKey += "-again"
		tok := toks.next(sndMailbox)
		err := b.Store.Send(ctx, meshserver.SendParams{Token: tok, Message: m, Chunk: again, Body: []byte("xyz")})
		wantErr(t, "Send of a taken id", err, meshserver.ErrConflict)
		if meshserver.TokenRecorded(err) {
			t.Fatalf("TokenRecorded(%v) is true, want false (nothing changed)", err)
		}
		if _, err := b.Blobs.Size(ctx, again.BlobKey); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("body of the refused send: got %v, want blob.ErrNotFound", err)
		}
		wantNotRecorded(t, s, tok)
	})

	t.Run("body larger than InlineMax", func(t *testing.T) {
		m := next(rcvMailbox.ID, "WF")
		c := chunk1(m)
		big := []byte(strings.Repeat("x", int(s.InlineMax())+1))
		if err := s.Send(ctx, meshserver.SendParams{Message: m, Chunk: c, Body: big}); err == nil {
			t.Fatal("Send of a body over InlineMax succeeded")
		}
		nothing(t, m, c.BlobKey)
		if s.InlineMax() <= 0 || s.InlineMax() != b.Store.InlineMax() {
			t.Fatalf("InlineMax: %d and %d, want one positive figure", s.InlineMax(), b.Store.InlineMax())
		}
	})

	t.Run("invalid blob key", func(t *testing.T) {
		m := next(rcvMailbox.ID, "WF")
		c := chunk1(m)
		c.BlobKey = "../escape"
		if err := s.Send(ctx, meshserver.SendParams{Message: m, Chunk: c, Body: []byte("abc")}); err == nil {
			t.Fatal("Send with an invalid blob key succeeded")
		}
		if _, err := b.Store.GetMessage(ctx, m.ID); !errors.Is(err, meshserver.ErrNotFound) {
			t.Fatalf("message of a refused send: got %v, want ErrNotFound", err)
		}
	})
}

// runMeshUpload checks RequestStore.UploadChunk.
func runMeshUpload(t *testing.T, open func(t *testing.T) (a, b MeshBackend)) {
	t.Run("chunk by chunk", func(t *testing.T) {
		a, _ := open(t)
		uploadInOrder(t, a.Store)
	})
	t.Run("from two handles at once: completed once", func(t *testing.T) {
		a, b := open(t)
		ctx := t.Context()
		const chunks = 20
		m := message(msgID(1), "A", "B", "WF")
		m.Status, m.TotalChunks, m.Size = meshserver.StatusUploading, chunks, 100
		if err := a.Store.CreateMessage(ctx, m, &meshserver.Chunk{MessageID: m.ID, Number: 1, Size: 100, BlobKey: "k1"}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		accepted := 0
		for n := 2; n <= chunks; n++ {
			st := []meshserver.Store{a.Store, b.Store}[n%2]
			wg.Go(func() {
				res, err := st.UploadChunk(ctx, meshserver.UploadChunkParams{Sender: "A",
					Chunk: meshserver.Chunk{MessageID: m.ID, Number: n, Size: 100, BlobKey: fmt.Sprintf("k%d", n)},
					Now:   t0.Add(time.Minute), ExpiresAt: t0.Add(time.Hour)})
				if err != nil {
					t.Error(err)
					return
				}
				if res.Message.Status == meshserver.StatusAccepted {
					mu.Lock()
					accepted++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		got, err := b.Store.GetMessage(ctx, m.ID)
		if err != nil || got.Status != meshserver.StatusAccepted || got.Size != 100*chunks || accepted != 1 {
			t.Fatalf("after concurrent chunks: got %s size %d (%v), accepted by %d callers; want accepted size %d by 1",
				got.Status, got.Size, err, accepted, 100*chunks)
		}
	})
}

// uploadInOrder uploads chunks of a message of three, checking each step.
func uploadInOrder(t *testing.T, s meshserver.Store) {
	ctx := t.Context()
	m := message(msgID(1), "A", "B", "WF")
	m.Status, m.TotalChunks, m.Size, m.ExpiresAt = meshserver.StatusUploading, 3, 10, time.Time{}
	if err := s.CreateMessage(ctx, m, &meshserver.Chunk{MessageID: m.ID, Number: 1, Size: 10, BlobKey: "c1"}); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Minute)
	upload := func(sender string, n int, key string) (meshserver.UploadChunkResult, error) {
		return s.UploadChunk(ctx, meshserver.UploadChunkParams{Sender: sender,
			Chunk: meshserver.Chunk{MessageID: m.ID, Number: n, Size: 10, BlobKey: key}, Now: later, ExpiresAt: later.Add(time.Hour)})
	}
	tests := []struct {
		name     string
		sender   string
		n        int
		key      string
		want     error
		status   string
		size     int64
		replaced string
	}{
		{"chunk 3 of 3", "A", 3, "c3", nil, meshserver.StatusUploading, 20, ""},
		{"chunk 3 again replaces it", "A", 3, "c3b", nil, meshserver.StatusUploading, 20, "c3"},
		{"chunk 3 again, same key", "A", 3, "c3b", nil, meshserver.StatusUploading, 20, ""},
		{"another sender's message", "C", 2, "x", meshserver.ErrNotFound, "", 0, ""},
		{"the last chunk completes it", "A", 2, "c2", nil, meshserver.StatusAccepted, 30, ""},
		{"a chunk once complete", "A", 2, "x", meshserver.ErrConflict, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := upload(tt.sender, tt.n, tt.key)
			wantErr(t, "UploadChunk", err, tt.want)
			if err != nil {
				return
			}
			got := res.Message
			if got.ID != m.ID || got.Status != tt.status || got.Size != tt.size || res.Replaced != tt.replaced {
				t.Fatalf("got %s %s size %d replaced %q; want %s size %d replaced %q", got.ID, got.Status, got.Size, res.Replaced, tt.status, tt.size, tt.replaced)
			}
			if stored, err := s.GetMessage(ctx, m.ID); err != nil || fmt.Sprint(stored) != fmt.Sprint(got) {
				t.Fatalf("stored: got %+v, %v\nwant what UploadChunk returned: %+v", stored, err, got)
			}
		})
	}
	got, _ := s.GetMessage(ctx, m.ID)
	if !got.StatusAt.Equal(later) || !got.ExpiresAt.Equal(later.Add(time.Hour)) {
		t.Fatalf("completed message: status at %v expires %v; want %v and an hour later", got.StatusAt, got.ExpiresAt, later)
	}
	if c, _ := s.GetChunk(ctx, m.ID, 3); c.BlobKey != "c3b" {
		t.Fatalf("chunk 3 key: got %q, want c3b", c.BlobKey)
	}
	_, err := s.UploadChunk(ctx, meshserver.UploadChunkParams{Sender: "A", Chunk: meshserver.Chunk{MessageID: "NOPE", Number: 2, BlobKey: "x"}, Now: later})
	wantErr(t, "chunk of an unknown message", err, meshserver.ErrNotFound)
}
