package cli

import "context"

func runSendDoc(_ context.Context, env *Env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fs := newFlagSet(env, "senddoc", "Usage: gpcm senddoc\n\nNot built yet.\n\nExamples:\n  gpcm senddoc --help\n")
		return parseFlags(fs, env, args)
	}
	return notBuilt("gpcm senddoc", "ITK3 and Send Document")
}
