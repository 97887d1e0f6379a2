package cli

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/senddoc"
)

// buildFlags are the flags every "gpcm CAPABILITY build" takes.
type buildFlags struct {
	in, out, ctl string
	json         bool
}

// addBuildFlags declares --in, --out, --json and --ctl; what names the
// input ("the report").
func addBuildFlags(fs *flag.FlagSet, what string) *buildFlags {
	b := &buildFlags{}
	fs.StringVar(&b.in, "in", "", "input JSON describing "+what+" (- for standard input)")
	fs.StringVar(&b.out, "out", "", "where to write the message (- for standard output)")
	fs.BoolVar(&b.json, "json", false, "write the message as FHIR JSON instead of FHIR XML")
	fs.StringVar(&b.ctl, "ctl", "", "also write a MESH client control file (.ctl) for the message")
	return b
}

// parse parses args and checks that --in and --out are there and nothing
// else is.
func (b *buildFlags) parse(fs *flag.FlagSet, env *Env, cmd string, args []string) error {
	cmdlineOnlyRest(fs) // what to build, and where to: this invocation only
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if b.in == "" || b.out == "" {
		return usagef("gpcm "+cmd+" --help", "%s: --in and --out are required", cmd)
	}
	if fs.NArg() > 0 {
		return usagef("gpcm "+cmd+" --help", "%s: unexpected argument %q", cmd, fs.Arg(0))
	}
	return nil
}

// read opens --in and hands it to read; errors name the command and the
// file.
func (b *buildFlags) read(env *Env, cmd string, read func(io.Reader) error) error {
	r, done, err := openIn(env, b.in)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	defer done()
	if err := read(r); err != nil {
		return fmt.Errorf("%s: %s: %w", cmd, b.in, err)
	}
	return nil
}

// encode writes the message in the format asked for.
func (b *buildFlags) encode(msg fhir.Resource) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if b.json {
		err = fhir.EncodeJSON(&buf, msg, nil)
	} else {
		err = fhir.EncodeXML(&buf, msg, nil)
	}
	return buf.Bytes(), err
}

// write writes the message and, with --ctl, its control file, then prints
// the MESH values to send it with on stderr.
func (b *buildFlags) write(env *Env, cmd string, data []byte, controlFile func() ([]byte, error), e senddoc.Envelope, headerID, documentID string) error {
	if err := writeOut(env, cmd, b.out, data); err != nil {
		return err
	}
	if b.ctl != "" {
		ctl, err := controlFile()
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		if err := writeOut(env, cmd, b.ctl, ctl); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stderr, "Mex-WorkflowID: %s\nMex-From: %s\nMex-To: %s\nMex-Subject: %s\nMex-LocalID: %s\nMessageHeader.id: %s\nDocument id: %s\n",
		e.WorkflowID, e.From, e.To, e.Subject, e.LocalID, headerID, documentID)
	return nil
}

// meshOf is the MESH metadata a built message is sent with over the API.
func meshOf(e senddoc.Envelope) *senddoc.MeshMetadata {
	return &senddoc.MeshMetadata{Transport: "api", WorkflowID: e.WorkflowID, From: e.From, To: e.To, Subject: e.Subject, LocalID: e.LocalID}
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
