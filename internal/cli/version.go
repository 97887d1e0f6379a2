package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

const versionHelp = `
Usage: gpcm version

Prints the gpcm version, the VCS revision it was built from and the Go version.

Examples:
  gpcm version
`

// Version is the release version; builds from a checkout report "devel".
var Version = "devel"

func runVersion(_ context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "version", versionHelp)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " (" + s.Value[:12] + ")"
			}
		}
	}
	fmt.Fprintf(env.Stdout, "gpcm %s%s %s\n", Version, rev, runtime.Version())
	return nil
}
