package senddoc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
)

// Finding is one thing wrong with a message.
type Finding struct {
	// Requirement is the ID the finding breaks: a GPCM-… ID from the release
	// 1.5.2 catalogues, or one of the Rule* identifiers.
	Requirement string `json:"requirement"`
	// Catalogue is the catalogue version of Requirement: Catalogue152 for
	// GPCM-… IDs, "" for the Rule* identifiers.
	Catalogue string `json:"catalogue,omitempty"`
	// Cited names the requirement as diagnostics do, qualified by catalogue
	// version with its number in the catalogue the message's generation
	// reads: "1.5.2:GPCM-SD-032 (v1.3:GPCM-SD-112)" for a v1 message,
	// "v2:GPCM-SD-112 (1.5.2:GPCM-SD-032)" for a v2 one (see Cite).
	Cited    string   `json:"cited,omitempty"`
	Severity Severity `json:"severity"`
	// Path locates the element, e.g.
	// "Bundle.entry[2].resource.entry[0].resource(Composition).status".
	Path    string `json:"path"`
	Message string `json:"message"`
	// Code is the ITK3 response code a receiver answers this finding with
	// (0 when the finding does not warrant a negative response).
	Code itk3.ResponseCode `json:"code,omitempty"`
}

func (f Finding) String() string {
	code := ""
	if f.Code != 0 {
		code = " [" + f.Code.String() + "]"
	}
	return fmt.Sprintf("%s %s %s: %s%s", f.Severity, f.Cite(), f.Path, f.Message, code)
}

// Kind of message validated.
const (
	KindSendDocument = "send-document" // ITK007C
	KindResponse     = "itk3-response" // ITK008M
	KindUnknown      = "unknown"
)

// Report is the outcome of validating one message.
type Report struct {
	Kind       string `json:"kind"`
	Generation int    `json:"generation,omitempty"`
	// GenerationFrom says what decided Generation: the MESH workflow ID
	// (GenerationFromWorkflow), the MessageDefinition URI when no workflow
	// was given (GenerationFromMessageDefinition, a guess), or nothing
	// (GenerationFromDefault, v1).
	GenerationFrom string  `json:"generationFrom,omitempty"`
	UseCase        UseCase `json:"useCase,omitempty"`
	Format         string  `json:"format"` // "xml" or "json"

	BundleID         string `json:"bundleId,omitempty"`
	BundleIdentifier string `json:"bundleIdentifier,omitempty"`
	// MessageHeaderID is what a response must carry in response.identifier;
	// UnreadableIdentifier when it could not be read.
	MessageHeaderID string `json:"messageHeaderId"`
	SenderReference string `json:"senderReference,omitempty"`
	SourceEndpoint  string `json:"sourceEndpoint,omitempty"`
	DocumentID      string `json:"documentId,omitempty"` // Composition.identifier value
	// Confidentiality is Composition.confidentiality: N, or R for a
	// confidential document (ConfidentialityRestricted).
	Confidentiality string `json:"confidentiality,omitempty"`
	// PatientNHSNumber is the NHS number of the document's Patient. It is
	// patient data: kept out of the JSON form and never to be logged.
	PatientNHSNumber string `json:"-"`
	// DocumentDate is Composition.date; Version the report version (from
	// Composition.meta.versionId or the narrative's "Version n"), 0 if unknown.
	DocumentDate    time.Time         `json:"documentDate,omitzero"`
	Version         int               `json:"version,omitempty"`
	InfAckRequested *bool             `json:"infAckRequested,omitempty"`
	BusAckRequested *bool             `json:"busAckRequested,omitempty"`
	ResponseTo      string            `json:"responseTo,omitempty"` // response.identifier of an ITK008M
	ResponseCode    itk3.ResponseCode `json:"responseCode"`         // see Report.ResponseCode doc
	Findings        []Finding         `json:"findings"`
	// Usable is true when the document can still be shown to a person: the
	// patient and at least one attachment could be read.
	Usable bool `json:"usable"`
}

// Conformant reports whether the report has no error findings.
func (r Report) Conformant() bool { return r.Errors() == 0 }

// Errors counts error findings.
func (r Report) Errors() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			n++
		}
	}
	return n
}

// Options tunes validation.
type Options struct {
	// Mesh holds the MESH metadata the message came with (headers or .ctl);
	// nil skips the MESH requirements.
	Mesh *MeshMetadata
	// UseCase forces the use case instead of detecting it from the message.
	UseCase UseCase
	// AllowTestNHSNumbers reports NHS numbers that fail the check digit as
	// warnings instead of errors (the official examples carry such numbers).
	AllowTestNHSNumbers bool
	// Original is the message a response answers; when set, a response's
	// identifier and SenderReference are checked against it.
	Original *Report
	// MaxBytes limits the message size (default 100 MiB).
	MaxBytes int64
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// MeshMetadata is the MESH envelope of a received or to-be-sent message.
type MeshMetadata struct {
	// Transport is "api" (Mex-* headers) or "ctl" (MESH client control file);
	// it decides which requirement IDs a finding names.
	Transport  string    `json:"transport"`
	WorkflowID string    `json:"workflowId"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Subject    string    `json:"subject"`
	LocalID    string    `json:"localId"`
	SentAt     time.Time `json:"sentAt,omitzero"`
}

// ErrUnreadable is returned (wrapped) when the input is not a FHIR message in
// XML or JSON at all; the report then carries response code 10009 unless the
// message was well-formed and its MessageHeader could still be read (see
// Validate).
var ErrUnreadable = errors.New("senddoc: unreadable message")

// Validate reads one ITK3 message (FHIR STU3 XML or JSON, sniffed) and checks
// it. The error is non-nil only when the input cannot be read as FHIR
// (ErrUnreadable) or ctx ends (ctx.Err()); findings never become errors.
// Decoding streams r and stops soon after ctx ends (within 32 KiB of
// input), so a caller can give each message a processing budget with
// context.WithTimeout.
//
// When the FHIR reader refuses the message, a lenient second pass
// (itk3.ScanHeader) still looks for its MessageHeader, so that a negative
// response can name the original (issue 20 §5): the report then carries its
// MessageHeader.id and, for well-formed XML or JSON, the code of the fault —
// 10002/10003 for an InfAckRequested/BusAckRequested key that is present but
// not a boolean, else 20009 (the payload does not have the FHIR structure);
// input that is not well-formed stays 10009, with the header id when one was
// read before the fault. Validate keeps only the first scanHead bytes of r
// for that pass: a longer message the reader refuses keeps its header id
// but not its specific code (ValidateBytes, which has all of it, does).
func Validate(ctx context.Context, r io.Reader, opts Options) (Report, error) {
	head := &headCopy{max: scanHead}
	rep, _, err := validate(ctx, io.TeeReader(r, head), opts.withDefaults(), func() []byte {
		// Read on to the end or to scanHead, for the second pass.
		_, _ = io.Copy(head, io.LimitReader(r, int64(scanHead-len(head.b))+1))
		return head.b
	})
	return rep, err
}

// ValidateBytes is Validate over a byte slice.
func ValidateBytes(ctx context.Context, b []byte, opts Options) (Report, error) {
	rep, _, err := validate(ctx, bytes.NewReader(b), opts.withDefaults(), func() []byte { return b })
	return rep, err
}

// ValidateBundle is ValidateBytes that also returns the message bundle it
// decoded (nil when the message could not be read), for a caller that goes
// on to use the message's content: decoding a large message again would
// hold a second copy of it (issue 18 §9). The validator does not change
// the bundle.
func ValidateBundle(ctx context.Context, b []byte, opts Options) (Report, *fhir.Bundle, error) {
	return validate(ctx, bytes.NewReader(b), opts.withDefaults(), func() []byte { return b })
}

// scanHead is how much of a streamed message Validate keeps for the
// lenient second pass.
const scanHead = 1 << 20

// headCopy keeps the first max bytes written to it (and then one more, to
// tell a message that was cut from one that was not).
type headCopy struct {
	b   []byte
	max int
}

func (h *headCopy) Write(p []byte) (int, error) {
	if n := min(len(p), h.max+1-len(h.b)); n > 0 {
		h.b = append(h.b, p[:n]...)
	}
	return len(p), nil
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 100 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// validate decodes r and checks it; input returns what the lenient second
// pass reads when the decoder refuses it.
func validate(ctx context.Context, r io.Reader, opts Options, input func() []byte) (Report, *fhir.Bundle, error) {
	tree, bundle, format, structural, err := decodeTree(ctx, r, opts.MaxBytes)
	if err != nil {
		var data []byte
		if !errors.Is(err, errTooLarge) && ctx.Err() == nil {
			data = input()
		}
		rep := unreadable(ctx, data, format, err)
		gen := GenerationV1
		if opts.Mesh != nil && (opts.Mesh.WorkflowID == WorkflowV2 || opts.Mesh.WorkflowID == WorkflowV2Ack) {
			gen = GenerationV2
		}
		for i := range rep.Findings {
			cite(&rep.Findings[i], gen)
		}
		if ctx.Err() != nil {
			return rep, nil, ctx.Err()
		}
		return rep, nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if err := ctx.Err(); err != nil {
		return Report{Kind: KindUnknown, Format: format, MessageHeaderID: itk3.UnreadableIdentifier}, nil, err
	}
	c := newChecker(tree, opts)
	c.findings = append(c.findings, structural...)
	c.run()
	return c.report(format), bundle, nil
}

// unreadable reports a message the FHIR reader refused, with what the
// lenient header scan still finds.
func unreadable(ctx context.Context, data []byte, format string, err error) Report {
	rep := Report{Kind: KindUnknown, Format: format, MessageHeaderID: itk3.UnreadableIdentifier, ResponseCode: itk3.CodeUnreadableMessage}
	code := itk3.CodeUnreadableMessage
	if errors.Is(err, errTooLarge) {
		code = itk3.CodeMessageTooLarge
	}
	var hs itk3.HeaderScan
	var serr error = errTooLarge
	if code != itk3.CodeMessageTooLarge && ctx.Err() == nil {
		hs, serr = itk3.ScanHeader(ctx, data)
	}
	fromScan(&rep, hs)
	if hs.HeaderID != "" && serr == nil {
		// Well-formed, and the header is there: the fault is the message's
		// FHIR structure, or a handling key that is not a boolean.
		code = itk3.CodePayloadValidationFailure
		ids := handlingIDs(hs.Str("LocalExtension"))
		for _, k := range []struct {
			key  string
			code itk3.ResponseCode
		}{{"InfAckRequested", itk3.CodeInfAckValueError}, {"BusAckRequested", itk3.CodeBusAckValueError}} {
			if _, present, ok := hs.Boolean(k.key); present && !ok {
				rep.Findings = append(rep.Findings, Finding{Requirement: ids[k.key], Severity: SeverityError,
					Path:    "Bundle.entry[0].resource(MessageHeader).extension(MessageHandling)." + k.key,
					Message: k.key + " must be a valueBoolean true or false", Code: k.code})
				code = min(code, k.code)
			}
		}
	}
	rep.ResponseCode = code
	structCode := code
	if code < itk3.CodePayloadValidationFailure && code != itk3.CodeUnreadableMessage {
		structCode = itk3.CodePayloadValidationFailure
	}
	rep.Findings = append(rep.Findings, Finding{Requirement: RuleFHIRStructure, Severity: SeverityError, Path: "Bundle",
		Message: err.Error(), Code: structCode})
	return rep
}

// ScanReport reads only the envelope of a message leniently (the head of one
// too large to read whole, say): the report carries what itk3.ScanHeader
// found — MessageHeader.id (UnreadableIdentifier when none), Bundle
// identifier, source endpoint, SenderReference and the acknowledgement
// flags that are booleans — and no findings.
func ScanReport(ctx context.Context, data []byte) Report {
	rep := Report{Kind: KindUnknown, MessageHeaderID: itk3.UnreadableIdentifier, Findings: []Finding{}}
	hs, _ := itk3.ScanHeader(ctx, data)
	rep.Format = hs.Format
	fromScan(&rep, hs)
	return rep
}

func fromScan(rep *Report, hs itk3.HeaderScan) {
	if hs.HeaderID == "" {
		return
	}
	rep.Kind, rep.MessageHeaderID = KindSendDocument, hs.HeaderID
	rep.BundleIdentifier, rep.SourceEndpoint = hs.BundleIdentifier, hs.SourceEndpoint
	rep.SenderReference = hs.Str("SenderReference")
	if v, _, ok := hs.Boolean("InfAckRequested"); ok {
		rep.InfAckRequested = &v
	}
	if v, _, ok := hs.Boolean("BusAckRequested"); ok {
		rep.BusAckRequested = &v
	}
}

// handlingIDs names the requirements a non-boolean acknowledgement flag
// breaks, in the catalogue of the use case its LocalExtension names.
func handlingIDs(localExt string) map[string]string {
	switch localExt {
	case localExtOC, localExtPR:
		return map[string]string{"InfAckRequested": "GPCM-SD-OC-144", "BusAckRequested": "GPCM-SD-OC-143"}
	case localExtGE:
		return map[string]string{"InfAckRequested": "GPCM-SD-GE-271", "BusAckRequested": "GPCM-SD-GE-270"}
	}
	return map[string]string{"InfAckRequested": "GPCM-SD-CS-045", "BusAckRequested": "GPCM-SD-CS-044"}
}

func (c *checker) report(format string) Report {
	rep := Report{
		Kind: c.kind, Generation: c.gen, GenerationFrom: c.genFrom, UseCase: c.uc, Format: format,
		MessageHeaderID: itk3.UnreadableIdentifier, Usable: c.usable(),
	}
	rep.BundleID = str(c.root["id"])
	rep.BundleIdentifier = first(c.root, "identifier.value")
	if c.header != nil {
		if id := str(c.header.res["id"]); id != "" {
			rep.MessageHeaderID = id
		}
		rep.SourceEndpoint = first(c.header.res, "source.endpoint")
		rep.ResponseTo = first(c.header.res, "response.identifier")
		h := c.handling()
		rep.SenderReference = h.str("SenderReference")
		rep.InfAckRequested = h.boolean("InfAckRequested")
		rep.BusAckRequested = h.boolean("BusAckRequested")
	}
	if c.comp != nil {
		rep.DocumentID = first(c.comp.res, "identifier.value")
		rep.Confidentiality = c.confidentiality()
		if p := c.patient(); p != nil {
			rep.PatientNHSNumber = nhsNumberOf(p.res)
		}
		rep.DocumentDate = c.compDate()
		rep.Version = c.version()
	}
	for i := range c.findings {
		cite(&c.findings[i], c.gen)
	}
	sort.SliceStable(c.findings, func(i, j int) bool { return c.findings[i].Severity < c.findings[j].Severity })
	rep.Findings = c.findings
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	rep.ResponseCode = itk3.CodeSuccess
	if c.kind == KindSendDocument {
		// The response code is that of the most specific error: handling
		// specification codes (1xxxx) first, then header, then payload.
		best := itk3.ResponseCode(0)
		for _, f := range rep.Findings {
			if f.Severity != SeverityError || f.Code == 0 {
				continue
			}
			if best == 0 || f.Code < best {
				best = f.Code
			}
		}
		if best != 0 {
			rep.ResponseCode = best
		}
	} else if c.kind == KindUnknown {
		rep.ResponseCode = itk3.CodeHeaderValidationFailure
	}
	return rep
}

// usable: a person could still read the document.
func (c *checker) usable() bool {
	if c.kind != KindSendDocument || c.doc == nil {
		return false
	}
	pat, bin := false, false
	for _, e := range c.docEntries {
		switch e.typ {
		case "Patient":
			pat = true
		case "Binary":
			if str(e.res["content"]) != "" || str(e.res["data"]) != "" {
				bin = true
			}
		}
	}
	return pat && bin
}
