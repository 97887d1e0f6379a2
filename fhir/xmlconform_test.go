package fhir_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
)

// canonicalPatient is what every spelling in TestXMLSpellings reads to.
const canonicalPatient = `<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/>` +
	`<div xmlns="http://www.w3.org/1999/xhtml"><p class="c" id="p1">a &amp; b &lt;c&gt; d` + "\n" + `e</p><br/><p></p></div></text>` +
	`<name><family value="x y&#10;z"/></name></Patient>`

// TestXMLSpellings reads one Patient written in the ways XML 1.0 and XML
// Namespaces allow and that real writers use; each must read to the same
// resource, written canonically (default namespaces, no prefixes, the
// narrative in canonical XHTML).
func TestXMLSpellings(t *testing.T) {
	for _, tt := range xmlSpellings {
		t.Run(tt.name, func(t *testing.T) {
			res, findings, err := fhir.DecodeXML(strings.NewReader(tt.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(findings) != 0 {
				t.Errorf("findings: %v", findings)
			}
			if got := mustEncodeXML(t, res, &fhir.EncodeOptions{Compact: true}); string(got) != canonicalPatient {
				t.Errorf("got  %s\nwant %s", got, canonicalPatient)
			}
			// The narrative in JSON stands alone, and JSON -> XML is the same.
			js := mustEncodeJSON(t, res, nil)
			back, _, err := fhir.DecodeJSON(bytes.NewReader(js), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := mustEncodeXML(t, back, &fhir.EncodeOptions{Compact: true}); string(got) != canonicalPatient {
				t.Errorf("after JSON: got  %s\nwant %s", got, canonicalPatient)
			}
		})
	}
}

// xmlSpellings are the spellings of canonicalPatient TestXMLSpellings reads.
var xmlSpellings = []struct{ name, in string }{
	{"canonical", canonicalPatient},
	{"XML-NS prefixes as ElementTree writes them (ns0 and html on the root)",
		`<ns0:Patient xmlns:ns0="http://hl7.org/fhir" xmlns:html="http://www.w3.org/1999/xhtml"><ns0:text><ns0:status value="generated" />` +
			`<html:div><html:p class="c" id="p1">a &amp; b &lt;c&gt; d` + "\n" + `e</html:p><html:br /><html:p /></html:div></ns0:text>` +
			`<ns0:name><ns0:family value="x y&#10;z" /></ns0:name></ns0:Patient>`},
	{"XML-NS prefix for XHTML declared on the div",
		`<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><h:div xmlns:h="http://www.w3.org/1999/xhtml"><h:p id="p1" class="c">a &amp; b &lt;c> d` + "\n" + `e</h:p><h:br></h:br><h:p></h:p></h:div></text><name><family value="x y&#10;z"/></name></Patient>`},
	{"XML-NS default namespace declared on every element",
		`<Patient xmlns="http://hl7.org/fhir"><text xmlns="http://hl7.org/fhir"><status xmlns="http://hl7.org/fhir" value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p xmlns="http://www.w3.org/1999/xhtml" class="c" id="p1">a &amp; b &lt;c&gt; d` + "\n" + `e</p><br xmlns="http://www.w3.org/1999/xhtml"/><p/></div></text><name xmlns="http://hl7.org/fhir"><family value="x y&#10;z"/></name></Patient>`},
	{"XML-NS prefixed FHIR with the default namespace for XHTML",
		`<f:Patient xmlns:f="http://hl7.org/fhir" xmlns="http://www.w3.org/1999/xhtml"><f:text><f:status value="generated"/><div><p class="c" id="p1">a &amp; b &lt;c&gt; d` + "\n" + `e</p><br/><p/></div></f:text><f:name><f:family value="x y&#10;z"/></f:name></f:Patient>`},
	{"XML-1.0-2.7 CDATA and comments with & in the narrative",
		`<Patient xmlns="http://hl7.org/fhir"><!-- a & b --><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p class="c" id="p1"><![CDATA[a & b <c>]]><!-- & --> d` + "\n" + `<?pi & ?>e</p><!-- <br/> & --><br/><p><!----></p></div></text><name><family value="x y&#10;z"/></name></Patient>`},
	{"XML-1.0-2.11 CRLF and CR line ends",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Patient xmlns=\"http://hl7.org/fhir\">\r\n<text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\"><p class=\"c\" id=\"p1\">a &amp; b &lt;c&gt; d\r\ne</p><br/><p></p></div></text>\r<name><family value=\"x\r\ny&#10;z\"/></name></Patient>\r\n"},
	{"XML-1.0-3.3.3 whitespace in attribute values becomes spaces",
		"<Patient xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\"><p class=\"c\" id=\"p1\">a &amp; b &lt;c&gt; d\ne</p><br/><p></p></div></text><name><family value=\"x\ny&#10;z\"/></name></Patient>"},
	{"XML-1.0-3.3.3 tab in an attribute value",
		"<Patient xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\"><p class=\"c\" id=\"p1\">a &amp; b &lt;c&gt; d\ne</p><br/><p></p></div></text><name><family value=\"x\ty&#10;z\"/></name></Patient>"},
	{"XML-1.0-3.1 single quotes and whitespace inside tags",
		"<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n<Patient\n\txmlns = 'http://hl7.org/fhir' ><text ><status value='generated'\n/><div xmlns='http://www.w3.org/1999/xhtml'><p\nid='p1'  class = \"c\">a &amp; b &lt;c&gt; d\ne</p\n><br /><p></p ></div></text><name><family value='x y&#10;z'/></name\t></Patient >"},
	{"XML-1.0-4.1 character references for every character",
		`<Patient xmlns="http://hl7.org/fhir"><text><status value="&#x67;enerated"/><div xmlns="http://www.w3.org/1999/xhtml"><p class="&#99;" id="p1">a &#38; b &#60;c&#62; d&#xA;e</p><br/><p></p></div></text><name><family value="x&#32;y&#x0A;z"/></name></Patient>`},
	{"UTF-8 byte order mark", "\xEF\xBB\xBF" + canonicalPatient},
}

const xh = `xmlns="http://www.w3.org/1999/xhtml"`

// narrativeForms are narratives and their canonical forms.
var narrativeForms = []struct{ name, in, want string }{
	{"attributes sorted, xml: kept", `<div ` + xh + ` xml:lang="en" title="t" class="c"/>`, `<div ` + xh + ` class="c" title="t" xml:lang="en"></div>`},
	{"XML-NS attribute of another namespace keeps its namespace",
		`<div ` + xh + ` xmlns:q="urn:q" xmlns:a="urn:a"><p q:x="1" a:y="2" z="3"/></div>`,
		`<div ` + xh + `><p xmlns:ns1="urn:a" xmlns:ns2="urn:q" z="3" ns1:y="2" ns2:x="1"></p></div>`},
	{"element of another namespace declares it", `<div ` + xh + `><m:math xmlns:m="urn:m"><m:mi>x</m:mi></m:math></div>`,
		`<div ` + xh + `><math xmlns="urn:m"><mi>x</mi></math></div>`},
	{"element in no namespace", `<div ` + xh + `><x xmlns=""/></div>`, `<div ` + xh + `><x xmlns=""/></div>`},
	{"attribute values escaped", `<div ` + xh + ` title="a&quot;b&#9;c&#13;&lt;&gt;&amp;'"/>`, `<div ` + xh + ` title="a&quot;b&#9;c&#13;&lt;&gt;&amp;'"></div>`},
	{"character reference to CR in text", `<div ` + xh + `>a&#13;b</div>`, `<div ` + xh + `>a&#13;b</div>`},
	{"non-ASCII literal", `<div ` + xh + `>&#163;&#x1F600;é</div>`, "<div " + xh + ">£😀é</div>"},
	{"void elements", `<div ` + xh + `><img src="a"></img><hr/><br>x</br></div>`, `<div ` + xh + `><img src="a"/><hr/><br>x</br></div>`},
}

// TestNarrativeCanonicalForm checks the rules of the canonical narrative
// on what XHTML allows beyond the common case.
func TestNarrativeCanonicalForm(t *testing.T) {
	for _, tt := range narrativeForms {
		t.Run(tt.name, func(t *testing.T) {
			in := `<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/>` + tt.in + `</text></Patient>`
			res, _, err := fhir.DecodeXML(strings.NewReader(in), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.(*fhir.Patient).Text.Div; got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			// canonical is a fixed point, from JSON too
			js := mustEncodeJSON(t, res, nil)
			back, _, err := fhir.DecodeJSON(bytes.NewReader(js), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := back.(*fhir.Patient).Text.Div; got != tt.want {
				t.Errorf("from JSON: got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestEncodeCanonicalizesNarrative: a div built in code is written in
// canonical form; one that is not well-formed is an EncodeError.
func TestEncodeCanonicalizesNarrative(t *testing.T) {
	p := &fhir.Patient{Text: &fhir.Narrative{Status: fhir.NewCode("generated"),
		Div: `<h:div xmlns:h="http://www.w3.org/1999/xhtml"><h:p>a<![CDATA[&]]></h:p></h:div>`}}
	want := `<div xmlns="http://www.w3.org/1999/xhtml"><p>a&amp;</p></div>`
	if got := mustEncodeXML(t, p, &fhir.EncodeOptions{Compact: true}); !bytes.Contains(got, []byte(want)) {
		t.Errorf("XML: got %s, want it to contain %s", got, want)
	}
	if got := mustEncodeJSON(t, p, &fhir.EncodeOptions{Compact: true}); !bytes.Contains(got, []byte(strings.ReplaceAll(want, `"`, `\"`))) {
		t.Errorf("JSON: got %s, want it to contain %s", got, want)
	}
	for _, div := range []string{`<div xmlns="http://www.w3.org/1999/xhtml"><p></div>`, `<div>x</div>`, `<h:div>x</h:div>`, `text`} {
		p.Text.Div = div
		for _, enc := range []func(io.Writer, fhir.Resource, *fhir.EncodeOptions) error{fhir.EncodeXML, fhir.EncodeJSON} {
			var ee *fhir.EncodeError
			if err := enc(io.Discard, p, nil); !errors.As(err, &ee) || ee.Path != "Patient.text.div" {
				t.Errorf("div %q: got %v, want an EncodeError at Patient.text.div", div, err)
			}
		}
	}
}

// TestXMLNotWellFormed lists input that XML 1.0 or XML Namespaces forbids.
func TestXMLNotWellFormed(t *testing.T) {
	for _, tt := range notWellFormed {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := fhir.DecodeXML(strings.NewReader(tt.in), nil)
			var se *fhir.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %T %v, want *fhir.SyntaxError", err, err)
			}
			if !strings.Contains(se.Msg, tt.wantMsg) {
				t.Errorf("got %q, want it to contain %q", se.Msg, tt.wantMsg)
			}
		})
	}
}

const (
	fhirRoot = `<Patient xmlns="http://hl7.org/fhir">`
	divStart = fhirRoot + `<text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">`
)

// notWellFormed is input that XML 1.0 or XML Namespaces forbids.
var notWellFormed = []struct{ name, in, wantMsg string }{
	{"XML-NS unbound element prefix", `<f:Patient xmlns:g="http://hl7.org/fhir"/>`, "namespace prefix f (in f:Patient) is not declared"},
	{"XML-NS unbound attribute prefix", fhirRoot + `<active value="true" q:x="1"/></Patient>`, "namespace prefix q (in q:x) is not declared"},
	{"XML-NS prefix used outside its scope", `<f:Patient xmlns:f="http://hl7.org/fhir"><f:text><f:status value="generated"/><h:div xmlns:h="http://www.w3.org/1999/xhtml"/></f:text><h:x/></f:Patient>`, "namespace prefix h (in h:x) is not declared"},
	{"XML-NS two prefixes one attribute", fhirRoot + `<active xmlns:a="urn:x" xmlns:b="urn:x" a:y="1" b:y="2" value="true"/></Patient>`, "repeats another's namespace urn:x and name"},
	{"XML-NS prefix undeclared with empty name", fhirRoot + `<active xmlns:a="" value="true"/></Patient>`, "declared with an empty namespace name"},
	{"XML-NS xml prefix rebound", fhirRoot + `<active xmlns:xml="urn:x" value="true"/></Patient>`, "only the prefix xml may be bound"},
	{"XML-NS xmlns prefix declared", fhirRoot + `<active xmlns:xmlns="urn:x" value="true"/></Patient>`, "the prefix xmlns must not be declared"},
	{"XML-NS two colons", fhirRoot + `<active a:b:c="1" value="true"/></Patient>`, "is not a qualified name"},
	{"XML-1.0-3.1 attribute repeated", fhirRoot + `<active value="true" value="false"/></Patient>`, "attribute value repeated in <active>"},
	{"XML-1.0-3.1 namespace declaration repeated", `<Patient xmlns="http://hl7.org/fhir" xmlns="http://hl7.org/fhir"/>`, "attribute xmlns repeated"},
	{"XML-1.0-3.1 lt in attribute value", fhirRoot + `<active value="<"/></Patient>`, "'<' in an attribute value"},
	{"XML-1.0-2.5 double hyphen in comment", fhirRoot + `<!-- a -- b --></Patient>`, "'--' inside a comment"},
	{"XML-1.0-2.4 CDATA end in text", divStart + `a ]]> b</div></text></Patient>`, "']]>' is not allowed in text"},
	{"XML-1.0-2.2 control character in text", divStart + "a \x01 b</div></text></Patient>", "control character 0x01"},
	{"XML-1.0-2.2 control character in attribute", fhirRoot + "<active value=\"a\x02\"/></Patient>", "control character 0x02"},
	{"XML-1.0-2.2 character reference to NUL", fhirRoot + `<gender value="&#0;"/></Patient>`, "character reference &#0; is not an XML character"},
	{"XML-1.0-2.2 invalid UTF-8", divStart + "a \xff b</div></text></Patient>", "invalid UTF-8"},
	{"XML-1.0-2.8 declaration not at the start", `<!-- c --><?xml version="1.0"?>` + fhirRoot + `</Patient>`, "allowed only at the start"},
	{"XML-1.0-2.8 malformed declaration", `<?xml encoding="UTF-8"?>` + fhirRoot + `</Patient>`, "malformed XML declaration"},
	{"XML-1.0-4.3.3 UTF-16 byte order mark", "\xFF\xFE<\x00", "UTF-16 byte order mark"},
	{"XML-1.0-2.1 text after the root", fhirRoot + `</Patient> x`, "text outside the root element"},
	{"XML-1.0-2.8 DTD", `<!DOCTYPE Patient []>` + fhirRoot + `</Patient>`, "DTDs and entity declarations are not allowed"},
	{"XML-1.0-2.3 name starting with a digit", fhirRoot + `<1a/></Patient>`, "malformed name 1a"},
	{"narrative element not closed", divStart + `<p>x</div></text></Patient>`, "end tag </div> does not match <p>"},
	{"narrative prefix unbound", divStart + `<h:p>x</h:p></div></text></Patient>`, "namespace prefix h (in h:p) is not declared"},
}

// TestElementCaps: attributes and namespace declarations per element are
// capped, with a LimitError that says which limit (issue 23).
func TestElementCaps(t *testing.T) {
	many := func(format string, n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(strings.ReplaceAll(format, "N", "n"+strconv.Itoa(i)))
		}
		return b.String()
	}
	tests := []struct {
		name  string
		in    string
		opts  *fhir.DecodeOptions
		limit string
	}{
		{"257 attributes", `<Patient xmlns="http://hl7.org/fhir"` + many(` N="v"`, 257) + `/>`, nil, "attributes"},
		{"65 namespace declarations", `<Patient xmlns="http://hl7.org/fhir"` + many(` xmlns:N="urn:x"`, 64) + `/>`, nil, "namespace declarations"},
		{"configured", `<Patient xmlns="http://hl7.org/fhir"><active value="true" id="a"/></Patient>`, &fhir.DecodeOptions{MaxAttributes: 1}, "attributes"},
		{"long name", `<Patient xmlns="http://hl7.org/fhir"><` + strings.Repeat("a", 5000) + `/></Patient>`, nil, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := fhir.DecodeXML(strings.NewReader(tt.in), tt.opts)
			var le *fhir.LimitError
			if !errors.As(err, &le) || le.Limit != tt.limit {
				t.Fatalf("got %T %v, want a LimitError on %s", err, err, tt.limit)
			}
			t.Log(err)
		})
	}
	// 256 attributes and 64 declarations are accepted (attributes of
	// other namespaces are ignored with a finding each).
	in := `<f:Patient xmlns:f="http://hl7.org/fhir"` + many(` xmlns:N="urn:x"`, 63) + `><f:active value="true"` + many(` n0:N="v"`, 255) + `/></f:Patient>`
	if _, findings, err := fhir.DecodeXML(strings.NewReader(in), nil); err != nil || len(findings) != 255 {
		t.Errorf("at the caps: %d findings, %v", len(findings), err)
	}
}

// TestDecodeContext: decoding stops when its context ends.
func TestDecodeContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := &streamReader{head: []byte(`<Bundle xmlns="http://hl7.org/fhir">`), body: []byte("<!-- padding -->\n"), size: 1 << 20}
	_, _, err := fhir.DecodeXMLContext(ctx, r, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("XML: got %v, want context.Canceled", err)
	}
	_, _, err = fhir.DecodeJSONContext(ctx, strings.NewReader(`{"resourceType":"Patient"}`), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("JSON: got %v, want context.Canceled", err)
	}
	if r.n > 64<<10 {
		t.Errorf("read %d bytes after the context ended", r.n)
	}
}

// TestLongValuesStream: values longer than the reader's buffers (an
// attribute value and a JSON string past 64 KiB go to chunks, narrative
// text comes in pieces) read the same whole and in chunks of any size,
// with references, line ends and multi-byte characters across every
// boundary.
func TestLongValuesStream(t *testing.T) {
	const n = 9000
	xmlPiece, want := "a&amp;\r\n\u00e9&#x1F600;<>\t", "a& \u00e9\U0001F600<> " // as an attribute value
	xmlPiece = strings.ReplaceAll(xmlPiece, "<>", "&lt;&gt;")
	jsonPiece, jwant := `a&\r\n\u00e9\ud83d\ude00<>\t`, "a&\r\n\u00e9\U0001F600<>\t"
	textPiece, twant := "a&amp;\r\n\u00e9<![CDATA[&<]]>&#x1F600;", "a&amp;\n\u00e9&amp;&lt;\U0001F600"
	docs := []struct {
		name, doc string
		json      bool
		get       func(fhir.Resource) string
		want      string
	}{
		{"XML attribute value", `<Patient xmlns="http://hl7.org/fhir"><gender value="` + strings.Repeat(xmlPiece, n) + `"/></Patient>`, false,
			func(r fhir.Resource) string { return r.(*fhir.Patient).Gender.Value }, strings.Repeat(want, n)},
		{"XML narrative text", divStart + strings.Repeat(textPiece, n) + `</div></text></Patient>`, false,
			func(r fhir.Resource) string { return r.(*fhir.Patient).Text.Div },
			`<div xmlns="http://www.w3.org/1999/xhtml">` + strings.Repeat(twant, n) + `</div>`},
		{"JSON string", `{"resourceType":"Patient","gender":"` + strings.Repeat(jsonPiece, n) + `"}`, true,
			func(r fhir.Resource) string { return r.(*fhir.Patient).Gender.Value }, strings.Repeat(jwant, n)},
	}
	for _, d := range docs {
		for _, chunk := range []int{0, 1, 7, 4093, 40_000} {
			t.Run(d.name+"/"+strconv.Itoa(chunk), func(t *testing.T) {
				var r io.Reader = strings.NewReader(d.doc)
				if chunk > 0 {
					r = &chunkReader{data: []byte(d.doc), n: chunk}
				}
				dec := fhir.DecodeXML
				if d.json {
					dec = fhir.DecodeJSON
				}
				res, _, err := dec(r, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got := d.get(res); got != d.want {
					i := 0
					for i < min(len(got), len(d.want)) && got[i] == d.want[i] {
						i++
					}
					t.Fatalf("differs at byte %d of %d (want %d): got %q", i, len(got), len(d.want), got[i:min(len(got), i+40)])
				}
			})
		}
	}
}
