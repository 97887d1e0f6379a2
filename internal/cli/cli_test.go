package cli_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/internal/cli"
)

// run executes gpcm with args and returns its exit status, stdout and stderr.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := cli.Main(t.Context(), env, args)
	return code, out.String(), errb.String()
}

func TestTopLevel(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "help lists commands", args: []string{"--help"}, wantCode: 0, wantStdout: "mesh-server"},
		{name: "no args is usage", args: nil, wantCode: 2, wantStderr: "Commands:"},
		{name: "version", args: []string{"version"}, wantCode: 0, wantStdout: "gpcm "},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantStderr: `unknown command "frobnicate"`},
		{name: "bad flag is one line", args: []string{"version", "--nope"}, wantCode: 2, wantStderr: "Try: gpcm version --help"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit status: got %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout: got %q, want it to contain %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr, tt.wantStderr)
			}
			if strings.Contains(stderr, "goroutine ") {
				t.Errorf("stderr has a stack trace: %q", stderr)
			}
		})
	}
}

// TestEveryCommandHasHelpWithExamples checks that each subcommand's --help
// exits 0 and shows an Examples block.
func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	_, out, _ := run(t, "", "--help")
	var names []string
	inCmds := false
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Commands:") {
			inCmds = true
			continue
		}
		if inCmds {
			f := strings.Fields(line)
			if len(f) == 0 {
				break
			}
			names = append(names, f[0])
		}
	}
	if len(names) < 5 {
		t.Fatalf("found only %d commands in help: %q", len(names), out)
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			code, stdout, stderr := run(t, "", n, "--help")
			if code != 0 {
				t.Fatalf("gpcm %s --help: exit %d, stderr %q", n, code, stderr)
			}
			if !strings.Contains(stdout, "Examples:") {
				t.Errorf("gpcm %s --help has no Examples block: %q", n, stdout)
			}
		})
	}
}
