package senddoc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

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
// XML or JSON at all; the report then carries response code 10009.
var ErrUnreadable = errors.New("senddoc: unreadable message")

// Validate reads one ITK3 message (FHIR STU3 XML or JSON, sniffed) and checks
// it. The error is non-nil only when the input cannot be read as FHIR
// (ErrUnreadable) or ctx ends (ctx.Err()); findings never become errors.
// Decoding streams r and stops soon after ctx ends (within 32 KiB of
// input), so a caller can give each message a processing budget with
// context.WithTimeout.
func Validate(ctx context.Context, r io.Reader, opts Options) (Report, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 100 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	tree, format, structural, err := decodeTree(ctx, r, opts.MaxBytes)
	rep := Report{Kind: KindUnknown, Format: format, MessageHeaderID: itk3.UnreadableIdentifier}
	if err != nil {
		rep.ResponseCode = itk3.CodeUnreadableMessage
		if errors.Is(err, errTooLarge) {
			rep.ResponseCode = itk3.CodeMessageTooLarge
		}
		rep.Findings = []Finding{{Requirement: RuleFHIRStructure, Severity: SeverityError, Path: "Bundle",
			Message: err.Error(), Code: rep.ResponseCode}}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		return rep, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	c := newChecker(tree, opts)
	c.findings = append(c.findings, structural...)
	c.run()
	return c.report(format), nil
}

// ValidateBytes is Validate over a byte slice.
func ValidateBytes(ctx context.Context, b []byte, opts Options) (Report, error) {
	return Validate(ctx, bytes.NewReader(b), opts)
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
