package cli

import "context"

func runFHIR(_ context.Context, env *Env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fs := newFlagSet(env, "fhir", "Usage: gpcm fhir\n\nNot built yet.\n\nExamples:\n  gpcm fhir --help\n")
		return parseFlags(fs, env, args)
	}
	return notBuilt("gpcm fhir", "Foundation")
}
