package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gpcm/gpcm/fhir"
)

const fhirHelp = `Usage: gpcm fhir <command> [flags] [arguments]

FHIR STU3 tools.

Commands:
  convert   convert a FHIR resource between XML and JSON

Run "gpcm fhir convert --help" for its flags.

Examples:
  gpcm fhir convert --to json message.xml > message.json
  gpcm fhir convert --to xml --compact message.json
`

const fhirConvertHelp = `Usage: gpcm fhir convert [--to json|xml] [--compact] [FILE|-]

Convert one FHIR STU3 resource between XML and JSON. The input format is
detected from its first character; the output goes to stdout in canonical
STU3 element order, pretty-printed unless --compact. --to defaults to the
other format. Findings (such as elements out of order in the input) are
printed to stderr, one per line. FILE "-" or no FILE reads stdin.

Exit status: 0 converted, 1 converted with findings, 2 unreadable input
(malformed, not FHIR, beyond the size or depth limits) or bad usage.

Examples:
  gpcm fhir convert --to json testdata/examples/consultation_report.xml
  gpcm fhir convert message.json > message.xml
  cat message.xml | gpcm fhir convert --to xml --compact -
`

func runFHIR(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, fhirHelp)
		return &exitError{code: ExitUsage}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fs := newFlagSet(env, "fhir", fhirHelp)
		return parseFlags(fs, env, []string{"--help"})
	case "convert":
		return runFHIRConvert(ctx, env, args[1:])
	}
	return usagef("gpcm fhir --help", "fhir: unknown command %q", args[0])
}

func runFHIRConvert(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "fhir convert", fhirConvertHelp)
	to := fs.String("to", "", "output format: json or xml (default: the other format)")
	compact := fs.Bool("compact", false, "write without indentation")
	cmdlineOnlyRest(fs)
	// flags may come before or after the file name
	var files []string
	for {
		if err := parseFlags(fs, env, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) > 1 {
		return usagef("gpcm fhir convert --help", "fhir convert: one input file at most, got %d", len(files))
	}
	if *to != "" && *to != "json" && *to != "xml" {
		return usagef("gpcm fhir convert --help", "fhir convert: --to must be json or xml, not %q", *to)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	name, in := "stdin", env.Stdin
	if len(files) == 1 && files[0] != "-" {
		f, err := os.Open(files[0])
		if err != nil {
			return &exitError{code: ExitUsage, msg: fmt.Sprintf("fhir convert: %v", err)}
		}
		defer f.Close()
		name, in = files[0], f
	}
	br := bufio.NewReaderSize(in, 64<<10)
	format, err := sniff(br)
	if err != nil {
		return &exitError{code: ExitUsage, msg: fmt.Sprintf("fhir convert: %s: %v", name, err)}
	}
	var (
		res      fhir.Resource
		findings []fhir.Finding
	)
	if format == "xml" {
		res, findings, err = fhir.DecodeXML(br, nil)
	} else {
		res, findings, err = fhir.DecodeJSON(br, nil)
	}
	if err != nil {
		return &exitError{code: ExitUsage, msg: fmt.Sprintf("fhir convert: %s: %v", name, err)}
	}
	out := *to
	if out == "" {
		out = map[string]string{"xml": "json", "json": "xml"}[format]
	}
	opts := &fhir.EncodeOptions{Compact: *compact}
	if out == "xml" {
		err = fhir.EncodeXML(env.Stdout, res, opts)
	} else {
		err = fhir.EncodeJSON(env.Stdout, res, opts)
	}
	if err != nil {
		return fmt.Errorf("fhir convert: %w", err)
	}
	for _, f := range findings {
		fmt.Fprintf(env.Stderr, "%s: %s\n", name, f)
	}
	if len(findings) > 0 {
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("fhir convert: converted %s with %d finding(s)", name, len(findings))}
	}
	return nil
}

// sniff tells XML from JSON by the first character that is not a space or
// byte order mark.
func sniff(br *bufio.Reader) (string, error) {
	for {
		c, err := br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return "", errors.New("input is empty")
			}
			return "", err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case 0xEF: // UTF-8 byte order mark
			if b, err := br.Peek(2); err == nil && b[0] == 0xBB && b[1] == 0xBF {
				br.Discard(2)
				continue
			}
		case '<':
			br.UnreadByte()
			return "xml", nil
		case '{':
			br.UnreadByte()
			return "json", nil
		}
		return "", errors.New("input is neither XML (starts with '<') nor JSON (starts with '{')")
	}
}
