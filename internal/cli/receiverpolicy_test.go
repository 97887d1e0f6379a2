package cli_test

import (
	"strings"
	"testing"
)

// TestReceiverPolicyFlags: the acceptance flags of gpcm receiver and gpcm
// serve are in --help and refuse bad values as usage errors (exit 2)
// naming the flag.
func TestReceiverPolicyFlags(t *testing.T) {
	data := t.TempDir()
	for _, cmd := range []string{"receiver", "serve"} {
		code, stdout, _ := runGPCM(t, nil, cmd, "--help")
		for _, want := range []string{"--attachment-types", "-max-message-bytes", "application/pdf,image/jpeg", "20004", "20005", "never rejects", "-process-budget"} {
			if code != 0 || !strings.Contains(stdout, want) {
				t.Errorf("gpcm %s --help: exit %d, want %q in it", cmd, code, want)
			}
		}
		for _, args := range [][]string{
			{"--attachment-types", ""},
			{"--attachment-types", "pdf"},
			{"--attachment-types", "application/pdf,exe"},
			{"--max-message-bytes", "0"},
			{"--process-budget", "0s"},
		} {
			full := append([]string{cmd, "--data", data}, args...)
			if code, _, stderr := runGPCM(t, nil, full...); code != 2 || !strings.Contains(stderr, args[0]) {
				t.Errorf("%v: exit %d, want 2 naming %s (stderr %q)", full, code, args[0], stderr)
			}
		}
	}
}
