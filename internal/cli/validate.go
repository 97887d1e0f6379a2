package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/updaterecord"
)

const validateHelp = `
Usage: gpcm validate [--format text|json] [flags] FILE... | -

Check ITK3 messages (FHIR STU3 XML or JSON) and name the requirement each
finding breaks, its severity, the FHIR path, a plain-English message and the
ITK3 response code a receiving system would answer with:

  GP Connect Send Document (ITK007C): an ID qualified by catalogue version,
    because v1.3, 1.5.2 and v2 reuse numbers: 1.5.2:GPCM-SD-032
    (v1.3:GPCM-SD-112) for a v1 message, v2:GPCM-SD-112 (1.5.2:GPCM-SD-032)
    for a v2 one (or FHIR-STU3, FHIR-BDL, FHIR-BINDING, ITK3-*, MESH-ADDRESS
    for rules outside the catalogues); the generation is the MESH
    workflow's;
  GP Connect Update Record (ITK014M, or MESH workflow GPCONNECT_UPDATE_RECORD;
    responses on GPCONNECT_UPDATE_RECORD_ACK): a UR-… label of the Update
    Record digest (or GPC-PROFILE, GPC-BP-TRIPLET, ID-FORM and the rules
    above). Update Record messages are reported as kind update-record.

The MESH workflow (--mesh-workflow or the .ctl's WorkflowId) decides which
capability a message is checked against; without one, the event does.

Each argument is one of:
  FILE         a message in FHIR XML or JSON (sniffed from the first byte)
  -            a message read from standard input
  NAME.ctl     a MESH client control file: the message is NAME.dat beside it,
               and the control file's From_DTS, To_DTS, Subject, LocalId and
               WorkflowId are checked too
  NAME.dat     a MESH client payload; NAME.ctl beside it is used if present
  DIRECTORY    a MESH message directory: every .dat (with its .ctl) in it, or
               every .xml/.json file when it holds no .dat

Exit status: 0 every message conforms (warnings allowed), 1 a message has
error findings, 2 an input could not be read as a FHIR message (or bad usage).

Examples:
  gpcm validate testdata/examples/consultation_report.xml
  gpcm validate --allow-test-nhs-numbers testdata/update-record/messages/
  gpcm validate --format json message.xml | jq '.[0].report.findings'
  gpcm validate --mesh-workflow GPFED_CONSULT_REPORT --mesh-to GPPROVIDER_9434765919_19550109_Smith message.xml
  gpcm validate OUT/20261124-0001.ctl
  gpcm validate IN/
  gpcm senddoc build --in report.json --out - | gpcm validate -
  gpcm update-record example | gpcm update-record build --in - --out - | gpcm validate -
`

// validateResult is one input's outcome in --format json. Report is a
// *senddoc.Report or an *updaterecord.Report (kind update-record or
// itk3-response); both carry kind, findings and responseCode.
type validateResult struct {
	File   string `json:"file"`
	Error  string `json:"error,omitempty"`
	Report any    `json:"report,omitempty"`
	sum    *summary
}

// summary is what the text output and the exit status need of a report.
type summary struct {
	what     string // kind, use case, generation
	findings []senddoc.Finding
	code     itk3.ResponseCode
}

func (s *summary) errors() int {
	n := 0
	for _, f := range s.findings {
		if f.Severity == senddoc.SeverityError {
			n++
		}
	}
	return n
}

func runValidate(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "validate", validateHelp)
	format := fs.String("format", "text", "output format: text or json")
	useCase := fs.String("use-case", "", "force the Send Document use case: consultation-summary, online-consultation, generic or patient-registration (default: detect)")
	testNHS := fs.Bool("allow-test-nhs-numbers", false, "report NHS numbers with a wrong check digit as warnings (test data)")
	var mm senddoc.MeshMetadata
	fs.StringVar(&mm.WorkflowID, "mesh-workflow", "", "MESH workflow ID the message travelled with (Mex-WorkflowID)")
	fs.StringVar(&mm.From, "mesh-from", "", "MESH sender mailbox (Mex-From)")
	fs.StringVar(&mm.To, "mesh-to", "", "MESH recipient (Mex-To), e.g. GPPROVIDER_{NHS}_{YYYYMMDD}_{surname}")
	fs.StringVar(&mm.Subject, "mesh-subject", "", "MESH subject (Mex-Subject)")
	fs.StringVar(&mm.LocalID, "mesh-local-id", "", "MESH local ID (Mex-LocalID)")
	sentAt := fs.String("mesh-sent-at", "", "when the message was sent, RFC 3339 `time` (checks GPCM-SD-CS-075: within 3 hours of the last update)")
	cmdlineOnlyRest(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *sentAt != "" {
		t, err := time.Parse(time.RFC3339, *sentAt)
		if err != nil {
			return usagef("gpcm validate --help", "validate: --mesh-sent-at must be an RFC 3339 time such as 2026-11-24T12:30:00Z")
		}
		mm.SentAt = t
	}
	if *format != "text" && *format != "json" {
		return usagef("gpcm validate --help", "validate: --format must be text or json, not %q", *format)
	}
	switch senddoc.UseCase(*useCase) {
	case "", senddoc.UseCaseConsultation, senddoc.UseCaseOnline, senddoc.UseCaseGeneric, senddoc.UseCaseRegistration:
	default:
		return usagef("gpcm validate --help", "validate: unknown --use-case %q", *useCase)
	}
	if fs.NArg() == 0 {
		return usagef("gpcm validate --help", "validate: name at least one FILE, directory or - for standard input")
	}
	opts := senddoc.Options{UseCase: senddoc.UseCase(*useCase), AllowTestNHSNumbers: *testNHS}
	var headerMeta *senddoc.MeshMetadata
	if mm != (senddoc.MeshMetadata{}) {
		mm.Transport = "api"
		headerMeta = &mm
	}

	inputs, err := expandInputs(fs.Args())
	if err != nil {
		return &exitError{code: ExitUsage, msg: "validate: " + err.Error()}
	}
	var results []validateResult
	status := ExitOK
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return err
		}
		res := validateOne(ctx, env, in, opts, headerMeta)
		switch {
		case res.sum == nil || res.Error != "":
			status = ExitUsage
		case res.sum.errors() > 0 && status == ExitOK:
			status = ExitFailure
		}
		results = append(results, res)
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			printResult(env.Stdout, r)
		}
	}
	if status != ExitOK {
		return &exitError{code: status}
	}
	return nil
}

// input is one message to validate: its payload and optional control file.
type input struct {
	name string
	dat  string // "-" for stdin
	ctl  string
}

func expandInputs(args []string) ([]input, error) {
	var out []input
	for _, a := range args {
		if a == "-" {
			out = append(out, input{name: "-", dat: "-"})
			continue
		}
		fi, err := os.Stat(a)
		if err != nil {
			out = append(out, input{name: a, dat: a}) // reported as unreadable
			continue
		}
		if fi.IsDir() {
			ins, err := dirInputs(a)
			if err != nil {
				return nil, err
			}
			out = append(out, ins...)
			continue
		}
		out = append(out, fileInput(a))
	}
	return out, nil
}

func fileInput(path string) input {
	ext := strings.ToLower(filepath.Ext(path))
	base := strings.TrimSuffix(path, filepath.Ext(path))
	switch ext {
	case ".ctl":
		dat := sibling(base, ".dat")
		for _, alt := range []string{".xml", ".json"} {
			if !fileExists(dat) && fileExists(base+alt) {
				dat = base + alt
			}
		}
		return input{name: path, dat: dat, ctl: path}
	case ".dat":
		in := input{name: path, dat: path}
		if c := sibling(base, ".ctl"); fileExists(c) {
			in.ctl = c
		}
		return in
	}
	return input{name: path, dat: path}
}

// sibling finds base+ext, also in upper case (MESH clients write .DAT/.CTL).
func sibling(base, ext string) string {
	if p := base + ext; fileExists(p) {
		return p
	}
	if p := base + strings.ToUpper(ext); fileExists(p) {
		return p
	}
	return base + ext
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func dirInputs(dir string) ([]input, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var dats, others []string
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".dat":
			dats = append(dats, filepath.Join(dir, e.Name()))
		case ".xml", ".json":
			others = append(others, filepath.Join(dir, e.Name()))
		}
	}
	pick := dats
	if len(pick) == 0 {
		pick = others
	}
	if len(pick) == 0 {
		return nil, fmt.Errorf("%s holds no .dat, .xml or .json message", dir)
	}
	sort.Strings(pick)
	var out []input
	for _, p := range pick {
		out = append(out, fileInput(p))
	}
	return out, nil
}

func validateOne(ctx context.Context, env *Env, in input, opts senddoc.Options, headerMeta *senddoc.MeshMetadata) validateResult {
	res := validateResult{File: in.name}
	opts.Mesh = headerMeta
	ctlVersion := ""
	if in.ctl != "" {
		f, err := os.Open(in.ctl)
		if err != nil {
			res.Error = err.Error()
			return res
		}
		c, err := senddoc.ReadControlFile(f)
		f.Close()
		if err != nil {
			res.Error = fmt.Sprintf("%s: %v", in.ctl, err)
			return res
		}
		opts.Mesh, ctlVersion = c.Metadata(), c.Version
	}
	r, done, err := openIn(env, in.dat)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer done()
	// Read one byte past the validators' limit so that they report 20015.
	data, err := io.ReadAll(io.LimitReader(r, maxValidateBytes+1))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	wf, ev := "", ""
	if opts.Mesh != nil {
		wf = opts.Mesh.WorkflowID
	}
	if wf == "" {
		ev = messageEvent(data)
	}
	if updaterecord.Recognise(wf, ev) {
		rep, err := updaterecord.ValidateBytes(ctx, data, updaterecord.Options{Mesh: opts.Mesh, ControlVersion: ctlVersion,
			AllowTestNHSNumbers: opts.AllowTestNHSNumbers, MaxBytes: maxValidateBytes})
		res.Report, res.sum = &rep, &summary{what: joinWhat(rep.Kind, string(rep.UseCase), 0), findings: rep.Findings, code: rep.ResponseCode}
		if err != nil {
			res.Error = err.Error()
		}
		return res
	}
	opts.MaxBytes = maxValidateBytes
	rep, err := senddoc.ValidateBytes(ctx, data, opts)
	res.Report, res.sum = &rep, &summary{what: joinWhat(rep.Kind, string(rep.UseCase), rep.Generation), findings: rep.Findings, code: rep.ResponseCode}
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

// maxValidateBytes is the largest message gpcm validate reads (the
// validators' default).
const maxValidateBytes = 100 << 20

// messageEvent returns MessageHeader.event of a message bundle ("" when
// the input is not one).
func messageEvent(data []byte) string {
	res, _, _, err := fhir.Decode(bytes.NewReader(data), &fhir.DecodeOptions{MaxBytes: maxValidateBytes})
	b, ok := res.(*fhir.Bundle)
	if err != nil || !ok {
		return ""
	}
	for _, e := range b.Entry {
		if mh, ok := e.Resource.(*fhir.MessageHeader); ok && mh.Event != nil {
			return mh.Event.Code.String()
		}
	}
	return ""
}

func joinWhat(kind, useCase string, generation int) string {
	what := kind
	if useCase != "" {
		what += ", " + useCase
	}
	if generation != 0 {
		what += fmt.Sprintf(", v%d", generation)
	}
	return what
}

func printResult(w io.Writer, r validateResult) {
	sum := r.sum
	if sum == nil {
		fmt.Fprintf(w, "%s: cannot read: %s\n", r.File, r.Error)
		return
	}
	if r.Error != "" {
		fmt.Fprintf(w, "%s: cannot read: %s (a receiver answers %s %s)\n", r.File, r.Error, sum.code, sum.code.Display())
		return
	}
	errs := sum.errors()
	verdict := "conformant"
	if errs > 0 {
		verdict = "NOT conformant"
	}
	fmt.Fprintf(w, "%s: %s (%s): %d errors, %d warnings; a receiver answers %s %s\n",
		r.File, verdict, sum.what, errs, len(sum.findings)-errs, sum.code, sum.code.Display())
	var buf bytes.Buffer
	for _, f := range sum.findings {
		code := ""
		if f.Code != 0 {
			code = " [" + f.Code.String() + "]"
		}
		fmt.Fprintf(&buf, "  %-7s %s %s\n          %s%s\n", f.Severity, f.Cite(), f.Path, f.Message, code)
	}
	w.Write(buf.Bytes())
}
