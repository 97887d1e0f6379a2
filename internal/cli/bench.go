package cli

import "context"

func runBench(_ context.Context, env *Env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fs := newFlagSet(env, "bench", "Usage: gpcm bench\n\nNot built yet.\n\nExamples:\n  gpcm bench --help\n")
		return parseFlags(fs, env, args)
	}
	return notBuilt("gpcm bench", "MESH server")
}
