// Package cli turns command lines into calls on gpcm's packages: one file per
// subcommand, each with its own flag set, usage text with examples, and a Run
// that returns an error instead of exiting. Flags, environment and config
// files meet here and nowhere else.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// Env is everything a command may touch outside its arguments. Tests fill it
// with buffers and a fake environment; main uses StdEnv.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable; nil means none are set.
	Getenv func(string) string
	// StderrIsTerminal reports whether progress bars may be drawn.
	StderrIsTerminal bool

	// log is set by every command's --log-format and --log-level (or
	// GPCM_LOG_FORMAT and GPCM_LOG_LEVEL) when its flags are parsed.
	log logFlags
	// afterParse, when set (by tests), is called with each flag set once
	// its command line and variables are applied; an error it returns
	// ends the command there.
	afterParse func(*flag.FlagSet) error
}

// StdEnv returns the process's real streams and environment.
func StdEnv() *Env {
	term := false
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		term = true
	}
	return &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, StderrIsTerminal: term}
}

func (e *Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

// Logger returns the logger of long-running commands: on stderr, text or
// JSON lines (--log-format, GPCM_LOG_FORMAT), at the level named by
// --log-level or GPCM_LOG_LEVEL (debug, info, warn, error; default info).
func (e *Env) Logger() *slog.Logger { return e.loggerAt(slog.LevelInfo) }

// loggerAt is Logger with another default level: one-shot commands use
// error so that their output ends in one line unless the user asks for more.
func (e *Env) loggerAt(def slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: def}
	if e.log.level != "" {
		var lvl slog.Level
		if err := lvl.UnmarshalText([]byte(e.log.level)); err == nil {
			opts.Level = lvl
		}
	}
	if e.log.format == "json" {
		return slog.New(slog.NewJSONHandler(e.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.Stderr, opts))
}

// command is one subcommand of gpcm.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands lists the subcommands in the order "gpcm --help" shows them.
func commands() []command {
	return []command{
		{"serve", "run the whole loop on one machine: MESH server, receiver, sender and web UI", runServe},
		{"mesh", "talk to a MESH mailbox: handshake, send, inbox, get, ack, track, lookup", runMesh},
		{"mesh-server", "run a MESH-compatible mailbox server", runMeshServer},
		{"fhir", "FHIR STU3 tools: convert between XML and JSON", runFHIR},
		{"validate", "check ITK3 messages (Send Document, Update Record) and name each broken requirement", runValidate},
		{"senddoc", "build Send Document messages from a JSON description", runSendDoc},
		{"update-record", "build GP Connect Update Record messages (pharmacy to GP) from a JSON description", runUpdateRecord},
		{"users", "manage the web UI's login accounts: add, list, reset, disable, enable", runUsers},
		{"receiver", "run the Generic FHIR Receiver for a practice mailbox", runReceiver},
		{"send", "submit consultation reports to the durable outbox and track their acknowledgements", runSend},
		{"bench", "measure gpcm against a baseline in the same run (MESH server throughput and latency)", runBench},
		{"healthcheck", "exit 0 if a URL answers 2xx (the container image's health check)", runHealthcheck},
		{"version", "print the gpcm version", runVersion},
	}
}

// Exit statuses shared by every subcommand unless its help says otherwise.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// exitError ends a command with a chosen status after printing msg (if any).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageError is a mistake in the command line; hint says how to mend it.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string { return e.msg }

func usagef(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// Main runs gpcm with args (without the program name) and returns the exit status.
func Main(ctx context.Context, env *Env, args []string) int {
	err := dispatch(ctx, env, args)
	return report(env, err)
}

func dispatch(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		printUsage(env.Stderr)
		return &exitError{code: ExitUsage}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(env.Stdout)
		return nil
	case "-version", "--version":
		return runVersion(ctx, env, nil)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	return usagef("gpcm --help", "unknown command %q", args[0])
}

func report(env *Env, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	code, msg, hint := ExitFailure, oneLine(err.Error()), ""
	var ee *exitError
	var ue *usageError
	switch {
	case errors.As(err, &ee):
		code, msg = ee.code, ee.msg
	case errors.As(err, &ue):
		code, msg, hint = ExitUsage, ue.msg, ue.hint
	}
	if env.log.format == "json" {
		// A log collector reads stderr as JSON lines: the last one too.
		if msg != "" {
			args := []any{"exit", code}
			if hint != "" {
				args = append(args, "try", hint)
			}
			env.loggerAt(slog.LevelError).Error("gpcm: "+msg, args...)
		}
		return code
	}
	if msg != "" {
		fmt.Fprintf(env.Stderr, "gpcm: %s\n", msg)
	}
	if hint != "" {
		fmt.Fprintf(env.Stderr, "Try: %s\n", hint)
	}
	return code
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func printUsage(w io.Writer) {
	fmt.Fprint(w, `gpcm - GP Connect Messaging toolkit (MESH, ITK3, Send Document)

Usage:
  gpcm <command> [flags] [arguments]

Commands:
`)
	cs := commands()
	width := 0
	for _, c := range cs {
		width = max(width, len(c.name))
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "gpcm <command> --help" for a command's flags and examples.
`)
}

// newFlagSet returns a flag set for a subcommand whose usage prints help (the
// command's text, with Examples) followed by its flags and their
// variables. Every flag set has --log-format and --log-level.
func newFlagSet(env *Env, name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintln(out, strings.TrimSpace(help))
		printFlags(out, fs)
	}
	env.log.register(fs)
	return fs
}

// parseFlags parses args, then applies the flags' variables (see
// flagenv.go); --help prints usage to stdout and ends with status 0, a bad
// flag ends with a one-line error and status 2.
func parseFlags(fs *flag.FlagSet, env *Env, args []string) error {
	if err := parseArgs(fs, env, args); err != nil {
		return err
	}
	return applyFlagEnv(fs, env)
}

// parseArgs parses the command line only.
func parseArgs(fs *flag.FlagSet, env *Env, args []string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(env.Stdout)
		fs.Usage()
		return flag.ErrHelp
	}
	if err != nil {
		return usagef(fmt.Sprintf("gpcm %s --help", fs.Name()), "%s: %v", fs.Name(), err)
	}
	return nil
}

// applyFlagEnv sets the flags not given from their variables.
func applyFlagEnv(fs *flag.FlagSet, env *Env) error {
	if err := applyEnv(fs, env); err != nil {
		return usagef(fmt.Sprintf("gpcm %s --help", fs.Name()), "%s: %v", fs.Name(), err)
	}
	if env.afterParse != nil {
		return env.afterParse(fs)
	}
	return nil
}
