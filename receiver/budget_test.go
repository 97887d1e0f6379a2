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

// TestResponsiveBehindHostile (issue 23 acceptance): a hostile message (a
// start tag with many attributes) from one sender does not hold up a
// clean report from another sender behind it: the clean one is filed and
// answered while the hostile one is still being read; the hostile one is
// answered with a negative code naming its MessageHeader.id.
func TestResponsiveBehindHostile(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a hostile message")
	}
	// A budget the hostile message never reaches: this is about the
	// others not waiting for it.
	e := MustEnv(t, func(c *receiver.Config) { c.PollInterval, c.ProcessBudget = 20*time.Millisecond, time.Hour })
	hostileSender := mustClient(t, e.mesh, "X27ABC1")
	hin := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	hin.SenderMailbox = "X27ABC1"
	n := 20000 // a third of a second to read today, quadratic in n
	if raceDetector {
		n = 8000
	}
	hb, hx := hostileAttributes(t, hin, n)
	hres, err := hostileSender.Send(t.Context(), mesh.SendRequest{To: practiceMailbox, WorkflowID: hb.Envelope.WorkflowID, Subject: hb.Envelope.Subject,
		LocalID: "X27", Body: bytes.NewReader(hx), Size: int64(len(hx))})
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
	state := func(meshID string) receiver.MessageState {
		m, err := e.store.GetMessageByMeshID(t.Context(), meshID)
		if err != nil {
			return ""
		}
		return m.State
	}
	deadline := time.Now().Add(10 * time.Minute)
	for state(cleanID) != receiver.MessageAccepted && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := state(cleanID); got != receiver.MessageAccepted {
		t.Fatalf("clean report: state %q, want accepted", got)
	}
	if hs := state(hres.MessageID); hs == receiver.MessageReceived {
		t.Logf("the clean report was accepted while the hostile message was still being read")
	} else {
		// The reader has become fast enough to finish the hostile
		// message first: nothing to hold the clean one up.
		t.Logf("the hostile message was answered first (state %s)", hs)
	}
	done := func(s receiver.MessageState) bool {
		return s == receiver.MessageAccepted || s == receiver.MessageRejected
	}
	for !done(state(hres.MessageID)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	e.rcv.Stop()
	e.run(t) // sends what is left
	e.readAcks(t)
	e.readAcksOf(t, hostileSender)
	if got := e.codes(clean.HeaderID); !slices.Equal(got, []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}) {
		t.Errorf("clean report: acks %v, want [20013 30001]", got)
	}
	if got := e.codes(hb.HeaderID); len(got) != 1 || got[0].Positive() {
		t.Errorf("hostile message: acks %v, want one negative InfAck naming its MessageHeader.id", got)
	}
}
