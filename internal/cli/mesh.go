package cli

import "context"

func runMesh(_ context.Context, env *Env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fs := newFlagSet(env, "mesh", "Usage: gpcm mesh\n\nNot built yet.\n\nExamples:\n  gpcm mesh --help\n")
		return parseFlags(fs, env, args)
	}
	return notBuilt("gpcm mesh", "MESH client")
}
