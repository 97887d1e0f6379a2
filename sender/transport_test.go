package sender_test

import (
	"errors"
	"testing"

	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
)

// TestTransportFindingsBlockSending: a receiver only warns about MESH
// transport metadata (issue 17 §2), but the sender must not send it wrong:
// a ready message whose Mex-Subject or Mex-LocalID breaks the template is
// refused with the finding.
func TestTransportFindingsBlockSending(t *testing.T) {
	e := mustEnv(t, envOptions{})
	built, err := senddoc.Build(exampleInput(), senddoc.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	xml, err := built.XML()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		edit func(*senddoc.Envelope)
	}{
		{"GPCM-SD-CS-068 subject off template", func(env *senddoc.Envelope) { env.Subject = "A report" }},
		{"GPCM-SD-CS-080 local ID not the ODS code", func(env *senddoc.Envelope) { env.LocalID = "ref-1" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := built.Envelope
			tt.edit(&env)
			_, _, err := e.svc.Submit(t.Context(), sender.Submission{Message: xml, Envelope: &env})
			var ie *sender.InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, want *InvalidError", err)
			}
			id := tt.name[:len("GPCM-SD-CS-068")]
			found := false
			for _, f := range ie.Findings {
				found = found || (f.Requirement == id && f.Transport())
			}
			if !found {
				t.Errorf("findings %v: want a transport finding for %s", ie.Findings, id)
			}
		})
	}
}
