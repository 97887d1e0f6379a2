package receiver_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

// TestBatchSameAsOneAtATime sends a sequence whose outcomes depend on the
// messages before it (repeats, replacements, a chain, a replacement sent
// before its target) and processes it once one message per claim and once
// all in one batch: every message gets the same responses and the worklist
// ends the same.
func TestBatchSameAsOneAtATime(t *testing.T) {
	type row struct {
		name string
		// send sends the row's message(s), given those of earlier rows,
		// and returns the response.identifier its acks carry.
		send func(t *testing.T, e *env, earlier map[string]*senddoc.Built) string
		want []itk3.ResponseCode
	}
	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	replacing := func(t *testing.T, target *senddoc.Built, version int) *senddoc.Built {
		t.Helper()
		r := in
		r.Version, r.Replaces = version, &senddoc.Replacement{DocumentID: target.DocumentID}
		return mustBuild(t, r)
	}
	rows := []row{
		{name: "GPCM-SD-CS-044 original 30001", want: []itk3.ResponseCode{20013, 30001},
			send: func(t *testing.T, e *env, m map[string]*senddoc.Built) string {
				m["orig"] = mustBuild(t, in)
				e.sendBuilt(t, m["orig"])
				return m["orig"].HeaderID
			}},
		{name: "repeated message 20007 (answered to the original's id)", want: []itk3.ResponseCode{20007},
			send: func(t *testing.T, e *env, m map[string]*senddoc.Built) string {
				e.sendBuilt(t, m["orig"])
				return "" // shares the original's response.identifier
			}},
		{name: "repeated document 20008", want: []itk3.ResponseCode{20008},
			send: func(t *testing.T, e *env, m map[string]*senddoc.Built) string {
				b := m["orig"] // sent already: the same document, new message ids
				reID(b)
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "GPCM-SD-033 replacement of the original", want: []itk3.ResponseCode{20013, 30001},
			send: func(t *testing.T, e *env, m map[string]*senddoc.Built) string {
				m["v2"] = replacing(t, m["orig"], 2)
				e.sendBuilt(t, m["v2"])
				return m["v2"].HeaderID
			}},
		{name: "GPCM-SD-036 replacement of the replacement", want: []itk3.ResponseCode{20013, 30001},
			send: func(t *testing.T, e *env, m map[string]*senddoc.Built) string {
				b := replacing(t, m["v2"], 3)
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "GPCM-SD-034 replacement sent before its target 20014", want: []itk3.ResponseCode{20014},
			send: func(t *testing.T, e *env, m map[string]*senddoc.Built) string {
				m["later"] = mustBuild(t, in)
				b := replacing(t, m["later"], 2)
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "the target sent after its replacement 30001", want: []itk3.ResponseCode{20013, 30001},
			send: func(t *testing.T, e *env, m map[string]*senddoc.Built) string {
				e.sendBuilt(t, m["later"])
				return m["later"].HeaderID
			}},
		{name: "unknown patient 30002", want: []itk3.ResponseCode{20013, 30002},
			send: func(t *testing.T, e *env, m map[string]*senddoc.Built) string {
				o := in
				o.Patient.NHSNumber = "9434765870"
				b := mustBuild(t, o)
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "GPCM-SD-041 unreadable 10009", want: []itk3.ResponseCode{10009},
			send: func(t *testing.T, e *env, m map[string]*senddoc.Built) string {
				e.send(t, []byte(`<Bundle xmlns="http://hl7.org/fhir"><id value="1"/><entry>`), senddoc.WorkflowV1, "x")
				return itk3.UnreadableIdentifier
			}},
	}
	type result struct {
		codes  [][]itk3.ResponseCode
		states []receiver.DocumentState
	}
	run := func(t *testing.T, batch int) result {
		e := MustEnv(t, func(c *receiver.Config) { c.Batch = batch })
		e.register(t, regOf(in))
		earlier := map[string]*senddoc.Built{}
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.send(t, e, earlier)
		}
		e.run(t)
		e.readAcks(t)
		var res result
		for _, id := range ids {
			got := e.codes(id)
			slices.Sort(got)
			res.codes = append(res.codes, got)
		}
		docs, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			res.states = append(res.states, d.State)
		}
		return res
	}
	one := run(t, 1)
	all := run(t, 50)
	for i, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			want := r.want
			if i == 0 {
				want = []itk3.ResponseCode{20007, 20013, 30001} // with the repeat's answer
			}
			if i == 1 {
				return // checked with the original
			}
			if !slices.Equal(one.codes[i], want) || !slices.Equal(all.codes[i], want) {
				t.Errorf("acks: one at a time %v, in one batch %v; want %v", one.codes[i], all.codes[i], want)
			}
		})
	}
	wantStates := []receiver.DocumentState{receiver.DocReplaced, receiver.DocReplaced, receiver.DocAwaitingFiling, receiver.DocAwaitingFiling, receiver.DocNotFiled}
	if !slices.Equal(one.states, wantStates) || !slices.Equal(all.states, wantStates) {
		t.Errorf("worklist states: one at a time %v, in one batch %v; want %v", one.states, all.states, wantStates)
	}
}

// stealingStore lets another worker take over one claimed message just
// before the receiver records its batch, as when a lease ran out.
type stealingStore struct {
	receiver.Store
	once  sync.Once
	steal func(ctx context.Context)
}

func (s *stealingStore) CompleteMessages(ctx context.Context, ps []receiver.CompleteParams) ([]receiver.Document, error) {
	s.once.Do(func() { s.steal(ctx) })
	return s.Store.CompleteMessages(ctx, ps)
}

// TestLostClaimInsideBatch: the rest of the batch is recorded, the lost
// message is left to the worker that took it, and once that worker's
// lease runs out it is processed here — every message answered once.
func TestLostClaimInsideBatch(t *testing.T) {
	ss := &stealingStore{}
	e := MustEnv(t, func(c *receiver.Config) {
		ss.Store = c.Store
		c.Store, c.Batch, c.Lease = ss, 10, time.Minute
	})
	var stolen []receiver.Message
	ss.steal = func(ctx context.Context) {
		var err error
		stolen, err = e.store.ClaimMessages(ctx, receiver.ClaimParams{Owner: "other", Now: e.clock.Now().Add(2 * time.Minute), Lease: time.Minute, Limit: 1})
		if err != nil || len(stolen) != 1 {
			t.Errorf("steal: got %d, %v", len(stolen), err)
		}
	}
	var hdrs []string
	for i := range 4 {
		in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
		in.Patient.NHSNumber = []string{"9434765919", "9434765870", "9434765846", "9434765862"}[i]
		e.register(t, regOf(in))
		b := mustBuild(t, in)
		e.sendBuilt(t, b)
		hdrs = append(hdrs, b.HeaderID)
	}
	if err := e.rcv.RunOnce(t.Context()); !errors.Is(err, receiver.ErrConflict) {
		t.Fatalf("first round: got %v, want the lost claim reported (ErrConflict)", err)
	}
	counts, _ := e.store.CountMessages(t.Context())
	if counts[receiver.MessageAccepted] != 3 || counts[receiver.MessageReceived] != 1 {
		t.Fatalf("after the first round: got %v, want 3 accepted and the stolen one received", counts)
	}
	e.clock.Advance(5 * time.Minute) // the other worker's lease ran out
	e.run(t)
	e.readAcks(t)
	for _, h := range hdrs {
		if got := e.codes(h); len(got) != 2 {
			t.Errorf("%s: got acks %v, want one InfAck and one BusAck", h, got)
		}
	}
	if m, _ := e.store.GetMessage(t.Context(), stolen[0].ID); m.State != receiver.MessageAccepted || m.Attempts != 3 {
		t.Errorf("stolen message: state %s after %d claims, want accepted after 3", m.State, m.Attempts)
	}
	docs, _ := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{})
	if len(docs) != 4 {
		t.Fatalf("documents: got %d, want 4", len(docs))
	}
}

// TestPayloadPlacement: a message up to InlineMax is kept in the Store with
// its metadata, a larger one in the blob store; processing and attachment
// downloads read either.
func TestPayloadPlacement(t *testing.T) {
	rows := []struct {
		name      string
		inlineMax int64
		inline    bool
	}{
		{name: "small message inline", inlineMax: 0, inline: true},
		{name: "larger than InlineMax to the blob store", inlineMax: 1000, inline: false},
		{name: "InlineMax negative: always the blob store", inlineMax: -1, inline: false},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			e := MustEnv(t, func(c *receiver.Config) { c.InlineMax = r.inlineMax })
			in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
			e.register(t, regOf(in))
			meshID := e.sendBuilt(t, mustBuild(t, in))
			e.run(t)
			_, perr := e.store.MessagePayload(t.Context(), meshID)
			_, berr := e.blobs.Size(t.Context(), "receiver/messages/"+meshID)
			if (perr == nil) != r.inline || (berr == nil) == r.inline {
				t.Fatalf("payload in the store: %v, in the blob store: %v; want inline %v", perr, berr, r.inline)
			}
			docs, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{})
			if err != nil || len(docs) != 1 || docs[0].State != receiver.DocAwaitingFiling {
				t.Fatalf("documents: got %+v, %v", docs, err)
			}
			_, rc, err := e.rcv.OpenAttachment(t.Context(), docs[0].ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(b, senddoc.ExamplePDF()) {
				t.Fatalf("attachment: got %d bytes, %v; want the example PDF", len(b), err)
			}
		})
	}
}
