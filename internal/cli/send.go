package cli

import "context"

func runSend(_ context.Context, env *Env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fs := newFlagSet(env, "send", "Usage: gpcm send\n\nNot built yet.\n\nExamples:\n  gpcm send --help\n")
		return parseFlags(fs, env, args)
	}
	return notBuilt("gpcm send", "Sender")
}
