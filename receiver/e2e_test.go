package receiver_test

import (
	"slices"
	"testing"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

// TestBuiltMessagesFiled sends builder messages of every use case and both
// generations; each is filed and answered with exactly one InfAck 20013 and
// one BusAck 30001 on the generation's _ACK workflow.
func TestBuiltMessagesFiled(t *testing.T) {
	e := MustEnv(t, nil)
	type sent struct {
		name string
		b    *senddoc.Built
	}
	var all []sent
	for _, gen := range []int{senddoc.GenerationV1, senddoc.GenerationV2} {
		for _, uc := range []senddoc.UseCase{senddoc.UseCaseConsultation, senddoc.UseCaseOnline, senddoc.UseCaseGeneric} {
			in := example(uc, gen)
			e.register(t, regOf(in))
			b := mustBuild(t, in)
			e.sendBuilt(t, b)
			all = append(all, sent{string(uc) + "/v" + string(rune('0'+gen)), b})
		}
	}
	e.run(t)
	e.readAcks(t)
	for _, s := range all {
		t.Run(s.name, func(t *testing.T) {
			got := e.codes(s.b.HeaderID)
			want := []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}
			if !slices.Equal(got, want) {
				t.Fatalf("acks for %s: got %v, want %v", s.b.HeaderID, got, want)
			}
			_, wantWF := senddoc.WorkflowFor(map[bool]int{true: 2, false: 1}[s.b.Envelope.WorkflowID == senddoc.WorkflowV2])
			for _, a := range e.acks[s.b.HeaderID] {
				if a.workflow != wantWF {
					t.Errorf("ack workflow: got %s, want %s", a.workflow, wantWF)
				}
			}
		})
	}
	docs, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{State: receiver.DocAwaitingFiling})
	if err != nil || len(docs) != len(all) {
		t.Fatalf("awaiting filing: got %d, %v; want %d", len(docs), err, len(all))
	}
	for _, d := range docs {
		if d.Subject == "" || d.TypeLabel == "" || len(d.Attachments) == 0 || !d.ForAction {
			t.Errorf("document %d: subject/type/attachments/for action missing: %+v", d.ID, d)
		}
		if _, err := e.rcv.FileDocumentBy(t.Context(), d.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing more is sent on later rounds.
	e.run(t)
	e.readAcks(t)
	for _, s := range all {
		if n := len(e.acks[s.b.HeaderID]); n != 2 {
			t.Errorf("%s: %d acks after a second round, want 2", s.name, n)
		}
	}
}
