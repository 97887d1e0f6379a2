package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/gpcm/gpcm/senddoc"
)

const senddocHelp = `
Usage: gpcm senddoc <command> [flags]

Build GP Connect Send Document messages (ITK3 event ITK007C) from a JSON
description of the report.

Commands:
  example   print a complete sample input (the JSON that build reads)
  build     build the ITK3 message (and its MESH envelope) from an input

Run "gpcm senddoc <command> --help" for the flags of each.

Examples:
  gpcm senddoc example > report.json
  gpcm senddoc example --use-case online-consultation --generation 2
  gpcm senddoc build --in report.json --out message.xml
  gpcm senddoc build --in report.json --pdf consultation.pdf --out message.json --json
  gpcm senddoc build --in report.json --out OUT/msg.dat --ctl OUT/msg.ctl
`

const senddocExampleHelp = `
Usage: gpcm senddoc example [--use-case NAME] [--generation 1|2]

Print a complete sample input for "gpcm senddoc build": patient, clinician,
authoring organisation, registered practice, encounter and clinical notes
sections (no PDF: build renders one from the sections). The people and the
NHS number are test data.

Use cases: consultation-summary (default), online-consultation, generic.
Generation 1 sends on MESH workflow GPFED_CONSULT_REPORT; generation 2 on
GPCONNECT_SEND_DOCUMENT with a SNOMED care setting.

Examples:
  gpcm senddoc example > report.json
  gpcm senddoc example --use-case generic --generation 2 | jq .documentType
`

const senddocBuildHelp = `
Usage: gpcm senddoc build --in FILE [--pdf FILE] --out FILE [--json] [--ctl FILE]

Build the ITK3 Send Document message described by the input JSON (see
"gpcm senddoc example"). Without --pdf (and without "pdf" in the input) the
consultation report PDF is rendered from the input's sections following the
NHS layout. The message is validated before it is written; the MESH values
to send it with (workflow, Mex-To, Mex-Subject, Mex-LocalID) are printed on
standard error, or written as a MESH client control file with --ctl.

"-" as --in reads standard input; "-" as --out writes standard output.
Exit status: 0 written, 1 the input is invalid or building failed, 2 usage.

Examples:
  gpcm senddoc build --in report.json --out message.xml
  gpcm senddoc build --in report.json --pdf consultation.pdf --out message.xml
  gpcm senddoc build --in report.json --out message.json --json
  gpcm senddoc build --in report.json --out OUT/report.dat --ctl OUT/report.ctl
  gpcm senddoc example | gpcm senddoc build --in - --out - | gpcm validate -
`

func runSendDoc(ctx context.Context, env *Env, args []string) error {
	return runGroup(ctx, env, "senddoc", senddocHelp, args, map[string]func(context.Context, *Env, []string) error{
		"example": func(_ context.Context, env *Env, args []string) error { return runSendDocExample(env, args) },
		"build":   runSendDocBuild,
	})
}

// runGroup runs a subcommand of a command group ("gpcm NAME SUB …"): with
// no argument it prints the group's help on stderr (exit 2); -h, --help
// and help print it on standard output.
func runGroup(ctx context.Context, env *Env, name, help string, args []string, subs map[string]func(context.Context, *Env, []string) error) error {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, trimHelp(help))
		return &exitError{code: ExitUsage}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(env.Stdout, trimHelp(help))
		return nil
	}
	run, ok := subs[args[0]]
	if !ok {
		return usagef("gpcm "+name+" --help", "%s: unknown command %q", name, args[0])
	}
	return run(ctx, env, args[1:])
}

func trimHelp(s string) string { return string(bytes.TrimSpace([]byte(s))) }

func runSendDocExample(env *Env, args []string) error {
	fs := newFlagSet(env, "senddoc example", senddocExampleHelp)
	uc := fs.String("use-case", string(senddoc.UseCaseConsultation), "consultation-summary, online-consultation or generic")
	gen := fs.Int("generation", 1, "1 (GPFED_CONSULT_REPORT) or 2 (GPCONNECT_SEND_DOCUMENT)")
	cmdlineOnlyRest(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	switch senddoc.UseCase(*uc) {
	case senddoc.UseCaseConsultation, senddoc.UseCaseOnline, senddoc.UseCaseGeneric:
	default:
		return usagef("gpcm senddoc example --help", "senddoc example: unknown --use-case %q", *uc)
	}
	if *gen != 1 && *gen != 2 {
		return usagef("gpcm senddoc example --help", "senddoc example: --generation must be 1 or 2")
	}
	in := senddoc.Example(senddoc.UseCase(*uc), *gen)
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(in)
}

func runSendDocBuild(ctx context.Context, env *Env, args []string) error {
	const cmd = "senddoc build"
	fs := newFlagSet(env, cmd, senddocBuildHelp)
	bf := addBuildFlags(fs, "the report")
	pdfPath := fs.String("pdf", "", "a ready-made PDF report to send instead of rendering one")
	if err := bf.parse(fs, env, cmd, args); err != nil {
		return err
	}
	var in senddoc.Input
	if err := bf.read(env, cmd, func(r io.Reader) (err error) { in, err = senddoc.ReadInput(r); return err }); err != nil {
		return err
	}
	if *pdfPath != "" {
		pdf, err := os.ReadFile(*pdfPath)
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		in.PDF = pdf
	}
	built, err := senddoc.Build(in, senddoc.BuildOptions{RenderPDF: senddoc.RenderReport})
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	data, err := bf.encode(built.Message.Bundle)
	if err != nil {
		return fmt.Errorf("%s: writing the message: %w", cmd, err)
	}
	rep, err := senddoc.ValidateBytes(ctx, data, senddoc.Options{Mesh: meshOf(built.Envelope)})
	if err != nil || !rep.Conformant() {
		return fmt.Errorf("%s: the built message does not validate (a bug in gpcm): %v %v", cmd, err, rep.Findings)
	}
	return bf.write(env, cmd, data, built.Envelope.ControlFile, built.Envelope, built.HeaderID, built.DocumentID)
}
