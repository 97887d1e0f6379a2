package cli

import "context"

func runMeshServer(_ context.Context, env *Env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fs := newFlagSet(env, "mesh-server", "Usage: gpcm mesh-server\n\nNot built yet.\n\nExamples:\n  gpcm mesh-server --help\n")
		return parseFlags(fs, env, args)
	}
	return notBuilt("gpcm mesh-server", "MESH server")
}
