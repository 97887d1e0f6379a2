package receiver_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

func composition(tb testing.TB, b *senddoc.Built) *fhir.Composition {
	tb.Helper()
	for _, e := range b.Message.Bundle.Entry {
		if doc, ok := e.Resource.(*fhir.Bundle); ok {
			for _, de := range doc.Entry {
				if c, ok := de.Resource.(*fhir.Composition); ok {
					return c
				}
			}
		}
	}
	tb.Fatal("no Composition in built message")
	return nil
}

// reID gives a built message new message identifiers (Bundle.id,
// Bundle.identifier, MessageHeader.id) keeping the document.
func reID(b *senddoc.Built) {
	b.Message.Bundle.ID = fhir.NewID(itk3.NewUUID())
	b.Message.Bundle.Identifier.Value = fhir.NewString(itk3.NewUUID())
	b.HeaderID = itk3.NewUUID()
	b.Message.Header.ID = fhir.NewID(b.HeaderID)
}

// TestOutcomes sends one message per row and checks the responses the
// sender gets (by MessageHeader.response.identifier) and the worklist.
func TestOutcomes(t *testing.T) {
	cs := func() senddoc.Input { return example(senddoc.UseCaseConsultation, senddoc.GenerationV1) }
	type row struct {
		name string
		// send sends the message(s) and returns the response.identifier
		// the acks must carry.
		send  func(t *testing.T, e *env) string
		want  []itk3.ResponseCode
		state receiver.DocumentState // "" means no document
		// diag, when set, must appear in the negative InfAck's diagnostics.
		diag string
	}
	rows := []row{
		{name: "GPCM-SD-CS-044 registered patient 30001", want: []itk3.ResponseCode{20013, 30001}, state: receiver.DocAwaitingFiling,
			send: func(t *testing.T, e *env) string {
				in := cs()
				e.register(t, regOf(in))
				b := mustBuild(t, in)
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "recently deceased 30004", want: []itk3.ResponseCode{20013, 30004}, state: receiver.DocAwaitingFiling,
			send: func(t *testing.T, e *env) string {
				in := cs()
				p := regOf(in)
				p.Status, p.DeathDate = receiver.StatusDeceased, e.clock.Now().AddDate(0, -1, 0).Format("2006-01-02")
				e.register(t, p)
				b := mustBuild(t, in)
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "patient left 30003", want: []itk3.ResponseCode{20013, 30003}, state: receiver.DocNotFiled,
			send: func(t *testing.T, e *env) string {
				in := cs()
				p := regOf(in)
				p.Status = receiver.StatusLeft
				e.register(t, p)
				b := mustBuild(t, in)
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "unknown patient 30002", want: []itk3.ResponseCode{20013, 30002}, state: receiver.DocNotFiled,
			send: func(t *testing.T, e *env) string {
				b := mustBuild(t, cs())
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "demographics mismatch held without BusAck", want: []itk3.ResponseCode{20013}, state: receiver.DocHeld,
			send: func(t *testing.T, e *env) string {
				in := cs()
				p := regOf(in)
				p.BirthDate = "1960-02-03"
				e.register(t, p)
				b := mustBuild(t, in)
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "GPCM-SD-041 invalid XML 10009 unreadable", want: []itk3.ResponseCode{10009},
			send: func(t *testing.T, e *env) string {
				e.send(t, []byte(`<Bundle xmlns="http://hl7.org/fhir"><id value="1"/><entry>`), senddoc.WorkflowV1, "x")
				return itk3.UnreadableIdentifier
			}},
		{name: "unreadable binary 10009", want: []itk3.ResponseCode{10009},
			send: func(t *testing.T, e *env) string {
				e.send(t, []byte{0x1f, 0x8b, 0, 1, 2, 3, 0xff, 0xfe}, senddoc.WorkflowV2, "x")
				return itk3.UnreadableIdentifier
			}},
		{name: "invalid FHIR 10009", want: []itk3.ResponseCode{10009},
			send: func(t *testing.T, e *env) string {
				e.send(t, []byte(`<Bundle xmlns="http://hl7.org/fhir"><id value="1"/><notAnElement value="2"/></Bundle>`), senddoc.WorkflowV1, "x")
				return itk3.UnreadableIdentifier
			}},
		{name: "GPCM-SD-042 payload validation failure 20009 with diagnostics", want: []itk3.ResponseCode{20009}, diag: "GPCM-SD-",
			send: func(t *testing.T, e *env) string {
				in := cs()
				e.register(t, regOf(in))
				b := mustBuild(t, in)
				composition(t, b).Title = nil
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "FHIR-RR-01 wrong recipient 20002", want: []itk3.ResponseCode{20002},
			send: func(t *testing.T, e *env) string {
				in := cs()
				e.register(t, regOf(in))
				b := mustBuild(t, in)
				b.Message.Header.Destination = append(b.Message.Header.Destination, &fhir.MessageHeaderDestination{Endpoint: fhir.NewURI("X27ABC1")})
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "GPCM-SD-CS-053 destination naming this practice 20006", want: []itk3.ResponseCode{20006},
			send: func(t *testing.T, e *env) string {
				in := cs()
				e.register(t, regOf(in))
				b := mustBuild(t, in)
				b.Message.Header.Destination = append(b.Message.Header.Destination, &fhir.MessageHeaderDestination{Endpoint: fhir.NewURI(practiceMailbox)})
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "duplicate message 20007", want: []itk3.ResponseCode{20007, 20013, 30001}, state: receiver.DocAwaitingFiling,
			send: func(t *testing.T, e *env) string {
				in := cs()
				e.register(t, regOf(in))
				b := mustBuild(t, in)
				e.sendBuilt(t, b)
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "duplicate document 20008", want: []itk3.ResponseCode{20008}, state: receiver.DocAwaitingFiling,
			send: func(t *testing.T, e *env) string {
				in := cs()
				e.register(t, regOf(in))
				b := mustBuild(t, in)
				e.sendBuilt(t, b)
				reID(b)
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
		{name: "GPCM-SD-033 replacement filed and original archived", want: []itk3.ResponseCode{20013, 30001}, state: receiver.DocAwaitingFiling,
			send: func(t *testing.T, e *env) string {
				in := cs()
				e.register(t, regOf(in))
				b1 := mustBuild(t, in)
				e.sendBuilt(t, b1)
				in.Version, in.Replaces = 2, &senddoc.Replacement{DocumentID: b1.DocumentID}
				b2 := mustBuild(t, in)
				e.sendBuilt(t, b2)
				return b2.HeaderID
			}},
		{name: "GPCM-SD-034 replacement of unknown document 20014", want: []itk3.ResponseCode{20014},
			send: func(t *testing.T, e *env) string {
				in := cs()
				e.register(t, regOf(in))
				in.Version, in.Replaces = 2, &senddoc.Replacement{DocumentID: itk3.NewUUID()}
				b := mustBuild(t, in)
				e.sendBuilt(t, b)
				return b.HeaderID
			}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			e := MustEnv(t, nil)
			id := r.send(t, e)
			e.run(t)
			e.readAcks(t)
			got := e.codes(id)
			slices.Sort(got)
			if !slices.Equal(got, r.want) {
				t.Fatalf("acks with response.identifier %s: got %v, want %v", id, got, r.want)
			}
			for _, a := range e.acks[id] {
				if a.resp.Code.Positive() {
					continue
				}
				if a.resp.Diagnostics == "" || (r.diag != "" && !strings.Contains(a.resp.Diagnostics, r.diag)) {
					t.Errorf("negative %s: diagnostics %q, want text containing %q", a.resp.Code, a.resp.Diagnostics, r.diag)
				}
			}
			docs, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{})
			if err != nil {
				t.Fatal(err)
			}
			last := receiver.DocumentState("")
			if len(docs) > 0 {
				last = docs[len(docs)-1].State
			}
			if last != r.state {
				t.Errorf("newest document state: got %q, want %q", last, r.state)
			}
			if strings.HasPrefix(r.name, "GPCM-SD-033") {
				if len(docs) != 2 || docs[0].State != receiver.DocReplaced || !docs[1].Replacement || docs[0].ReplacedByID != docs[1].ID {
					t.Errorf("replacement: got %+v", docs)
				}
			}
		})
	}
}

// TestHeldDocuments checks the three ends of a demographics mismatch: a
// person matches (30001), a person rejects (30002), the deadline passes
// (30002); each sends exactly one BusAck.
func TestHeldDocuments(t *testing.T) {
	e := MustEnv(t, nil)
	var ids []string
	rng := rand.New(rand.NewPCG(7, 7))
	for range 3 {
		in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
		in.Patient.NHSNumber = patient.GenerateTestNHSNumber(rng)
		p := regOf(in)
		p.Given = "Someone"
		e.register(t, p)
		b := mustBuild(t, in)
		e.sendBuilt(t, b)
		ids = append(ids, b.HeaderID)
	}
	e.run(t)
	docs, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{State: receiver.DocHeld})
	if err != nil || len(docs) != 3 {
		t.Fatalf("held: got %d, %v; want 3", len(docs), err)
	}
	if _, err := e.rcv.MatchDocument(t.Context(), docs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rcv.RejectDocument(t.Context(), docs[1].ID, receiver.RejectParams{}); err == nil {
		t.Fatal("reject without a reason accepted")
	}
	if _, err := e.rcv.RejectDocument(t.Context(), docs[1].ID, receiver.RejectParams{Reason: "not this patient", By: "test"}); err != nil {
		t.Fatal(err)
	}
	e.run(t)
	e.readAcks(t)
	if got := e.codes(ids[2]); !slices.Equal(got, []itk3.ResponseCode{20013}) {
		t.Fatalf("before the deadline: got %v, want only 20013", got)
	}
	e.clock.Advance(49 * time.Hour)
	e.run(t)
	e.readAcks(t)
	for i, want := range [][]itk3.ResponseCode{{20013, 30001}, {20013, 30002}, {20013, 30002}} {
		if got := e.codes(ids[i]); !slices.Equal(got, want) {
			t.Errorf("document %d: got %v, want %v", i, got, want)
		}
	}
	wantStates := []receiver.DocumentState{receiver.DocAwaitingFiling, receiver.DocRejected, receiver.DocNotFiled}
	for i, d := range docs {
		got, _ := e.rcv.GetDocument(t.Context(), d.ID)
		if got.State != wantStates[i] {
			t.Errorf("document %d: state %s, want %s", i, got.State, wantStates[i])
		}
	}
	if _, err := e.rcv.MatchDocument(t.Context(), docs[1].ID); err == nil {
		t.Error("matching a rejected document succeeded; a second BusAck would follow")
	}
}
