package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Every flag of every command may also come from an environment variable,
// so that a container or service unit can be configured without a command
// line (and without secrets in it, which ps shows). The variable of flag
// --some-name is GPCM_SOME_NAME unless the flag was given another name
// with envName (MESH_URL for --url, as every MESH client names it) or
// marked command-line only with cmdlineOnly (the per-invocation arguments
// of one-shot tools). A flag given on the command line wins over its
// variable; NAME_FILE=path reads the value from a file instead (Docker and
// Kubernetes secrets), without its trailing newline.
//
// parseFlags applies the variables after the command line, so every flag
// defined on a flag set made by newFlagSet gets its variable with no extra
// code, and --help lists each variable beside its flag.

// namedFlag wraps a flag's value to record its variable: name, or none
// when name is "".
type namedFlag struct {
	flag.Value
	name string
}

// IsBoolFlag keeps a wrapped boolean flag usable as a bare --flag.
func (v *namedFlag) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Get implements flag.Getter when the wrapped value does.
func (v *namedFlag) Get() any {
	if g, ok := v.Value.(flag.Getter); ok {
		return g.Get()
	}
	return v.Value.String()
}

func (v *namedFlag) String() string {
	if v == nil || v.Value == nil {
		return ""
	}
	return v.Value.String()
}

// envName gives flag name the variable env instead of GPCM_NAME.
func envName(fs *flag.FlagSet, name, env string) {
	f := fs.Lookup(name)
	if f == nil {
		panic(fmt.Sprintf("cli: envName: %s has no flag --%s", fs.Name(), name))
	}
	if n, ok := f.Value.(*namedFlag); ok {
		n.name = env
		return
	}
	f.Value = &namedFlag{Value: f.Value, name: env}
}

// cmdlineOnly gives the named flags no variable: they describe one
// invocation (an input file, a recipient), not a deployment.
func cmdlineOnly(fs *flag.FlagSet, names ...string) {
	for _, n := range names {
		envName(fs, n, "")
	}
}

// cmdlineOnlyRest makes every flag of fs defined so far that has no
// variable name of its own command-line only: for one-shot tools, after
// the shared connection flags (which keep theirs) and the tool's own.
func cmdlineOnlyRest(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := f.Value.(*namedFlag); !ok {
			f.Value = &namedFlag{Value: f.Value}
		}
	})
}

// flagVar returns the variable of f, "" for none.
func flagVar(f *flag.Flag) string {
	if n, ok := f.Value.(*namedFlag); ok {
		return n.name
	}
	return "GPCM_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
}

// maxFlagFile bounds a NAME_FILE (a PEM bundle is tens of kilobytes).
const maxFlagFile = 1 << 20

// lookupVar returns the value of variable name or the contents of the file
// that name_FILE names; ok is false when neither is set. src names where it
// came from, for errors (never the value: it may be a secret).
func lookupVar(env *Env, name string) (val, src string, ok bool, err error) {
	v, file := env.getenv(name), env.getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		return "", name, false, fmt.Errorf("both %s and %s_FILE are set: keep one", name, name)
	case v != "":
		return v, name, true, nil
	case file == "":
		return "", "", false, nil
	}
	src = name + "_FILE (" + file + ")"
	fh, err := os.Open(file)
	if err != nil {
		return "", src, false, fmt.Errorf("%s_FILE: %w", name, err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxFlagFile+1))
	if err != nil {
		return "", src, false, fmt.Errorf("%s_FILE: %w", name, err)
	}
	if len(b) > maxFlagFile {
		return "", src, false, fmt.Errorf("%s_FILE %s: larger than %d bytes", name, file, maxFlagFile)
	}
	return strings.TrimRight(string(b), "\r\n"), src, true, nil
}

// applyEnv sets every flag of fs not given on the command line from its
// variable, if set.
func applyEnv(fs *flag.FlagSet, env *Env) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := flagVar(f)
		if given[f.Name] || name == "" {
			return
		}
		v, src, ok, err := lookupVar(env, name)
		if err != nil {
			errs = append(errs, err)
			return
		}
		if !ok {
			return
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			v = boolWord(v)
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s (for --%s): invalid value: %v", src, f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// boolWord accepts yes/no and on/off besides what strconv.ParseBool takes,
// as shell configuration often says.
func boolWord(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "y", "on":
		return "true"
	case "no", "n", "off":
		return "false"
	}
	return strings.TrimSpace(v)
}

// printFlags lists the flags of fs, each with its variable, as the help
// text's Flags section.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	if len(flags) == 0 {
		return
	}
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	fmt.Fprintln(w, "\nFlags (a flag on the command line wins over its variable; NAME_FILE=path reads NAME from a file):")
	for _, f := range flags {
		inner := *f
		if n, ok := f.Value.(*namedFlag); ok {
			inner.Value = n.Value
		}
		kind, usage := flag.UnquoteUsage(&inner)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		if v := flagVar(f); v != "" {
			line += "   env " + v
		}
		fmt.Fprintln(w, line)
		if !zeroDefault(f) {
			def := f.DefValue
			if g, ok := inner.Value.(flag.Getter); ok {
				if _, isString := g.Get().(string); isString {
					def = strconv.Quote(def)
				}
			}
			usage += " (default " + def + ")"
		}
		if usage != "" {
			fmt.Fprintln(w, "      "+strings.ReplaceAll(usage, "\n", "\n      "))
		}
	}
}

func zeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s":
		return true
	}
	return false
}
