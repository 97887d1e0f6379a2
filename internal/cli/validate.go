package cli

import "context"

func runValidate(_ context.Context, env *Env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fs := newFlagSet(env, "validate", "Usage: gpcm validate\n\nNot built yet.\n\nExamples:\n  gpcm validate --help\n")
		return parseFlags(fs, env, args)
	}
	return notBuilt("gpcm validate", "ITK3 and Send Document")
}
