package fhirtest_test

import (
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir/fhirtest"
)

func TestCanonicalXML(t *testing.T) {
	base := `<P xmlns="http://hl7.org/fhir"><a value="1"/><b value="2"/><a value="3"/><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p><i>y</i></div></P>`
	tests := []struct {
		name  string
		other string
		equal bool
	}{
		{name: "identical", other: base, equal: true},
		{name: "different names reordered, comments and whitespace", other: `<?xml version="1.0"?><!-- c --><P xmlns="http://hl7.org/fhir">
  <b value="2"/>
  <a value="1"/><a value="3"/>
  <div xmlns="http://www.w3.org/1999/xhtml"><p>x</p><i>y</i></div></P>`, equal: true},
		{name: "prefixed namespace", other: `<f:P xmlns:f="http://hl7.org/fhir"><f:a value="1"/><f:b value="2"/><f:a value="3"/><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p><i>y</i></div></f:P>`, equal: true},
		{name: "repeated elements swapped", other: `<P xmlns="http://hl7.org/fhir"><a value="3"/><b value="2"/><a value="1"/><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p><i>y</i></div></P>`},
		{name: "attribute changed", other: `<P xmlns="http://hl7.org/fhir"><a value="1"/><b value="X"/><a value="3"/><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p><i>y</i></div></P>`},
		{name: "element missing", other: `<P xmlns="http://hl7.org/fhir"><a value="1"/><a value="3"/><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p><i>y</i></div></P>`},
		{name: "xhtml reordered", other: `<P xmlns="http://hl7.org/fhir"><a value="1"/><b value="2"/><a value="3"/><div xmlns="http://www.w3.org/1999/xhtml"><i>y</i><p>x</p></div></P>`},
		{name: "xhtml whitespace", other: `<P xmlns="http://hl7.org/fhir"><a value="1"/><b value="2"/><a value="3"/><div xmlns="http://www.w3.org/1999/xhtml"><p>x </p><i>y</i></div></P>`},
		{name: "namespace changed", other: `<P xmlns="urn:other"><a value="1"/><b value="2"/><a value="3"/><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p><i>y</i></div></P>`},
	}
	want, err := fhirtest.CanonicalXML([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fhirtest.CanonicalXML([]byte(tt.other))
			if err != nil {
				t.Fatal(err)
			}
			if d := fhirtest.Diff(got, want); (d == "") != tt.equal {
				t.Errorf("equal: got %v, want %v (%s)", d == "", tt.equal, d)
			}
		})
	}
	if _, err := fhirtest.CanonicalXML([]byte("<a>")); err == nil || !strings.Contains(err.Error(), "fhirtest") {
		t.Errorf("malformed: got %v", err)
	}
}

func TestCanonicalJSON(t *testing.T) {
	a, err := fhirtest.CanonicalJSON([]byte(`{"b":1.50,"a":[1,2]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := fhirtest.CanonicalJSON([]byte(`{"a":[1,2], "b":1.50}`))
	c, _ := fhirtest.CanonicalJSON([]byte(`{"a":[1,2], "b":1.5}`))
	if a != b {
		t.Errorf("key order matters: %s vs %s", a, b)
	}
	if a == c {
		t.Errorf("1.50 and 1.5 compare equal; lexical forms must be kept")
	}
}
