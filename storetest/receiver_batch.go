package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gpcm/gpcm/receiver"
)

// runReceiverBatch checks the batch methods of a receiver.Store: inline
// payloads, MESH-id lookup, CompleteMessages (in order, stopping at the
// first refused item and committing the items before it) and MarkAcksSent.
func runReceiverBatch(t *testing.T, open func(t *testing.T) receiver.Store) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	lease := time.Minute

	// recordClaim records n messages B0..Bn-1 and claims them for owner a.
	recordClaim := func(t *testing.T, s receiver.Store, n int) []receiver.Message {
		t.Helper()
		var ps []receiver.RecordMessageParams
		for i := range n {
			id := fmt.Sprintf("B%d", i)
			ps = append(ps, receiver.RecordMessageParams{MeshID: id, WorkflowID: "GPFED_CONSULT_REPORT", From: "X26ABC1", To: "X26ABC2",
				BlobKey: "k/" + id, ReceivedAt: t0})
		}
		if _, err := s.RecordMessages(t.Context(), ps); err != nil {
			t.Fatal(err)
		}
		ms, err := s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: "a", Now: t0, Lease: lease, Limit: n})
		if err != nil || len(ms) != n {
			t.Fatalf("ClaimMessages: got %d, %v; want %d", len(ms), err, n)
		}
		return ms
	}
	ack := func(kind receiver.AckKind, code int) receiver.NewAck {
		return receiver.NewAck{Kind: kind, Code: code, To: "X26ABC1", WorkflowID: "GPFED_CONSULT_REPORT_ACK", HeaderID: fmt.Sprint("h-", kind, code), Body: []byte("<Bundle/>")}
	}
	// accept is an accepted outcome with header key hdr and document doc
	// (replacing replaces when not "").
	accept := func(m receiver.Message, hdr, doc, replaces string) receiver.CompleteParams {
		return receiver.CompleteParams{ID: m.ID, Owner: "a", Now: t0, State: receiver.MessageAccepted, HeaderID: hdr, InfAckCode: 20013,
			Keys: []string{"header:" + hdr}, Acks: []receiver.NewAck{ack(receiver.AckInf, 20013), ack(receiver.AckBus, 30001)},
			Document: &receiver.NewDocument{DocumentID: doc, MessageBundleID: "mb-" + hdr, State: receiver.DocAwaitingFiling, Subject: "s",
				TypeLabel: "Report", RecipientType: "FA", ReplacesIdentifier: replaces}}
	}

	t.Run("inline payloads", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		body := bytes.Repeat([]byte("<Bundle/>"), 1000)
		if _, err := s.RecordMessages(ctx, []receiver.RecordMessageParams{
			{MeshID: "P1", BlobKey: "k/P1", Size: int64(len(body)), ReceivedAt: t0, Payload: body},
			{MeshID: "P2", BlobKey: "k/P2", Size: 5, ReceivedAt: t0},
			{MeshID: "P3", BlobKey: "k/P3", ReceivedAt: t0, Payload: []byte{}},
		}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.MessagePayload(ctx, "P1"); err != nil || !bytes.Equal(got, body) {
			t.Fatalf("MessagePayload(P1): got %d bytes, %v; want %d", len(got), err, len(body))
		}
		if got, err := s.MessagePayload(ctx, "P3"); err != nil || len(got) != 0 {
			t.Fatalf("MessagePayload(P3 empty): got %q, %v", got, err)
		}
		for _, id := range []string{"P2", "nope"} {
			if _, err := s.MessagePayload(ctx, id); !errors.Is(err, receiver.ErrNotFound) {
				t.Fatalf("MessagePayload(%s): got %v, want ErrNotFound", id, err)
			}
		}
		ms, err := s.ClaimMessages(ctx, receiver.ClaimParams{Owner: "a", Now: t0, Lease: lease, Limit: 10})
		if err != nil || len(ms) != 3 || !bytes.Equal(ms[0].Payload, body) || ms[1].Payload != nil {
			t.Fatalf("ClaimMessages: want P1 with its payload and P2 without, got %d, %v", len(ms), err)
		}
	})

	t.Run("known MESH ids", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		recordClaim(t, s, 3)
		if err := s.MarkMeshAcked(ctx, "B1"); err != nil {
			t.Fatal(err)
		}
		got, err := s.KnownMeshIDs(ctx, []string{"B0", "B1", "nope"})
		if err != nil || len(got) != 2 || got["B0"] || !got["B1"] {
			t.Fatalf("KnownMeshIDs: got %v, %v; want B0 not acknowledged, B1 acknowledged", got, err)
		}
		if got, err := s.KnownMeshIDs(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("KnownMeshIDs(nil): got %v, %v", got, err)
		}
	})

	type step struct {
		// ps builds the batch from the claimed messages.
		ps func(ms []receiver.Message) []receiver.CompleteParams
		// done is how many items the call must record; want the error of
		// the item after them (nil: all recorded).
		done int
		want error
	}
	rows := []struct {
		name  string
		n     int
		steal int // message index another owner takes over before the batch; -1 none
		steps []step
		// docs is the number of documents at the end; replaced those
		// archived.
		docs, replaced int
	}{
		{name: "all recorded in order", n: 3, steal: -1, docs: 3, steps: []step{{
			ps: func(ms []receiver.Message) []receiver.CompleteParams {
				return []receiver.CompleteParams{accept(ms[0], "H0", "D0", ""), accept(ms[1], "H1", "D1", ""), accept(ms[2], "H2", "D2", "")}
			}, done: 3}}},
		{name: "repeat of an earlier item stops there, then goes on rejected", n: 3, steal: -1, docs: 2, steps: []step{{
			ps: func(ms []receiver.Message) []receiver.CompleteParams {
				return []receiver.CompleteParams{accept(ms[0], "H0", "D0", ""), accept(ms[1], "H0", "D1", ""), accept(ms[2], "H2", "D2", "")}
			}, done: 1, want: receiver.ErrDuplicateMessage}, {
			ps: func(ms []receiver.Message) []receiver.CompleteParams {
				return []receiver.CompleteParams{{ID: ms[1].ID, Owner: "a", Now: t0, State: receiver.MessageRejected, InfAckCode: 20007,
					Acks: []receiver.NewAck{ack(receiver.AckInf, 20007)}}, accept(ms[2], "H2", "D2", "")}
			}, done: 2}}},
		{name: "document of an earlier item leaves no keys behind", n: 2, steal: -1, docs: 1, steps: []step{{
			ps: func(ms []receiver.Message) []receiver.CompleteParams {
				return []receiver.CompleteParams{accept(ms[0], "H0", "D0", ""), accept(ms[1], "H1", "D0", "")}
			}, done: 1, want: receiver.ErrDuplicateDocument}, {
			// The refused item's key H1 was rolled back: it is free.
			ps: func(ms []receiver.Message) []receiver.CompleteParams {
				p := accept(ms[1], "H1", "", "")
				p.State, p.InfAckCode, p.Document, p.Acks = receiver.MessageRejected, 20008, nil, []receiver.NewAck{ack(receiver.AckInf, 20008)}
				return []receiver.CompleteParams{p}
			}, done: 1}}},
		{name: "GPCM-SD-033 replacement of an earlier item archives it", n: 2, steal: -1, docs: 2, replaced: 1, steps: []step{{
			ps: func(ms []receiver.Message) []receiver.CompleteParams {
				return []receiver.CompleteParams{accept(ms[0], "H0", "D0", ""), accept(ms[1], "H1", "D1", "D0")}
			}, done: 2}}},
		{name: "GPCM-SD-034 replacement of a later item is unknown", n: 2, steal: -1, docs: 0, steps: []step{{
			ps: func(ms []receiver.Message) []receiver.CompleteParams {
				return []receiver.CompleteParams{accept(ms[0], "H0", "D0", "D1"), accept(ms[1], "H1", "D1", "")}
			}, done: 0, want: receiver.ErrReplacementTarget}}},
		{name: "lost claim inside the batch", n: 3, steal: 1, docs: 1, steps: []step{{
			ps: func(ms []receiver.Message) []receiver.CompleteParams {
				return []receiver.CompleteParams{accept(ms[0], "H0", "D0", ""), accept(ms[1], "H1", "D1", ""), accept(ms[2], "H2", "D2", "")}
			}, done: 1, want: receiver.ErrConflict}}},
	}
	t.Run("complete batch", func(t *testing.T) {
		for _, r := range rows {
			t.Run(r.name, func(t *testing.T) {
				s := open(t)
				ctx := t.Context()
				ms := recordClaim(t, s, r.n)
				if r.steal >= 0 {
					// Release then claim by b: b holds the message now.
					if err := s.ReleaseMessage(ctx, receiver.ReleaseParams{ID: ms[r.steal].ID, Owner: "a", RetryAt: t0}); err != nil {
						t.Fatal(err)
					}
					if got, err := s.ClaimMessages(ctx, receiver.ClaimParams{Owner: "b", Now: t0, Lease: lease, Limit: 1}); err != nil || len(got) != 1 || got[0].ID != ms[r.steal].ID {
						t.Fatalf("steal: got %+v, %v", got, err)
					}
				}
				for i, st := range r.steps {
					ps := st.ps(ms)
					docs, err := s.CompleteMessages(ctx, ps)
					if len(docs) != st.done || !errors.Is(err, st.want) || (st.want == nil) != (err == nil) {
						t.Fatalf("step %d: got %d recorded, %v; want %d, %v", i, len(docs), err, st.done, st.want)
					}
					for j, d := range docs {
						if (ps[j].Document != nil) != (d.ID != 0) || (d.ID != 0 && d.MessageID != ps[j].ID) {
							t.Fatalf("step %d item %d: document %+v for message %d", i, j, d, ps[j].ID)
						}
					}
					// Recorded items are accepted or rejected with their acks;
					// the refused one and those after it are untouched.
					for j, p := range ps {
						m, err := s.GetMessage(ctx, p.ID)
						if err != nil {
							t.Fatal(err)
						}
						acks, _ := s.ListAcks(ctx, p.ID)
						switch {
						case j < st.done && (m.State != p.State || len(acks) != len(p.Acks)):
							t.Fatalf("step %d item %d recorded: state %s with %d acks, want %s with %d", i, j, m.State, len(acks), p.State, len(p.Acks))
						case j >= st.done && (m.State != receiver.MessageReceived || len(acks) != 0):
							t.Fatalf("step %d item %d not recorded: state %s with %d acks, want received with none", i, j, m.State, len(acks))
						}
					}
				}
				counts, err := s.CountDocuments(ctx)
				if err != nil {
					t.Fatal(err)
				}
				total := 0
				for _, n := range counts {
					total += n
				}
				if total != r.docs || counts[receiver.DocReplaced] != r.replaced {
					t.Fatalf("documents: got %v, want %d with %d replaced", counts, r.docs, r.replaced)
				}
			})
		}
	})

	t.Run("mark acks sent", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		ms := recordClaim(t, s, 2)
		if docs, err := s.CompleteMessages(ctx, []receiver.CompleteParams{accept(ms[0], "H0", "D0", ""), accept(ms[1], "H1", "D1", "")}); err != nil || len(docs) != 2 {
			t.Fatalf("CompleteMessages: %d, %v", len(docs), err)
		}
		acks, err := s.ClaimAcks(ctx, receiver.ClaimParams{Owner: "a", Now: t0, Lease: lease, Limit: 10})
		if err != nil || len(acks) != 2 {
			t.Fatalf("ClaimAcks: want the two InfAcks, got %d, %v", len(acks), err)
		}
		sent := []receiver.AckSent{{ID: acks[0].ID, MeshID: "S0"}, {ID: acks[1].ID, MeshID: "S1"}, {ID: 99999, MeshID: "S9"}}
		if err := s.MarkAcksSent(ctx, sent, t0); err != nil {
			t.Fatal(err)
		}
		// Marking again changes nothing (the first MESH id stays).
		if err := s.MarkAcksSent(ctx, []receiver.AckSent{{ID: acks[0].ID, MeshID: "other"}}, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkAcksSent(ctx, nil, t0); err != nil {
			t.Fatal(err)
		}
		got, _ := s.ListAcks(ctx, ms[0].ID)
		if len(got) != 2 || got[0].MeshID != "S0" || !got[0].SentAt.Equal(t0) {
			t.Fatalf("acks of message 0: got %+v", got)
		}
		bus, _ := s.ClaimAcks(ctx, receiver.ClaimParams{Owner: "a", Now: t0, Lease: lease, Limit: 10})
		if len(bus) != 2 || bus[0].Kind != receiver.AckBus || bus[1].Kind != receiver.AckBus {
			t.Fatalf("after the InfAcks were sent: want the two BusAcks claimable, got %+v", bus)
		}
		sentCodes, pending, err := s.CountAcks(ctx)
		if err != nil || pending != 2 || sentCodes[20013] != 2 {
			t.Fatalf("CountAcks: got %v %d %v", sentCodes, pending, err)
		}
	})
}
