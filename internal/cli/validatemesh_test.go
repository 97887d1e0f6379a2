package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gpcm/gpcm/senddoc"
)

// TestValidateMeshMetadataWarns: MESH transport metadata off the template
// (Mex-Subject, Mex-LocalID) is reported as a warning, never as an error,
// and a message otherwise clean stays conformant (exit 0) (issue 17 §2).
func TestValidateMeshMetadataWarns(t *testing.T) {
	in := senddoc.Example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	in.PDF = senddoc.ExamplePDF()
	b, err := senddoc.Build(in, senddoc.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := b.XML()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "m.xml")
	if err := os.WriteFile(file, x, 0o600); err != nil {
		t.Fatal(err)
	}
	env := b.Envelope
	code, stdout, stderr := run(t, "", "validate", "--mesh-workflow", env.WorkflowID, "--mesh-from", env.From, "--mesh-to", env.To,
		"--mesh-subject", "Report", "--mesh-local-id", "ref-1", file)
	if code != 0 {
		t.Fatalf("exit status %d, want 0 (stdout %q, stderr %q)", code, stdout, stderr)
	}
	for _, id := range []string{"GPCM-SD-CS-068", "GPCM-SD-CS-080"} {
		if !regexp.MustCompile(`warning +(\S+:)?` + id + `( \([^)]*\))? MESH\.`).MatchString(stdout) {
			t.Errorf("stdout %q: want %s as a warning", stdout, id)
		}
	}
}
