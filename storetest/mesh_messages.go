package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
)

// runMeshDownload checks RequestStore.Download: the message, its chunk
// record and, for a body Send kept inline, the body, read by another
// handle than the one that stored them.
func runMeshDownload(t *testing.T, open func(t *testing.T) (a, b MeshBackend)) {
	a, b := open(t)
	ctx := t.Context()
	putMailboxes(t, a.Store)
	inline := message(msgID(1), sndMailbox.ID, rcvMailbox.ID, "WF")
	inline.TotalChunks = 2
	if err := a.Store.Send(ctx, meshserver.SendParams{Message: inline, Chunk: chunk1(inline), Body: []byte("abc")}); err != nil {
		t.Fatal(err)
	}
	empty := message(msgID(2), sndMailbox.ID, rcvMailbox.ID, "WF")
	empty.Size = 0
	if err := a.Store.Send(ctx, meshserver.SendParams{Message: empty, Chunk: chunk1(empty), Body: []byte{}}); err != nil {
		t.Fatal(err)
	}
	outside := message(msgID(3), sndMailbox.ID, rcvMailbox.ID, "WF")
	createMessages(t, a.Store, outside)
	var toks tokens
	tests := []struct {
		name     string
		m        meshserver.Message
		n        int
		token    bool
		want     error
		hasChunk bool
		inline   string // the body, when inline
		isInline bool
	}{
		{name: "inline body", m: inline, n: 1, hasChunk: true, isInline: true, inline: "abc"},
		{name: "inline body with a token", m: inline, n: 1, token: true, hasChunk: true, isInline: true, inline: "abc"},
		{name: "empty inline body", m: empty, n: 1, hasChunk: true, isInline: true},
		{name: "body elsewhere", m: outside, n: 1, token: true, hasChunk: true},
		{name: "missing chunk", m: inline, n: 2, token: true},
		{name: "unknown message", m: message(msgID(99), "", "", ""), n: 1, want: meshserver.ErrNotFound},
		{name: "unknown message with a token", m: message(msgID(99), "", "", ""), n: 1, token: true, want: meshserver.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := meshserver.DownloadParams{ID: tt.m.ID, Chunk: tt.n}
			if tt.token {
				p.Token = toks.next(rcvMailbox)
			}
			got, err := b.Store.Download(ctx, p)
			wantErr(t, "Download", err, tt.want)
			if p.Token != nil {
				if !meshserver.TokenRecorded(err) {
					t.Fatalf("TokenRecorded(%v) is false, want true", err)
				}
				wantRecorded(t, a.Store, p.Token)
			}
			if err != nil {
				return
			}
			if fmt.Sprint(got.Message) != fmt.Sprint(tt.m) {
				t.Errorf("message: got %+v\nwant %+v", got.Message, tt.m)
			}
			want := chunk1(tt.m)
			if got.HasChunk != tt.hasChunk || tt.hasChunk && got.Chunk != want {
				t.Errorf("chunk: got %v %+v, want %v %+v", got.HasChunk, got.Chunk, tt.hasChunk, want)
			}
			if got.Inline != tt.isInline || string(got.Body) != tt.inline || got.Inline && got.Body == nil {
				t.Errorf("body: got inline %v %q (nil %v), want inline %v %q", got.Inline, got.Body, got.Body == nil, tt.isInline, tt.inline)
			}
		})
	}
}

// runMeshAcknowledge checks RequestStore.Acknowledge, by the recipient
// only, once, and from two handles at once.
func runMeshAcknowledge(t *testing.T, open func(t *testing.T) (a, b MeshBackend)) {
	a, b := open(t)
	s := a.Store
	ctx := t.Context()
	putMailboxes(t, s)
	m := message(msgID(1), sndMailbox.ID, rcvMailbox.ID, "WF")
	up := message(msgID(2), sndMailbox.ID, rcvMailbox.ID, "WF")
	up.Status, up.TotalChunks = meshserver.StatusUploading, 2
	createMessages(t, s, m, up)
	at := t0.Add(time.Hour)
	ack := func(mailbox, id string) meshserver.AcknowledgeParams {
		return meshserver.AcknowledgeParams{Mailbox: mailbox, ID: id, Code: "00", Event: "ACK", Description: "Message acknowledged", At: at}
	}
	acked := m
	acked.Status, acked.StatusCode, acked.StatusEvent, acked.StatusDescription = meshserver.StatusAcknowledged, "00", "ACK", "Message acknowledged"
	acked.StatusAt, acked.AckedAt = at, at
	tests := []struct {
		name  string
		p     meshserver.AcknowledgeParams
		want  error
		moved bool
		now   meshserver.Message
	}{
		{name: "by the sender: nothing moves", p: ack(sndMailbox.ID, m.ID), now: m},
		{name: "still uploading: nothing moves", p: ack(rcvMailbox.ID, up.ID), now: up},
		{name: "by the recipient", p: ack(rcvMailbox.ID, m.ID), moved: true, now: acked},
		{name: "again: nothing moves", p: ack(rcvMailbox.ID, m.ID), now: acked},
		{name: "unknown message", p: ack(rcvMailbox.ID, msgID(99)), want: meshserver.ErrNotFound},
	}
	var toks tokens
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := []meshserver.Store{a.Store, b.Store}[i%2]
			tt.p.Token = toks.next(rcvMailbox)
			got, err := st.Acknowledge(ctx, tt.p)
			wantErr(t, "Acknowledge", err, tt.want)
			wantRecorded(t, s, tt.p.Token)
			if err != nil {
				return
			}
			if got.Moved != tt.moved || fmt.Sprint(got.Message) != fmt.Sprint(tt.now) {
				t.Fatalf("got moved %v %+v\nwant moved %v %+v", got.Moved, got.Message, tt.moved, tt.now)
			}
			if stored, _ := s.GetMessage(ctx, tt.p.ID); fmt.Sprint(stored) != fmt.Sprint(tt.now) {
				t.Fatalf("stored: got %+v\nwant %+v", stored, tt.now)
			}
		})
	}
	if n, _ := s.CountInbox(ctx, rcvMailbox.ID); n != 0 {
		t.Fatalf("acknowledged message still counted: %d", n)
	}

	t.Run("two handles at once: one moves it", func(t *testing.T) {
		for round := range 5 {
			m := message(msgID(10+round), sndMailbox.ID, rcvMailbox.ID, "WF")
			createMessages(t, s, m)
			var wg sync.WaitGroup
			res := make([]meshserver.Acknowledged, 6)
			errs := make([]error, len(res))
			for i := range res {
				p := ack(rcvMailbox.ID, m.ID)
				p.Token = toks.next(rcvMailbox)
				st := []meshserver.Store{a.Store, b.Store}[i%2]
				wg.Go(func() { res[i], errs[i] = st.Acknowledge(ctx, p) })
			}
			wg.Wait()
			moved := 0
			for i, r := range res {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if r.Moved {
					moved++
				}
				if r.Message.Status != meshserver.StatusAcknowledged {
					t.Fatalf("round %d: a caller sees %s, want acknowledged", round, r.Message.Status)
				}
			}
			if moved != 1 {
				t.Fatalf("round %d: %d acknowledgements moved the message, want 1", round, moved)
			}
		}
	})
}

// runMeshTrack checks RequestStore.Track.
func runMeshTrack(t *testing.T, open func(t *testing.T) meshserver.Store) {
	s := open(t)
	ctx := t.Context()
	putMailboxes(t, s)
	first := message(msgID(1), sndMailbox.ID, rcvMailbox.ID, "WF")
	second := message(msgID(2), sndMailbox.ID, "X26GONE", "WF")
	second.LocalID = first.LocalID
	theirs := message(msgID(3), rcvMailbox.ID, sndMailbox.ID, "WF")
	theirs.LocalID = first.LocalID
	report := message(msgID(4), sndMailbox.ID, rcvMailbox.ID, "WF")
	report.MessageType, report.LocalID = meshserver.TypeReport, first.LocalID
	createMessages(t, s, first, second, theirs, report)
	rcv := meshserver.Mailbox{ID: rcvMailbox.ID, Name: rcvMailbox.Name, ODSCode: rcvMailbox.ODSCode}
	snd := meshserver.Mailbox{ID: sndMailbox.ID, Name: sndMailbox.Name, ODSCode: sndMailbox.ODSCode}
	tests := []struct {
		name string
		p    meshserver.TrackParams
		want []meshserver.Tracked
	}{
		{"by id", meshserver.TrackParams{Sender: sndMailbox.ID, ID: first.ID}, []meshserver.Tracked{{Message: first, Recipient: rcv, Sender: snd}}},
		{"by local id, in id order, a recipient gone", meshserver.TrackParams{Sender: sndMailbox.ID, LocalID: first.LocalID},
			[]meshserver.Tracked{{Message: first, Recipient: rcv, Sender: snd}, {Message: second, Recipient: meshserver.Mailbox{ID: "X26GONE"}, Sender: snd}}},
		{"another sender's message", meshserver.TrackParams{Sender: sndMailbox.ID, ID: theirs.ID}, nil},
		{"a report is not tracked", meshserver.TrackParams{Sender: sndMailbox.ID, ID: report.ID}, nil},
		{"the id decides when both are given", meshserver.TrackParams{Sender: sndMailbox.ID, ID: second.ID, LocalID: "other"},
			[]meshserver.Tracked{{Message: second, Recipient: meshserver.Mailbox{ID: "X26GONE"}, Sender: snd}}},
	}
	var toks tokens
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Token = toks.next(sndMailbox)
			got, err := s.Track(ctx, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
			wantRecorded(t, s, tt.p.Token)
		})
	}
}
