package senddoc_test

import (
	"context"
	"testing"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
)

// TestEveryResponseValidates builds the ITK3 response for every code, to the
// built message and to an unreadable one, and validates it: zero findings.
func TestEveryResponseValidates(t *testing.T) {
	x, b := MustBuild(t, senddoc.UseCaseConsultation, 1)
	orig, err := senddoc.ValidateBytes(context.Background(), x, senddoc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range itk3.Codes() {
		for _, hid := range []string{orig.MessageHeaderID, ""} {
			m, err := itk3.NewResponse(itk3.ResponseParams{Code: code, OriginalHeaderID: hid, SenderReference: orig.SenderReference,
				ResponderODS: "B82005", ResponderMailbox: "B82005OT001", Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			out := &senddoc.Built{Message: m}
			xml, err := out.XML()
			if err != nil {
				t.Fatal(err)
			}
			opts := senddoc.Options{Mesh: &senddoc.MeshMetadata{Transport: "api", WorkflowID: b.Envelope.AckWorkflowID, From: "B82005OT001", To: b.Envelope.From}}
			if hid != "" {
				opts.Original = &orig
			}
			rep, err := senddoc.ValidateBytes(context.Background(), xml, opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Kind != senddoc.KindResponse || len(rep.Findings) > 0 {
				t.Errorf("%s: kind %s findings %v", code, rep.Kind, rep.Findings)
			}
			want := hid
			if want == "" {
				want = itk3.UnreadableIdentifier
			}
			if rep.ResponseTo != want {
				t.Errorf("%s: response.identifier %q, want %q", code, rep.ResponseTo, want)
			}
		}
	}
}
