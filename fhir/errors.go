package fhir

import (
	"errors"
	"fmt"
)

// Finding is something wrong but recoverable in an accepted document, such
// as an element out of canonical order. Path names the element, e.g.
// Bundle.entry[2].resource.Composition.section[0].title.
type Finding struct {
	Path    string
	Message string
}

func (f Finding) String() string { return f.Path + ": " + f.Message }

// LimitError reports input beyond a bound. Check with errors.As.
type LimitError struct {
	// Limit names the bound: "bytes", "depth", "elements", "attributes"
	// and "namespace declarations" (DecodeOptions), "name" (4096 bytes,
	// fixed) or "narrative" (the canonical narrative may be no longer in
	// total than MaxBytes).
	Limit  string
	Max    int64  // the configured bound
	Offset int64  // input byte offset where the bound was crossed
	Path   string // element path where it was crossed, if known
}

func (e *LimitError) Error() string {
	where := fmt.Sprintf("at byte %d", e.Offset)
	if e.Path != "" {
		where += " in " + e.Path
	}
	switch e.Limit {
	case "elements":
		return fmt.Sprintf("fhir: document has more than %d elements %s (raise DecodeOptions.MaxElements if this is genuine)", e.Max, where)
	case "depth":
		return fmt.Sprintf("fhir: document nests deeper than %d elements %s (raise DecodeOptions.MaxDepth if this is genuine)", e.Max, where)
	case "attributes":
		return fmt.Sprintf("fhir: an element has more than %d attributes %s (raise DecodeOptions.MaxAttributes if this is genuine)", e.Max, where)
	case "namespace declarations":
		return fmt.Sprintf("fhir: an element has more than %d namespace declarations %s (raise DecodeOptions.MaxNamespaces if this is genuine)", e.Max, where)
	case "name":
		return fmt.Sprintf("fhir: a name is longer than %d bytes %s", e.Max, where)
	case "narrative":
		return fmt.Sprintf("fhir: the narrative, written as canonical XHTML, is longer than %d bytes %s (raise DecodeOptions.MaxBytes if this is genuine)", e.Max, where)
	default:
		return fmt.Sprintf("fhir: document is larger than %d bytes %s (raise DecodeOptions.MaxBytes if this is genuine)", e.Max, where)
	}
}

// ErrDTD is wrapped by the SyntaxError returned for any DOCTYPE or entity
// declaration: FHIR forbids them, and refusing them defeats entity
// expansion and external entity attacks.
var ErrDTD = errors.New("DTDs and entity declarations are not allowed in FHIR")

// SyntaxError reports input that is not a FHIR document: malformed XML or
// JSON, an unknown element, a bad primitive value. Line is 1-based (0 when
// unknown), Offset is the input byte offset.
type SyntaxError struct {
	Format string // "xml" or "json"
	Line   int
	Offset int64
	Path   string
	Msg    string
	Err    error // underlying cause, e.g. ErrDTD; may be nil
}

func (e *SyntaxError) Error() string {
	s := "fhir: " + e.Format
	if e.Line > 0 {
		s += fmt.Sprintf(" line %d", e.Line)
	}
	s += fmt.Sprintf(" (byte %d)", e.Offset)
	if e.Path != "" {
		s += " at " + e.Path
	}
	return s + ": " + e.Msg
}

func (e *SyntaxError) Unwrap() error { return e.Err }
