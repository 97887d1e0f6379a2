package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

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
	return runGroup(ctx, env, "update-record", updateRecordHelp, args, map[string]func(context.Context, *Env, []string) error{
		"example": func(_ context.Context, env *Env, args []string) error { return runUpdateRecordExample(env, args) },
		"build":   runUpdateRecordBuild,
	})
}

func runUpdateRecordExample(env *Env, args []string) error {
	fs := newFlagSet(env, "update-record example", updateRecordExampleHelp)
	uc := fs.String("use-case", string(updaterecord.UseCasePharmacyFirst), "pharmacy-first, blood-pressure, contraception or urgent-supply")
	cmdlineOnlyRest(fs)
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
	bf := addBuildFlags(fs, "the update")
	if err := bf.parse(fs, env, cmd, args); err != nil {
		return err
	}
	var in updaterecord.Input
	if err := bf.read(env, cmd, func(r io.Reader) (err error) { in, err = updaterecord.ReadInput(r); return err }); err != nil {
		return err
	}
	built, err := updaterecord.Build(in, updaterecord.BuildOptions{})
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	data, err := bf.encode(built.Message.Bundle)
	if err != nil {
		return fmt.Errorf("%s: writing the message: %w", cmd, err)
	}
	rep, err := updaterecord.ValidateBytes(ctx, data, updaterecord.Options{Mesh: meshOf(built.Envelope)})
	if err != nil || !rep.Conformant() {
		return fmt.Errorf("%s: the built message does not validate (a bug in gpcm): %v %v", cmd, err, rep.Findings)
	}
	return bf.write(env, cmd, data, built.ControlFile, built.Envelope, built.HeaderID, built.DocumentID)
}
