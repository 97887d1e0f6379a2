package updaterecord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
)

// Kinds of input Validate reports on.
const (
	KindUpdateRecord = "update-record" // an ITK014M message
	KindResponse     = "itk3-response" // an ITK008M answering one
	// KindResource is a single payload resource (such as the guide's PRSB
	// heading snippets), checked against its profile only.
	KindResource = "resource"
	KindUnknown  = "unknown"
)

// MeshMetadata is the MESH envelope a message came (or goes) with; the type
// is shared with package senddoc.
type MeshMetadata = senddoc.MeshMetadata

// Options tunes validation.
type Options struct {
	// Mesh holds the MESH metadata the message came with (Mex-* headers or a
	// .ctl); nil skips the MESH statements (UR-B…).
	Mesh *MeshMetadata
	// ControlVersion is the Version of the .ctl the message came with, when
	// it came by MESH client ("" skips UR-B08).
	ControlVersion string
	// Disabled says the practice has Update Record switched off (or the
	// system does not take it): a readable message is answered 20010
	// (UR-F08) and nothing else is checked.
	Disabled bool
	// AllowTestNHSNumbers reports NHS numbers that fail the check digit as
	// warnings instead of errors (every official example carries one).
	AllowTestNHSNumbers bool
	// Original is the report of the message a response answers; when set, a
	// response's identifier and SenderReference are checked against it.
	Original *Report
	// MaxBytes limits the message size (default 100 MiB); a larger one is
	// answered 20015.
	MaxBytes int64
}

// Report is the outcome of validating one input.
type Report struct {
	Kind    string  `json:"kind"`
	UseCase UseCase `json:"useCase,omitempty"`
	Format  string  `json:"format"` // "xml" or "json"

	BundleID         string `json:"bundleId,omitempty"`
	BundleIdentifier string `json:"bundleIdentifier,omitempty"`
	// MessageHeaderID is what a response must carry in response.identifier;
	// itk3.UnreadableIdentifier when it could not be read.
	MessageHeaderID string `json:"messageHeaderId"`
	SenderReference string `json:"senderReference,omitempty"`
	SourceEndpoint  string `json:"sourceEndpoint,omitempty"`
	// DocumentID is Composition.identifier.value, DocumentBundleIdentifier
	// the document Bundle.identifier.value; Replaces the
	// relatesTo.targetIdentifier value of a replacement.
	DocumentID               string `json:"documentId,omitempty"`
	DocumentBundleIdentifier string `json:"documentBundleIdentifier,omitempty"`
	Replaces                 string `json:"replaces,omitempty"`
	// Version is Composition.meta.versionId (0 when absent).
	Version         int               `json:"version,omitempty"`
	InfAckRequested *bool             `json:"infAckRequested,omitempty"`
	BusAckRequested *bool             `json:"busAckRequested,omitempty"`
	ResponseTo      string            `json:"responseTo,omitempty"` // response.identifier of an ITK008M
	ResponseCode    itk3.ResponseCode `json:"responseCode"`
	Findings        []Finding         `json:"findings"`
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

// ErrUnreadable is returned (wrapped) when the input is not FHIR XML or
// JSON at all; the report then carries response code 10009 (or 20015 for a
// message over the size limit).
var ErrUnreadable = errors.New("updaterecord: unreadable message")

// Validate reads one input (FHIR STU3 XML or JSON, sniffed): an Update
// Record message, an ITK3 response to one, or a single payload resource.
// The error is non-nil only when the input cannot be read as FHIR
// (ErrUnreadable) or ctx ends; findings never become errors.
func Validate(ctx context.Context, r io.Reader, opts Options) (Report, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 100 << 20
	}
	rep := Report{Kind: KindUnknown, MessageHeaderID: itk3.UnreadableIdentifier}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	res, format, ff, err := fhir.DecodeContext(ctx, r, &fhir.DecodeOptions{MaxBytes: opts.MaxBytes})
	rep.Format = format
	if err != nil {
		rep.ResponseCode = itk3.CodeUnreadableMessage
		var le *fhir.LimitError
		if errors.As(err, &le) && le.Limit == "bytes" {
			rep.ResponseCode = itk3.CodeMessageTooLarge
		}
		rep.Findings = []Finding{{Requirement: RuleFHIRStructure, Severity: SeverityError, Path: "Bundle",
			Message: err.Error(), Code: rep.ResponseCode}}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		return rep, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	c := newChecker(res, opts)
	for _, f := range ff {
		c.findings = append(c.findings, Finding{Requirement: RuleFHIRStructure, Severity: SeverityWarning, Path: f.Path, Message: f.Message})
	}
	c.run()
	return c.report(format), nil
}

// ValidateBytes is Validate over a byte slice.
func ValidateBytes(ctx context.Context, b []byte, opts Options) (Report, error) {
	return Validate(ctx, bytes.NewReader(b), opts)
}

func (c *checker) report(format string) Report {
	rep := Report{Kind: c.kind, UseCase: c.uc, Format: format, MessageHeaderID: itk3.UnreadableIdentifier}
	if c.root != nil {
		rep.BundleID = c.root.ID.String()
		if c.root.Identifier != nil {
			rep.BundleIdentifier = c.root.Identifier.Value.String()
		}
	}
	if c.mh != nil {
		if id := c.mh.ID.String(); id != "" {
			rep.MessageHeaderID = id
		}
		if c.mh.Source != nil {
			rep.SourceEndpoint = c.mh.Source.Endpoint.String()
		}
		if c.mh.Response != nil {
			rep.ResponseTo = c.mh.Response.Identifier.String()
		}
		h, _ := itk3.ReadHandling(c.mh)
		rep.SenderReference = h.SenderReference
		rep.InfAckRequested, rep.BusAckRequested = c.flag("InfAckRequested"), c.flag("BusAckRequested")
	}
	if c.docBundle != nil && c.docBundle.Identifier != nil {
		rep.DocumentBundleIdentifier = c.docBundle.Identifier.Value.String()
	}
	if cp := c.composition; cp != nil {
		if cp.Identifier != nil {
			rep.DocumentID = cp.Identifier.Value.String()
		}
		rep.Version = c.version()
		for _, rt := range cp.RelatesTo {
			if rt == nil {
				continue
			}
			if id, ok := rt.Target.(*fhir.Identifier); ok && id != nil && rep.Replaces == "" {
				rep.Replaces = id.Value.String()
			}
		}
	}
	sort.SliceStable(c.findings, func(i, j int) bool { return c.findings[i].Severity < c.findings[j].Severity })
	rep.Findings = c.findings
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	rep.ResponseCode = c.responseCode(rep.Findings)
	return rep
}

// responseCode is the code a receiver answers with: 20010 when the
// capability is switched off; otherwise (for a message, or for a lone
// resource the code it would give its message) that of the most specific error
// (handling-specification codes 1xxxx first, then header 20006, then
// payload 20009), 20013 when there is none.
func (c *checker) responseCode(fs []Finding) itk3.ResponseCode {
	switch {
	case c.kind == KindUnknown:
		return itk3.CodeHeaderValidationFailure
	case c.kind == KindResponse:
		return itk3.CodeSuccess // nobody answers a response
	case c.kind == KindUpdateRecord && c.opts.Disabled:
		return itk3.CodeUnrecognisedPayloadOrg
	}
	best := itk3.ResponseCode(0)
	for _, f := range fs {
		if f.Severity == SeverityError && f.Code != 0 && (best == 0 || f.Code < best) {
			best = f.Code
		}
	}
	if best == 0 {
		return itk3.CodeSuccess
	}
	return best
}
