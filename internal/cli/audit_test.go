package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/senddoc"
)

// TestAuditMullerCLI: a report for a patient "Müller" builds (the address
// carries the ASCII folding Muller), validates against that address and is
// queued by gpcm send submit (issue 20 item 1, 1.5.2:GPCM-SD-CS-042).
func TestAuditMullerCLI(t *testing.T) {
	dir := t.TempDir()
	in := writeSendInput(t, dir, "muller.json", func(in *senddoc.Input) { in.Patient.Family = "Müller" })
	tests := []struct {
		name string
		args []string
		want string // in stdout or stderr
	}{
		{"1.5.2:GPCM-SD-CS-042 senddoc build", []string{"senddoc", "build", "--in", in, "--out", filepath.Join(dir, "m.dat"),
			"--ctl", filepath.Join(dir, "m.ctl")}, "Mex-To: GPPROVIDER_9434765919_19550109_Muller"},
		{"1.5.2:GPCM-SD-CS-042 validate with the control file", []string{"validate", filepath.Join(dir, "m.ctl")}, ": conformant"},
		{"1.5.2:GPCM-SD-CS-042 send submit", []string{"send", "submit", "--data", filepath.Join(dir, "outbox"), in}, "queued"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tt.args...)
			if code != 0 || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 0 and %q", code, out, errOut, tt.want)
			}
		})
	}
}
