package receiver_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

// hostileAttributes is a built report whose Composition start tag carries
// n attributes (issue 23: the FHIR reader's cost grew with their square).
func hostileAttributes(tb testing.TB, in senddoc.Input, n int) (*senddoc.Built, []byte) {
	tb.Helper()
	b := mustBuild(tb, in)
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, ` a%d="x"`, i)
	}
	x := bytes.Replace(mustXML(tb, b), []byte("<Composition>"), []byte("<Composition"+sb.String()+">"), 1)
	return b, x
}

// TestProcessBudget (issue 23 §2): a message whose reading outlasts
// Config.ProcessBudget is tried once more after a backoff and then
// answered 10009, still correlated by its MessageHeader.id, and counted.
func TestProcessBudget(t *testing.T) {
	e := MustEnv(t, func(c *receiver.Config) { c.ProcessBudget = time.Nanosecond })
	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	e.register(t, regOf(in))
	b := mustBuild(t, in)
	meshID := e.sendBuilt(t, b)
	if err := e.rcv.RunOnce(t.Context()); err == nil {
		t.Fatal("first attempt: want the budget reported")
	}
	if m, err := e.store.GetMessageByMeshID(t.Context(), meshID); err != nil || m.State != receiver.MessageReceived || m.Attempts != 1 {
		t.Fatalf("after the first attempt: %+v, %v; want it given back for another", m, err)
	}
	e.clock.Advance(time.Hour)
	e.run(t)
	e.readAcks(t)
	if got := e.codes(b.HeaderID); !slices.Equal(got, []itk3.ResponseCode{itk3.CodeUnreadableMessage}) {
		t.Fatalf("acks for %s: got %v, want [10009]", b.HeaderID, got)
	}
	if d := e.acks[b.HeaderID][0].resp.Diagnostics; !strings.Contains(d, "processing budget") {
		t.Errorf("diagnostics %q do not name the budget", d)
	}
	var m bytes.Buffer
	if err := e.rcv.WriteMetrics(t.Context(), &m); err != nil || !strings.Contains(m.String(), "gpcm_receiver_messages_over_budget_total 1\n") {
		t.Errorf("metrics (%v):\n%s", err, m.String())
	}
}

// TestResponsiveBehindHostile (issue 23 acceptance): a hostile or slow
// message from one sender does not hold up a clean report from another
// sender behind it. Rows: a start tag with 20 000 attributes (refused fast
// by the reader's cap since the linear reader landed; it took a third of a
// second before), and a valid report with a 24 MiB attachment (slow to
// read, filed), which the clean report overtakes: its document is recorded
// first. Every message is answered, the hostile one negatively by its
// MessageHeader.id.
func TestResponsiveBehindHostile(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a hostile and a large message")
	}
	big := 24 << 20
	if raceDetector {
		big = 8 << 20
	}
	for _, tt := range []struct {
		name string
		make func(t *testing.T, e *env, in senddoc.Input) (*senddoc.Built, []byte)
		ok   bool // the slow message is filed (else refused)
	}{
		{"hostile attributes", func(t *testing.T, _ *env, in senddoc.Input) (*senddoc.Built, []byte) {
			return hostileAttributes(t, in, 20000)
		}, false},
		{"large attachment", func(t *testing.T, e *env, in senddoc.Input) (*senddoc.Built, []byte) {
			e.register(t, regOf(in))
			in.Attachments = []senddoc.Attachment{{Title: "Scan", ContentType: "image/tiff", Data: bytes.Repeat([]byte{0x49, 0x49, 0x2a, 0}, big/4)}}
			b := mustBuild(t, in)
			return b, mustXML(t, b)
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A budget the slow message never reaches: this is about the
			// others not waiting for it.
			e := MustEnv(t, func(c *receiver.Config) { c.PollInterval, c.ProcessBudget = 20*time.Millisecond, time.Hour })
			slowSender := mustClient(t, e.mesh, "X27ABC1")
			sin := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
			sin.SenderMailbox, sin.Patient.NHSNumber = "X27ABC1", "9434765870"
			sb, sx := tt.make(t, e, sin)
			sres, err := slowSender.Send(t.Context(), mesh.SendRequest{To: practiceMailbox, WorkflowID: sb.Envelope.WorkflowID, Subject: sb.Envelope.Subject,
				LocalID: "X27", Body: bytes.NewReader(sx), Size: int64(len(sx))})
			if err != nil {
				t.Fatal(err)
			}
			in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
			e.register(t, regOf(in))
			clean := mustBuild(t, in)
			cleanID := e.sendBuilt(t, clean)

			if err := e.rcv.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			defer e.rcv.Stop()
			done := func(meshID string) bool {
				m, err := e.store.GetMessageByMeshID(t.Context(), meshID)
				return err == nil && (m.State == receiver.MessageAccepted || m.State == receiver.MessageRejected)
			}
			for deadline := time.Now().Add(10 * time.Minute); !(done(cleanID) && done(sres.MessageID)) && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			e.rcv.Stop()
			e.clock.Advance(time.Hour) // past the backoff of an ack Stop cut short
			e.run(t)                   // sends what is left
			e.readAcks(t)
			e.readAcksOf(t, slowSender)
			if got := e.codes(clean.HeaderID); !slices.Equal(got, []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}) {
				t.Errorf("clean report: acks %v, want [20013 30001]", got)
			}
			got := e.codes(sb.HeaderID)
			switch {
			case tt.ok && !slices.Equal(got, []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}):
				t.Errorf("slow report: acks %v, want [20013 30001]", got)
			case !tt.ok && (len(got) != 1 || got[0].Positive()):
				t.Errorf("hostile message: acks %v, want one negative InfAck naming its MessageHeader.id", got)
			}
			if !tt.ok {
				return
			}
			docs, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{})
			if err != nil || len(docs) != 2 {
				t.Fatalf("documents: %d, %v; want 2", len(docs), err)
			}
			if docs[0].HeaderID != clean.HeaderID {
				t.Errorf("the clean report, sent after the slow one from another sender, was recorded after it: documents %s then %s", docs[0].HeaderID, docs[1].HeaderID)
			}
		})
	}
}
