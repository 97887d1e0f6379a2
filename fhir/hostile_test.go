package fhir_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/internal/testutil/peak"
)

// streamReader generates head, then body repeated until size bytes in
// total, without ever holding more than one copy of body.
type streamReader struct {
	head, body []byte
	size, n    int64
}

func (s *streamReader) Read(p []byte) (int, error) {
	if s.n >= s.size {
		return 0, io.EOF
	}
	w := 0
	for w < len(p) && s.n < s.size {
		var src []byte
		if s.n < int64(len(s.head)) {
			src = s.head[s.n:]
		} else {
			off := (s.n - int64(len(s.head))) % int64(len(s.body))
			src = s.body[off:]
		}
		c := copy(p[w:], src)
		if rem := s.size - s.n; int64(c) > rem {
			c = int(rem)
		}
		w += c
		s.n += int64(c)
	}
	return w, nil
}

const hostileHeapLimit = 100 << 20

func TestHostileInputs(t *testing.T) {
	const fhirNS = `xmlns="http://hl7.org/fhir"`
	laughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Patient ` + fhirNS + `><id value="&lol9;"/></Patient>`
	deepXML := func(open, close string, n int) io.Reader {
		return io.MultiReader(strings.NewReader(`<Patient `+fhirNS+`>`),
			strings.NewReader(strings.Repeat(open, n)), strings.NewReader(strings.Repeat(close, n)),
			strings.NewReader(`</Patient>`))
	}
	deepJSON := func(n int) io.Reader {
		return io.MultiReader(strings.NewReader(`{"resourceType":"Patient","extension":`),
			strings.NewReader(strings.Repeat(`[{"url":"x","extension":`, n)), strings.NewReader(`[]`),
			strings.NewReader(strings.Repeat(`}]`, n)), strings.NewReader(`}`))
	}
	const big = 500 << 20
	tests := []struct {
		name    string
		json    bool
		input   func() io.Reader
		check   func(t *testing.T, err error)
		wantMsg string
	}{
		{name: "billion laughs", input: func() io.Reader { return strings.NewReader(laughs) }, check: wantDTD, wantMsg: "DOCTYPE/ENTITY declaration rejected"},
		{name: "external entity", input: func() io.Reader {
			return strings.NewReader(`<?xml version="1.0"?><!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Patient ` + fhirNS + `><id value="&xxe;"/></Patient>`)
		}, check: wantDTD, wantMsg: "DTD"},
		{name: "undeclared entity reference", input: func() io.Reader {
			return strings.NewReader(`<Patient ` + fhirNS + `><id value="&xxe;"/></Patient>`)
		}, check: wantSyntax, wantMsg: "unknown entity &xxe;"},
		{name: "100000 deep extensions xml", input: func() io.Reader {
			return deepXML(`<extension url="x">`, `</extension>`, 100000)
		}, check: wantLimit("depth"), wantMsg: "deeper than 200"},
		{name: "100000 deep xhtml in narrative", input: func() io.Reader {
			return io.MultiReader(strings.NewReader(`<Patient `+fhirNS+`><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">`),
				strings.NewReader(strings.Repeat("<div>", 100000)))
		}, check: wantLimit("depth"), wantMsg: "deeper than 200"},
		{name: "100000 deep unknown elements", input: func() io.Reader { return deepXML(`<a>`, `</a>`, 100000) }, check: wantSyntax, wantMsg: "Patient.a: unknown element"},
		{name: "100000 deep json", json: true, input: func() io.Reader { return deepJSON(100000) }, check: wantLimit("depth"), wantMsg: "deeper than 200"},
		{name: "500 MB stream of comments", input: func() io.Reader {
			return &streamReader{head: []byte(`<Bundle ` + fhirNS + `>`), body: []byte("<!-- padding padding -->\n"), size: big}
		}, check: wantLimit("bytes"), wantMsg: "larger than 33554432 bytes"},
		{name: "500 MB stream of entries", input: func() io.Reader {
			return &streamReader{head: []byte(`<Bundle ` + fhirNS + `><type value="collection"/>`), body: []byte(`<entry><fullUrl value="urn:uuid:0"/></entry>`), size: big}
		}, check: wantLimit("elements"), wantMsg: "more than 200000 elements"},
		{name: "500 MB json array of strings", json: true, input: func() io.Reader {
			return &streamReader{head: []byte(`{"resourceType":"Patient","name":[{"given":[`), body: []byte(`"a",`), size: big}
		}, check: wantLimit("elements"), wantMsg: "more than 200000 elements"},
		{name: "500 MB attribute value", input: func() io.Reader {
			return &streamReader{head: []byte(`<Binary ` + fhirNS + `><contentType value="application/pdf"/><content value="`), body: []byte("QUJDRA=="), size: big}
		}, check: wantLimit("bytes"), wantMsg: "larger than"},
		{name: "500 MB json string", json: true, input: func() io.Reader {
			return &streamReader{head: []byte(`{"resourceType":"Binary","content":"`), body: []byte("QUJDRA=="), size: big}
		}, check: wantLimit("bytes"), wantMsg: "larger than"},
		{name: "500 MB json whitespace", json: true, input: func() io.Reader {
			return &streamReader{head: []byte(`{"resourceType":"Binary",`), body: []byte("          \n"), size: big}
		}, check: wantLimit("bytes"), wantMsg: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			grew := peak.Heap(func() {
				if tt.json {
					_, _, err = fhir.DecodeJSON(tt.input(), nil)
				} else {
					_, _, err = fhir.DecodeXML(tt.input(), nil)
				}
			})
			t.Logf("error: %v", err)
			t.Logf("peak extra heap: %.1f MB", float64(grew)/(1<<20))
			if err == nil {
				t.Fatal("accepted")
			}
			tt.check(t, err)
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if grew > hostileHeapLimit {
				t.Errorf("heap grew by %d bytes, limit %d", grew, hostileHeapLimit)
			}
		})
	}
}

func wantDTD(t *testing.T, err error) {
	t.Helper()
	var se *fhir.SyntaxError
	if !errors.As(err, &se) || !errors.Is(err, fhir.ErrDTD) {
		t.Errorf("got %T %v, want *SyntaxError wrapping ErrDTD", err, err)
	}
}

func wantSyntax(t *testing.T, err error) {
	t.Helper()
	var se *fhir.SyntaxError
	if !errors.As(err, &se) {
		t.Errorf("got %T %v, want *SyntaxError", err, err)
	}
}

func wantLimit(limit string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var le *fhir.LimitError
		if !errors.As(err, &le) || le.Limit != limit {
			t.Errorf("got %T %v, want *LimitError on %s", err, err, limit)
		}
	}
}

func TestLimitsAreConfigurable(t *testing.T) {
	data := examples(t)["consultation_report.xml"]
	if _, _, err := fhir.DecodeXML(bytes.NewReader(data), &fhir.DecodeOptions{MaxBytes: int64(len(data))}); err != nil {
		t.Errorf("exactly MaxBytes: %v", err)
	}
	_, _, err := fhir.DecodeXML(bytes.NewReader(data), &fhir.DecodeOptions{MaxBytes: int64(len(data)) - 1})
	var le *fhir.LimitError
	if !errors.As(err, &le) || le.Limit != "bytes" || le.Max != int64(len(data))-1 {
		t.Errorf("one byte over: got %v, want bytes LimitError", err)
	}
	_, _, err = fhir.DecodeXML(bytes.NewReader(data), &fhir.DecodeOptions{MaxDepth: 5})
	if !errors.As(err, &le) || le.Limit != "depth" || le.Path == "" {
		t.Errorf("depth 5: got %v, want depth LimitError with a path", err)
	}
}
