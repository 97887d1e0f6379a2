package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/gpcm/gpcm/updaterecord"
)

const updateRecordHelp = `
Usage: gpcm update-record <command> [flags]

Build GP Connect Update Record (ITK3) messages: the structured consultation
summary a community pharmacy sends to the patient's GP practice (event
ITK014M, MESH workflow GPCONNECT_UPDATE_RECORD), from a JSON description.

Commands:
  example   print a complete sample input (the JSON that build reads)
  build     build the ITK3 message (and its MESH envelope) from an input

Run "gpcm update-record <command> --help" for the flags of each.

Examples:
  gpcm update-record example > update.json
  gpcm update-record example --use-case blood-pressure
  gpcm update-record build --in update.json --out message.xml
  gpcm update-record build --in update.json --out OUT/msg.dat --ctl OUT/msg.ctl
`

const updateRecordExampleHelp = `
Usage: gpcm update-record example [--use-case pharmacy-first|blood-pressure|contraception|urgent-supply]

Print a complete sample input for "gpcm update-record build": pharmacy,
pharmacist, patient, consultation, the PRSB headings as notes, and the
observations, medicines supplied and presenting complaints of the use case
(default pharmacy-first). The people, the pharmacy and the NHS numbers are
test data; the clinical codes are those the guide uses.

Examples:
  gpcm update-record example > update.json
  gpcm update-record example --use-case contraception | jq .observations
`

const updateRecordBuildHelp = `
Usage: gpcm update-record build --in FILE --out FILE [--json] [--ctl FILE]

Build the ITK3 Update Record message described by the input JSON (see
"gpcm update-record example"). The message is validated before it is
written; the MESH values to send it with (workflow, Mex-To, Mex-Subject,
Mex-LocalID) are printed on standard error, or written as a MESH client
control file with --ctl (its Version is the update's version).

"-" as --in reads standard input; "-" as --out writes standard output.
Exit status: 0 written, 1 the input is invalid or building failed, 2 usage.

Examples:
  gpcm update-record build --in update.json --out message.xml
  gpcm update-record build --in update.json --out message.json --json
  gpcm update-record build --in update.json --out OUT/update.dat --ctl OUT/update.ctl
  gpcm update-record example | gpcm update-record build --in - --out - | gpcm validate -
`

func runUpdateRecord(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, trimHelp(updateRecordHelp))
		return &exitError{code: ExitUsage}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(env.Stdout, trimHelp(updateRecordHelp))
		return nil
	case "example":
		return runUpdateRecordExample(env, args[1:])
	case "build":
		return runUpdateRecordBuild(ctx, env, args[1:])
	}
	return usagef("gpcm update-record --help", "update-record: unknown command %q", args[0])
}

func runUpdateRecordExample(env *Env, args []string) error {
	fs := newFlagSet(env, "update-record example", updateRecordExampleHelp)
	uc := fs.String("use-case", string(updaterecord.UseCasePharmacyFirst), "pharmacy-first, blood-pressure, contraception or urgent-supply")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if !updaterecord.UseCase(*uc).Valid() {
		return usagef("gpcm update-record example --help", "update-record example: unknown --use-case %q", *uc)
	}
	if fs.NArg() > 0 {
		return usagef("gpcm update-record example --help", "update-record example: unexpected argument %q", fs.Arg(0))
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(updaterecord.Example(updaterecord.UseCase(*uc)))
}

func runUpdateRecordBuild(ctx context.Context, env *Env, args []string) error {
	const cmd = "update-record build"
	fs := newFlagSet(env, cmd, updateRecordBuildHelp)
	inPath := fs.String("in", "", "input JSON describing the update (- for standard input)")
	outPath := fs.String("out", "", "where to write the message (- for standard output)")
	asJSON := fs.Bool("json", false, "write the message as FHIR JSON instead of FHIR XML")
	ctlPath := fs.String("ctl", "", "also write a MESH client control file (.ctl) for the message")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *inPath == "" || *outPath == "" {
		return usagef("gpcm update-record build --help", "%s: --in and --out are required", cmd)
	}
	if fs.NArg() > 0 {
		return usagef("gpcm update-record build --help", "%s: unexpected argument %q", cmd, fs.Arg(0))
	}
	r, done, err := openIn(env, *inPath)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	defer done()
	in, err := updaterecord.ReadInput(r)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", cmd, *inPath, err)
	}
	built, err := updaterecord.Build(in, updaterecord.BuildOptions{})
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	var buf bytes.Buffer
	if *asJSON {
		err = built.WriteJSON(&buf)
	} else {
		err = built.WriteXML(&buf)
	}
	if err != nil {
		return fmt.Errorf("%s: writing the message: %w", cmd, err)
	}
	e := built.Envelope
	rep, err := updaterecord.ValidateBytes(ctx, buf.Bytes(), updaterecord.Options{Mesh: &updaterecord.MeshMetadata{
		Transport: "api", WorkflowID: e.WorkflowID, From: e.From, To: e.To, Subject: e.Subject, LocalID: e.LocalID}})
	if err != nil || !rep.Conformant() {
		return fmt.Errorf("%s: the built message does not validate (a bug in gpcm): %v %v", cmd, err, rep.Findings)
	}
	if err := writeOut(env, cmd, *outPath, buf.Bytes()); err != nil {
		return err
	}
	if *ctlPath != "" {
		ctl, err := built.ControlFile()
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		if err := writeOut(env, cmd, *ctlPath, ctl); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stderr, "Mex-WorkflowID: %s\nMex-From: %s\nMex-To: %s\nMex-Subject: %s\nMex-LocalID: %s\nMessageHeader.id: %s\nDocument id: %s\n",
		e.WorkflowID, e.From, e.To, e.Subject, e.LocalID, built.HeaderID, built.DocumentID)
	return nil
}
