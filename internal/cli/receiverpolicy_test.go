package cli_test

import (
	"strings"
	"testing"
)

// TestReceiverPolicyFlags: the acceptance flags of gpcm receiver and gpcm
// serve (the Update Record setting among them, UR-F08) are in --help and
// refuse bad values as usage errors (exit 2) naming the flag.
func TestReceiverPolicyFlags(t *testing.T) {
	data := t.TempDir()
	for _, cmd := range []string{"receiver", "serve"} {
		code, stdout, _ := runGPCM(t, nil, cmd, "--help")
		for _, want := range []string{"--attachment-types", "-max-message-bytes", "application/pdf,image/jpeg", "20004", "20005", "never rejects", "-process-budget", "-update-record", "auto-file", "20010"} {
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
			{"--update-record", "sometimes"},
		} {
			full := append([]string{cmd, "--data", data}, args...)
			if code, _, stderr := runGPCM(t, nil, full...); code != 2 || !strings.Contains(stderr, args[0]) {
				t.Errorf("%v: exit %d, want 2 naming %s (stderr %q)", full, code, args[0], stderr)
			}
		}
		// The setting also comes from the environment.
		if code, _, stderr := runGPCM(t, map[string]string{"GPCM_UPDATE_RECORD": "sometimes"}, cmd, "--data", data); code != 2 || !strings.Contains(stderr, "update-record") {
			t.Errorf("%s with GPCM_UPDATE_RECORD=sometimes: exit %d, want 2 naming the setting (stderr %q)", cmd, code, stderr)
		}
	}
}
