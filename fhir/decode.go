package fhir

import (
	"bufio"
	"bytes"
	"context"
	"io"
)

// Formats of a FHIR document, as Decode reports them.
const (
	FormatXML  = "xml"
	FormatJSON = "json"
)

// Decode reads one resource in FHIR XML or JSON, telling them apart by the
// first byte that is not white space or a UTF-8 byte order mark ('<' or
// '{'), and returns the format it read ("" when it could not tell). Input
// that is neither gives a *SyntaxError.
func Decode(r io.Reader, opts *DecodeOptions) (Resource, string, []Finding, error) {
	return DecodeContext(context.Background(), r, opts)
}

// DecodeContext is Decode that stops when ctx ends, as DecodeXMLContext
// does.
func DecodeContext(ctx context.Context, r io.Reader, opts *DecodeOptions) (Resource, string, []Finding, error) {
	br := bufio.NewReader(r)
	var skipped int64
	for {
		b, err := br.Peek(1)
		if err != nil {
			msg := "the input is empty"
			if err != io.EOF {
				return nil, "", nil, err
			}
			return nil, "", nil, &SyntaxError{Format: "xml or json", Offset: skipped, Msg: msg}
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			br.Discard(1)
			skipped++
			continue
		case 0xEF:
			if p, _ := br.Peek(3); bytes.Equal(p, []byte{0xEF, 0xBB, 0xBF}) {
				br.Discard(3)
				skipped += 3
				continue
			}
		case '<':
			res, ff, err := decodeXML(ctx, br, nil, opts)
			return res, FormatXML, ff, err
		case '{':
			res, ff, err := decodeJSON(ctx, br, nil, opts)
			return res, FormatJSON, ff, err
		}
		return nil, "", nil, &SyntaxError{Format: "xml or json", Offset: skipped,
			Msg: "the input is neither FHIR XML (starts with '<') nor FHIR JSON (starts with '{')"}
	}
}
