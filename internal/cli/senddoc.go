package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/gpcm/gpcm/fhir"
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
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, trimHelp(senddocHelp))
		return &exitError{code: ExitUsage}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(env.Stdout, trimHelp(senddocHelp))
		return nil
	case "example":
		return runSendDocExample(env, args[1:])
	case "build":
		return runSendDocBuild(ctx, env, args[1:])
	}
	return usagef("gpcm senddoc --help", "senddoc: unknown command %q", args[0])
}

func trimHelp(s string) string { return string(bytes.TrimSpace([]byte(s))) }

func runSendDocExample(env *Env, args []string) error {
	fs := newFlagSet(env, "senddoc example", senddocExampleHelp)
	uc := fs.String("use-case", string(senddoc.UseCaseConsultation), "consultation-summary, online-consultation or generic")
	gen := fs.Int("generation", 1, "1 (GPFED_CONSULT_REPORT) or 2 (GPCONNECT_SEND_DOCUMENT)")
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
	fs := newFlagSet(env, "senddoc build", senddocBuildHelp)
	inPath := fs.String("in", "", "input JSON describing the report (- for standard input)")
	pdfPath := fs.String("pdf", "", "a ready-made PDF report to send instead of rendering one")
	outPath := fs.String("out", "", "where to write the message (- for standard output)")
	asJSON := fs.Bool("json", false, "write the message as FHIR JSON instead of FHIR XML")
	ctlPath := fs.String("ctl", "", "also write a MESH client control file (.ctl) for the message")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *inPath == "" || *outPath == "" {
		return usagef("gpcm senddoc build --help", "senddoc build: --in and --out are required")
	}
	if fs.NArg() > 0 {
		return usagef("gpcm senddoc build --help", "senddoc build: unexpected argument %q", fs.Arg(0))
	}
	r, done, err := openIn(env, *inPath)
	if err != nil {
		return fmt.Errorf("senddoc build: %w", err)
	}
	defer done()
	in, err := senddoc.ReadInput(r)
	if err != nil {
		return fmt.Errorf("senddoc build: %s: %w", *inPath, err)
	}
	if *pdfPath != "" {
		pdf, err := os.ReadFile(*pdfPath)
		if err != nil {
			return fmt.Errorf("senddoc build: %w", err)
		}
		in.PDF = pdf
	}
	built, err := senddoc.Build(in, senddoc.BuildOptions{RenderPDF: senddoc.RenderReport})
	if err != nil {
		return fmt.Errorf("senddoc build: %w", err)
	}
	var buf bytes.Buffer
	if *asJSON {
		err = fhir.EncodeJSON(&buf, built.Message.Bundle, nil)
	} else {
		err = built.WriteXML(&buf)
	}
	if err != nil {
		return fmt.Errorf("senddoc build: writing the message: %w", err)
	}
	env2 := built.Envelope
	rep, err := senddoc.ValidateBytes(ctx, buf.Bytes(), senddoc.Options{Mesh: &senddoc.MeshMetadata{
		Transport: "api", WorkflowID: env2.WorkflowID, From: env2.From, To: env2.To, Subject: env2.Subject, LocalID: env2.LocalID}})
	if err != nil || !rep.Conformant() {
		return fmt.Errorf("senddoc build: the built message does not validate (a bug in gpcm): %v %v", err, rep.Findings)
	}
	if err := writeOut(env, "senddoc build", *outPath, buf.Bytes()); err != nil {
		return err
	}
	if *ctlPath != "" {
		ctl, err := env2.ControlFile()
		if err != nil {
			return fmt.Errorf("senddoc build: %w", err)
		}
		if err := writeOut(env, "senddoc build", *ctlPath, ctl); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stderr, "Mex-WorkflowID: %s\nMex-From: %s\nMex-To: %s\nMex-Subject: %s\nMex-LocalID: %s\nMessageHeader.id: %s\nDocument id: %s\n",
		env2.WorkflowID, env2.From, env2.To, env2.Subject, env2.LocalID, built.HeaderID, built.DocumentID)
	return nil
}

// writeOut writes data to path through a temporary file and a rename, or
// to standard output for "-"; errors start with cmd.
func writeOut(env *Env, cmd, path string, data []byte) error {
	if path == "-" {
		_, err := env.Stdout.Write(data)
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return nil
}

// openIn opens an input file, or standard input for "-".
func openIn(env *Env, path string) (io.Reader, func(), error) {
	if path == "-" {
		return env.Stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}
