package cli

import "context"

func runReceiver(_ context.Context, env *Env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fs := newFlagSet(env, "receiver", "Usage: gpcm receiver\n\nNot built yet.\n\nExamples:\n  gpcm receiver --help\n")
		return parseFlags(fs, env, args)
	}
	return notBuilt("gpcm receiver", "Generic FHIR Receiver")
}
