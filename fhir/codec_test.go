package fhir_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
)

const ns = `xmlns="http://hl7.org/fhir"`

func TestDecodeXMLErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantPath string
		wantMsg  string
		wantLine int
	}{
		{name: "unknown element", in: `<Patient ` + ns + `><colour value="blue"/></Patient>`, wantPath: "Patient.colour", wantMsg: "unknown element"},
		{name: "unknown nested element", in: `<Patient ` + ns + `><name><given value="a"/><nick value="b"/></name></Patient>`, wantPath: "Patient.name[0].nick", wantMsg: "unknown element"},
		{name: "unknown attribute", in: `<Patient ` + ns + `><active value="true" colour="x"/></Patient>`, wantPath: "Patient.active", wantMsg: "unknown attribute colour"},
		{name: "no namespace", in: `<Patient><active value="true"/></Patient>`, wantMsg: "has no namespace"},
		{name: "wrong namespace", in: `<Patient xmlns="urn:x"/>`, wantMsg: `is in namespace "urn:x"`},
		{name: "unknown resource", in: `<Frobnicator ` + ns + `/>`, wantMsg: "unknown resource type <Frobnicator>"},
		{name: "singleton repeated", in: `<Patient ` + ns + `><active value="true"/><active value="false"/></Patient>`, wantPath: "Patient.active", wantMsg: "repeated but allows at most one"},
		{name: "two choice types", in: `<Patient ` + ns + `><deceasedBoolean value="true"/><deceasedDateTime value="2020"/></Patient>`, wantPath: "Patient.deceasedDateTime", wantMsg: "more than one deceased[x] given"},
		{name: "bad boolean", in: `<Patient ` + ns + `><active value="yes"/></Patient>`, wantPath: "Patient.active", wantMsg: "boolean value must be true or false"},
		{name: "bad integer", in: `<Patient ` + ns + `><multipleBirthInteger value="1.5"/></Patient>`, wantPath: "Patient.multipleBirthInteger", wantMsg: "not a valid 32-bit integer"},
		{name: "bad decimal", in: `<Observation ` + ns + `><valueQuantity><value value="1,5"/></valueQuantity></Observation>`, wantPath: "Observation.valueQuantity.value", wantMsg: "not a valid decimal"},
		{name: "empty value attribute", in: `<Patient ` + ns + `><gender value=""/></Patient>`, wantPath: "Patient.gender", wantMsg: "empty value"},
		{name: "text content", in: `<Patient ` + ns + `><gender>male</gender></Patient>`, wantPath: "Patient.gender", wantMsg: "unexpected text"},
		{name: "cdata content", in: `<Patient ` + ns + `><![CDATA[x]]></Patient>`, wantPath: "Patient", wantMsg: "unexpected text"},
		{name: "mismatched end tag", in: "<Patient " + ns + ">\n<active value=\"true\">\n</Patient>", wantMsg: "end tag </Patient> does not match <active>", wantLine: 3},
		{name: "unclosed", in: `<Patient ` + ns + `><active value="true"/>`, wantMsg: "unexpected end of input"},
		{name: "two roots", in: `<Patient ` + ns + `/><Patient ` + ns + `/>`, wantMsg: "more than one root element"},
		{name: "empty input", in: ``, wantMsg: "input is empty"},
		{name: "div in wrong namespace", in: `<Patient ` + ns + `><text><status value="generated"/><div>x</div></text></Patient>`, wantPath: "Patient.text", wantMsg: "want http://www.w3.org/1999/xhtml"},
		{name: "bad entity in narrative", in: `<Patient ` + ns + `><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">&nbsp;</div></text></Patient>`, wantPath: "Patient.text.div", wantMsg: "unknown entity &nbsp;"},
		{name: "two resources in a container", in: `<Bundle ` + ns + `><entry><resource><Patient/><Patient/></resource></entry></Bundle>`, wantPath: "Bundle.entry[0].resource", wantMsg: "more than one resource"},
		{name: "doctype", in: `<!DOCTYPE Patient><Patient ` + ns + `/>`, wantMsg: "DTDs and entity declarations are not allowed"},
		{name: "unquoted attribute", in: `<Patient ` + ns + `><active value=true/></Patient>`, wantMsg: "not quoted"},
		{name: "latin-1 declared", in: `<?xml version="1.0" encoding="ISO-8859-1"?><Patient ` + ns + `/>`, wantMsg: "only UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := fhir.DecodeXML(strings.NewReader(tt.in), nil)
			var se *fhir.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %T %v, want *fhir.SyntaxError", err, err)
			}
			if se.Path != tt.wantPath && tt.wantPath != "" {
				t.Errorf("path: got %q, want %q", se.Path, tt.wantPath)
			}
			if !strings.Contains(se.Msg, tt.wantMsg) {
				t.Errorf("message: got %q, want it to contain %q", se.Msg, tt.wantMsg)
			}
			if tt.wantLine != 0 && se.Line != tt.wantLine {
				t.Errorf("line: got %d, want %d", se.Line, tt.wantLine)
			}
			if se.Format != "xml" || se.Offset < 0 {
				t.Errorf("format %q offset %d", se.Format, se.Offset)
			}
		})
	}
}

func TestDecodeXMLLenient(t *testing.T) {
	in := `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment before the root -->
<?some-pi data?>
<Patient ` + ns + ` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://hl7.org/fhir patient.xsd">
  <gender value="female"/><!-- comment between elements -->
  <active value="true"/>
  <name><given value="A"/><family value="B"/><given value="C"/></name>
</Patient>`
	res, findings, err := fhir.DecodeXML(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Patient: attribute schemaLocation of namespace http://www.w3.org/2001/XMLSchema-instance ignored",
		"Patient.active: element active out of order: it must come before gender",
		"Patient.name[0]: element name out of order: it must come before gender",
		"Patient.name[0].family: element family out of order: it must come before given",
	}
	var got []string
	for _, f := range findings {
		got = append(got, f.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\ngot  %q\nwant %q", got, want)
	}
	p := res.(*fhir.Patient)
	if g := p.Name[0].Given; len(g) != 2 || g[0].String() != "A" || g[1].String() != "C" {
		t.Errorf("given: got %v", g)
	}
	var out bytes.Buffer
	if err := fhir.EncodeXML(&out, res, &fhir.EncodeOptions{Compact: true}); err != nil {
		t.Fatal(err)
	}
	wantXML := `<Patient xmlns="http://hl7.org/fhir"><active value="true"/><name><family value="B"/><given value="A"/><given value="C"/></name><gender value="female"/></Patient>`
	if out.String() != wantXML {
		t.Errorf("canonical XML:\ngot  %s\nwant %s", out.String(), wantXML)
	}
}

// TestLexicalFormsSurvive checks that primitive values keep their exact
// text through XML -> JSON -> XML, and that JSON writes numbers and
// booleans unquoted and ids/extensions of primitives as _name.
func TestLexicalFormsSurvive(t *testing.T) {
	in := `<Observation ` + ns + `>
  <id value="o1"/>
  <status value="final"/>
  <code><coding><system value="http://snomed.info/sct"/><code value="1"/><userSelected value="false"/></coding></code>
  <effectiveDateTime value="2019-04-25T10:05:00+01:00"/>
  <valueQuantity><value value="1.50"/><unit value="kg"/></valueQuantity>
  <referenceRange><low><value value="-0.0"/></low><high><value value="1.0E2"/></high><text value="line 1&#10;line 2 &amp; &lt;3 &quot;q&quot;"/></referenceRange>
  <component><code><text value="c"/></code><valueTime value="10:05:00"/></component>
</Observation>`
	res, _, err := fhir.DecodeXML(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	js := mustEncodeJSON(t, res, &fhir.EncodeOptions{Compact: true})
	for _, want := range []string{`"value":1.50`, `"effectiveDateTime":"2019-04-25T10:05:00+01:00"`, `"value":-0.0`, `"value":1.0E2`, `"userSelected":false`, `"valueTime":"10:05:00"`, `"text":"line 1\nline 2 & <3 \"q\""`} {
		if !bytes.Contains(js, []byte(want)) {
			t.Errorf("JSON lacks %s:\n%s", want, js)
		}
	}
	back, _, err := fhir.DecodeJSON(bytes.NewReader(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := mustEncodeXML(t, back, nil)
	if want := mustEncodeXML(t, res, nil); !bytes.Equal(got, want) {
		t.Errorf("XML after JSON:\n%s\nwant\n%s", got, want)
	}
	o := back.(*fhir.Observation)
	q := o.Value.(*fhir.Quantity)
	if q.Value.String() != "1.50" {
		t.Errorf("decimal: got %q, want 1.50", q.Value.String())
	}
	if f, err := q.Value.Float64(); err != nil || f != 1.5 {
		t.Errorf("Float64: got %v, %v", f, err)
	}
	p := &fhir.Patient{MultipleBirth: fhir.NewInteger(-7)}
	if n, err := p.MultipleBirth.(*fhir.Integer).Int(); err != nil || n != -7 {
		t.Errorf("Int: got %v, %v", n, err)
	}
}

func TestPrimitiveExtensionsInJSON(t *testing.T) {
	in := `<Patient ` + ns + `><name><given value="A"/><given id="g2"><extension url="http://example.org/x"><valueCode value="y"/></extension></given><given value="C"/></name><birthDate id="b" value="1970-01-01"/></Patient>`
	res, _, err := fhir.DecodeXML(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	js := mustEncodeJSON(t, res, &fhir.EncodeOptions{Compact: true})
	want := `{"resourceType":"Patient","name":[{"given":["A",null,"C"],"_given":[null,{"id":"g2","extension":[{"url":"http://example.org/x","valueCode":"y"}]},null]}],"birthDate":"1970-01-01","_birthDate":{"id":"b"}}`
	if string(js) != want {
		t.Errorf("JSON:\ngot  %s\nwant %s", js, want)
	}
	back, findings, err := fhir.DecodeJSON(bytes.NewReader(js), nil)
	if err != nil || len(findings) != 0 {
		t.Fatalf("DecodeJSON: %v %v", findings, err)
	}
	if got, want := mustEncodeXML(t, back, nil), mustEncodeXML(t, res, nil); !bytes.Equal(got, want) {
		t.Errorf("XML after JSON:\n%s\nwant\n%s", got, want)
	}
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantErr  string
		wantPath string
		check    func(t *testing.T, r fhir.Resource)
	}{
		{name: "resourceType last", in: `{"active":true,"contained":[{"id":"o1","resourceType":"Organization","name":"Org"}],"resourceType":"Patient"}`, check: func(t *testing.T, r fhir.Resource) {
			p := r.(*fhir.Patient)
			if !p.Active.Bool() || p.Contained[0].(*fhir.Organization).Name.String() != "Org" {
				t.Errorf("got %+v", p)
			}
		}},
		{name: "choice with primitive extension", in: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"v","_valueString":{"id":"i"}}`, check: func(t *testing.T, r fhir.Resource) {
			s := r.(*fhir.Observation).Value.(*fhir.String)
			if s.Value != "v" || s.ID != "i" {
				t.Errorf("got %+v", s)
			}
		}},
		{name: "no resourceType", in: `{"active":true}`, wantErr: "resource has no resourceType"},
		{name: "unknown resourceType", in: `{"resourceType":"Frob"}`, wantErr: `unknown resourceType "Frob"`},
		{name: "unknown element", in: `{"resourceType":"Patient","name":[{"nick":"x"}]}`, wantErr: "unknown element", wantPath: "Patient.name[0].nick"},
		{name: "unknown underscore element", in: `{"resourceType":"Patient","_name":{}}`, wantErr: "unknown element", wantPath: "Patient._name"},
		{name: "duplicate member", in: `{"resourceType":"Patient","active":true,"active":false}`, wantErr: `member "active" repeated`},
		{name: "string for boolean", in: `{"resourceType":"Patient","active":"true"}`, wantErr: "expected a boolean, found a string", wantPath: "Patient.active"},
		{name: "number for string", in: `{"resourceType":"Patient","gender":1}`, wantErr: "expected a string, found a number"},
		{name: "object for array", in: `{"resourceType":"Patient","name":{"family":"x"}}`, wantErr: "expected an array, found an object", wantPath: "Patient.name"},
		{name: "two choice types", in: `{"resourceType":"Patient","deceasedBoolean":true,"deceasedDateTime":"2020"}`, wantErr: "more than one type given for deceased[x]"},
		{name: "bad div", in: `{"resourceType":"Patient","text":{"status":"generated","div":"<div>x</div>"}}`, wantErr: "narrative div must declare xmlns"},
		{name: "trailing data", in: `{"resourceType":"Patient"} {}`, wantErr: "data after the resource"},
		{name: "trailing comma", in: `{"resourceType":"Patient",}`, wantErr: "expected a string, found '}'"},
		{name: "bad escape", in: `{"resourceType":"Patient","id":"a\x"}`, wantErr: `bad escape \x`},
		{name: "integer with fraction", in: `{"resourceType":"Patient","multipleBirthInteger":2.0}`, wantErr: "not a valid 32-bit integer"},
		{name: "leading zero", in: `{"resourceType":"Patient","multipleBirthInteger":02}`, wantErr: "malformed number"},
		{name: "control character", in: `{"resourceType":"Patient","gender":"a\u0001"}`, wantErr: "control character"},
		{name: "truncated", in: `{"resourceType":"Patient","active":tr`, wantErr: "expected a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, err := fhir.DecodeJSON(strings.NewReader(tt.in), nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, r)
				return
			}
			var se *fhir.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %T %v, want *fhir.SyntaxError", err, err)
			}
			if !strings.Contains(se.Msg, tt.wantErr) {
				t.Errorf("got %q, want it to contain %q", se.Msg, tt.wantErr)
			}
			if tt.wantPath != "" && se.Path != tt.wantPath {
				t.Errorf("path: got %q, want %q", se.Path, tt.wantPath)
			}
		})
	}
}

func TestByteOrderMark(t *testing.T) {
	if _, _, err := fhir.DecodeXML(strings.NewReader("\xEF\xBB\xBF<Patient "+ns+"/>"), nil); err != nil {
		t.Errorf("XML: %v", err)
	}
	if _, _, err := fhir.DecodeJSON(strings.NewReader("\xEF\xBB\xBF{\"resourceType\":\"Patient\"}"), nil); err != nil {
		t.Errorf("JSON: %v", err)
	}
}

func TestDecodeInto(t *testing.T) {
	var p fhir.Patient
	if _, err := fhir.DecodeXMLInto(strings.NewReader(`<Patient `+ns+`><active value="true"/></Patient>`), &p, nil); err != nil || !p.Active.Bool() {
		t.Fatalf("DecodeXMLInto: %v %+v", err, p)
	}
	var b fhir.Bundle
	_, err := fhir.DecodeXMLInto(strings.NewReader(`<Patient `+ns+`/>`), &b, nil)
	if err == nil || !strings.Contains(err.Error(), "document is a Patient, want Bundle") {
		t.Errorf("XML mismatch: got %v", err)
	}
	_, err = fhir.DecodeJSONInto(strings.NewReader(`{"resourceType":"Patient"}`), &b, nil)
	if err == nil || !strings.Contains(err.Error(), "document is a Patient, want Bundle") {
		t.Errorf("JSON mismatch: got %v", err)
	}
}

// TestBuildAndEncode builds a message the way callers do and checks both
// encodings.
func TestBuildAndEncode(t *testing.T) {
	h := &fhir.MessageHeader{
		ID: fhir.NewID("h1"),
		Extension: []*fhir.Extension{{
			URL: "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2",
			Extension: []*fhir.Extension{
				{URL: "BusAckRequested", Value: fhir.NewBoolean(true)},
				{URL: "RecipientType", Value: &fhir.Coding{System: fhir.NewURI("https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1"), Code: fhir.NewCode("FA")}},
			},
		}},
		Event:     &fhir.Coding{Code: fhir.NewCode("ITK007C")},
		Timestamp: fhir.NewInstant("2019-04-25T10:05:00+01:00"),
		Source:    &fhir.MessageHeaderSource{Endpoint: fhir.NewURI("urn:nhs-uk:addressing:ods:A1")},
		Focus:     []*fhir.Reference{{Reference: fhir.NewString("urn:uuid:1")}},
	}
	b := &fhir.Bundle{Type: fhir.NewCode("message"), Entry: []*fhir.BundleEntry{{FullURL: fhir.NewURI("urn:uuid:h1"), Resource: h}}}
	x := mustEncodeXML(t, b, &fhir.EncodeOptions{Compact: true})
	wantX := `<Bundle xmlns="http://hl7.org/fhir"><type value="message"/><entry><fullUrl value="urn:uuid:h1"/><resource><MessageHeader><id value="h1"/><extension url="https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2"><extension url="BusAckRequested"><valueBoolean value="true"/></extension><extension url="RecipientType"><valueCoding><system value="https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1"/><code value="FA"/></valueCoding></extension></extension><event><code value="ITK007C"/></event><timestamp value="2019-04-25T10:05:00+01:00"/><source><endpoint value="urn:nhs-uk:addressing:ods:A1"/></source><focus><reference value="urn:uuid:1"/></focus></MessageHeader></resource></entry></Bundle>`
	if string(x) != wantX {
		t.Errorf("XML:\ngot  %s\nwant %s", x, wantX)
	}
	j := mustEncodeJSON(t, b, &fhir.EncodeOptions{Compact: true})
	wantJ := `{"resourceType":"Bundle","type":"message","entry":[{"fullUrl":"urn:uuid:h1","resource":{"resourceType":"MessageHeader","id":"h1","extension":[{"extension":[{"url":"BusAckRequested","valueBoolean":true},{"url":"RecipientType","valueCoding":{"system":"https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1","code":"FA"}}],"url":"https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2"}],"event":{"code":"ITK007C"},"timestamp":"2019-04-25T10:05:00+01:00","source":{"endpoint":"urn:nhs-uk:addressing:ods:A1"},"focus":[{"reference":"urn:uuid:1"}]}}]}`
	if string(j) != wantJ {
		t.Errorf("JSON:\ngot  %s\nwant %s", j, wantJ)
	}
	// a nil list element is an error naming its path, not a panic
	b.Entry = append(b.Entry, nil)
	var buf bytes.Buffer
	err := fhir.EncodeXML(&buf, b, nil)
	var ee *fhir.EncodeError
	if !errors.As(err, &ee) || ee.Path != "Bundle.entry[1]" {
		t.Errorf("nil entry: got %v", err)
	}
	if err := fhir.EncodeJSON(&buf, nil, nil); err == nil {
		t.Error("nil resource encoded")
	}
	bad := []struct {
		name     string
		res      fhir.Resource
		wantPath string
		wantMsg  string
	}{
		{name: "nil choice pointer", res: &fhir.Observation{Value: (*fhir.Quantity)(nil)}, wantPath: "Observation.value[x]", wantMsg: "holds a nil *fhir.Quantity"},
		{name: "nil extension of a primitive", res: &fhir.Patient{Gender: &fhir.Code{Value: "male", Extension: []*fhir.Extension{nil}}}, wantPath: "Patient.gender.extension[0]", wantMsg: "nil element"},
		{name: "nil choice inside a primitive's extension", res: &fhir.Patient{Gender: &fhir.Code{Value: "male", Extension: []*fhir.Extension{{URL: "u", Value: (*fhir.String)(nil)}}}}, wantPath: "Patient.gender.extension[0].value[x]", wantMsg: "holds a nil *fhir.String"},
	}
	for _, tt := range bad {
		for _, enc := range []func(io.Writer, fhir.Resource, *fhir.EncodeOptions) error{fhir.EncodeXML, fhir.EncodeJSON} {
			err := enc(io.Discard, tt.res, nil)
			if !errors.As(err, &ee) || ee.Path != tt.wantPath || !strings.Contains(ee.Msg, tt.wantMsg) {
				t.Errorf("%s: got %v, want EncodeError at %s: %s", tt.name, err, tt.wantPath, tt.wantMsg)
			}
		}
	}
}
