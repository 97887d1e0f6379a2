package senddoc_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gpcm/gpcm/senddoc"
)

// MustBuild builds the example for a use case and generation with a fixed
// clock and returns its XML and MESH metadata.
func MustBuild(tb testing.TB, uc senddoc.UseCase, gen int) ([]byte, *senddoc.Built) {
	tb.Helper()
	in := senddoc.Example(uc, gen)
	in.PDF = senddoc.ExamplePDF()
	b, err := senddoc.Build(in, senddoc.BuildOptions{Now: func() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) }})
	if err != nil {
		tb.Fatalf("Build: %v", err)
	}
	x, err := b.XML()
	if err != nil {
		tb.Fatalf("XML: %v", err)
	}
	return x, b
}

func meshOf(b *senddoc.Built) *senddoc.MeshMetadata {
	e := b.Envelope
	return &senddoc.MeshMetadata{Transport: "api", WorkflowID: e.WorkflowID, From: e.From, To: e.To, Subject: e.Subject, LocalID: e.LocalID}
}

func TestBuildValidateRoundTrip(t *testing.T) {
	for _, uc := range []senddoc.UseCase{senddoc.UseCaseConsultation, senddoc.UseCaseOnline, senddoc.UseCaseGeneric} {
		for _, gen := range []int{1, 2} {
			for _, transport := range []string{"api", "ctl"} {
				t.Run(fmt.Sprintf("%s/v%d/%s", uc, gen, transport), func(t *testing.T) {
					x, b := MustBuild(t, uc, gen)
					m := meshOf(b)
					m.Transport = transport
					rep, err := senddoc.Validate(context.Background(), bytes.NewReader(x), senddoc.Options{Mesh: m})
					if err != nil {
						t.Fatal(err)
					}
					for _, f := range rep.Findings {
						t.Errorf("finding: %s", f)
					}
					if rep.UseCase != uc || rep.Generation != gen || rep.MessageHeaderID != b.HeaderID || !rep.Usable {
						t.Errorf("got use case %s gen %d header %s usable %v, want %s %d %s true", rep.UseCase, rep.Generation, rep.MessageHeaderID, rep.Usable, uc, gen, b.HeaderID)
					}
				})
			}
		}
	}
}
