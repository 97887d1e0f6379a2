package senddoc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
)

var errTooLarge = errors.New("message is larger than the limit")

// decodeTree reads a FHIR message into its JSON-shaped tree plus the codec's
// structural findings. It streams r into the decoder, which stops when ctx
// ends; the message is never held as bytes as well as decoded.
func decodeTree(ctx context.Context, r io.Reader, max int64) (node, *fhir.Bundle, string, []Finding, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, "", nil, err
	}
	res, format, ff, err := fhir.DecodeContext(ctx, r, &fhir.DecodeOptions{MaxBytes: max})
	if le := (*fhir.LimitError)(nil); errors.As(err, &le) && le.Limit == "bytes" {
		return nil, nil, format, nil, fmt.Errorf("%w (%d bytes)", errTooLarge, max)
	}
	if err != nil {
		return nil, nil, format, nil, err
	}
	b, ok := res.(*fhir.Bundle)
	if !ok {
		return nil, nil, format, nil, fmt.Errorf("the document is a FHIR %s, not a Bundle", res.ResourceType())
	}
	return treeOf(b), b, format, append(structuralFindings(ff), bindingFindings(b)...), nil
}

func structuralFindings(ff []fhir.Finding) []Finding {
	out := make([]Finding, 0, len(ff))
	for _, f := range ff {
		out = append(out, Finding{Requirement: RuleFHIRStructure, Severity: SeverityWarning, Path: f.Path, Message: f.Message})
	}
	return out
}

// bindingFindings reports codes outside the value sets the STU3 base
// specification binds their elements to with strength required (from the
// model's generated bindings): the payload, or the header when the code is
// in the MessageHeader, is invalid.
func bindingFindings(b *fhir.Bundle) []Finding {
	var out []Finding
	for _, bi := range fhir.CheckBindings(b) {
		f := bi.Finding()
		if bi.Type == "Task" && bi.Element == "priority" && bi.Code == "normal" {
			// GPCM-SD-OC-118/GE-118 list "normal", which STU3 calls routine.
			out = append(out, Finding{Requirement: RuleFHIRBinding, Severity: SeverityWarning, Path: f.Path,
				Message: "Task.priority normal is not an STU3 request-priority code (routine is); accepted because GPCM-SD-OC-118 and GPCM-SD-GE-118 name it"})
			continue
		}
		code := itk3.CodePayloadValidationFailure
		if strings.Contains(f.Path, ".resource.MessageHeader.") {
			code = itk3.CodeHeaderValidationFailure
		}
		out = append(out, Finding{Requirement: RuleFHIRBinding, Severity: SeverityError, Path: f.Path, Message: f.Message, Code: code})
	}
	return out
}
