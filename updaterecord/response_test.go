package updaterecord_test

import (
	"testing"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/updaterecord"
)

var responseCases = []struct {
	name   string
	id     string
	sev    updaterecord.Severity
	code   itk3.ResponseCode // the response's own code
	mutate func(m msg)
	opts   func(o *updaterecord.Options)
}{
	{name: "conformant InfAck", code: 20013},
	{name: "conformant BusAck", code: 30001},
	{name: "conformant negative", code: 20009},
	{name: "UR-B03 ack on the message workflow", id: "UR-B03", sev: E, code: 20013, opts: func(o *updaterecord.Options) { o.Mesh.WorkflowID = updaterecord.Workflow }},
	{name: "UR-C04 event from another system", id: "UR-C04", sev: E, code: 20013, mutate: func(m msg) { m.header().Event.System = fhir.NewURI("urn:x") }},
	{name: "UR-C05 response sender missing", id: "UR-C05", sev: E, code: 20013, mutate: func(m msg) { m.header().Sender = nil }},
	{name: "UR-C12 response asks for an InfAck", id: "UR-C12", sev: E, code: 30001, mutate: func(m msg) { m.handling("InfAckRequested").Value = fhir.NewBoolean(true) }},
	{name: "UR-C11 response asks for a BusAck", id: "UR-C11", sev: E, code: 30001, mutate: func(m msg) { m.handling("BusAckRequested").Value = fhir.NewBoolean(true) }},
	{name: "UR-C15 SenderReference not echoed", id: "UR-C15", sev: E, code: 20013, mutate: func(m msg) { m.handling("SenderReference").Value = fhir.NewString("other") }},
	{name: "ITK3-RESP identifier is not the original MessageHeader", id: updaterecord.RuleITK3Response, sev: E, code: 20013, mutate: func(m msg) {
		m.header().Response.Identifier = fhir.NewID("5f0e0d0c-0b0a-4999-8888-777766665555")
	}},
	{name: "ITK3-RESP response.code disagrees", id: updaterecord.RuleITK3Response, sev: E, code: 20009, mutate: func(m msg) { m.header().Response.Code = fhir.NewCode("ok") }},
	{name: "ITK3-RESP business code outside Update Record", id: updaterecord.RuleITK3Response, sev: W, code: 30016},
	{name: "UR-F03 negative without diagnostics", id: "UR-F03", sev: E, code: 20009, mutate: func(m msg) {
		m.b.Entry[2].Resource.(*fhir.OperationOutcome).Issue[0].Diagnostics = nil
	}},
}

// TestResponses checks ITK3 responses to a built Update Record against it.
func TestResponses(t *testing.T) {
	b := MustBuild(t, updaterecord.Example(updaterecord.UseCaseContraception))
	orig := mustValidate(t, mustXML(t, b.Message.Bundle), updaterecord.Options{})
	for _, tc := range responseCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := itk3.NewResponse(itk3.ResponseParams{Code: tc.code, OriginalHeaderID: b.HeaderID, SenderReference: orig.SenderReference,
				ResponderODS: "B82005", ResponderMailbox: "B82005OT001", Diagnostics: "UR-D04 at Bundle.entry[2]", Now: time.Date(2026, 11, 24, 10, 5, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			if tc.mutate != nil {
				tc.mutate(msg{r.Bundle})
			}
			opts := updaterecord.Options{Original: &orig, Mesh: &updaterecord.MeshMetadata{Transport: "api", WorkflowID: updaterecord.WorkflowAck,
				From: "B82005OT001", To: "FX123OT001", LocalID: "B82005"}}
			if tc.opts != nil {
				tc.opts(&opts)
			}
			rep := mustValidate(t, mustXML(t, r.Bundle), opts)
			if rep.Kind != updaterecord.KindResponse || rep.ResponseTo != b.HeaderID && tc.id != updaterecord.RuleITK3Response {
				t.Errorf("kind %s responds to %s", rep.Kind, rep.ResponseTo)
			}
			if tc.id == "" {
				for _, f := range rep.Findings {
					t.Errorf("finding: %s", f)
				}
				return
			}
			found := false
			for _, f := range rep.Findings {
				found = found || (f.Requirement == tc.id && f.Severity == tc.sev)
			}
			if !found {
				t.Errorf("no %s %s finding\n%s", tc.sev, tc.id, dump(rep))
			}
		})
	}
}
