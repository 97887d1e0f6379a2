package fhir_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/internal/testutil/growth"
)

// repeat returns n copies of format with every N replaced by the copy's
// number.
func repeat(format string, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.ReplaceAll(format, "N", strconv.Itoa(i)))
	}
	return b.String()
}

// raised lifts every count limit so that the hostile dimension is parsed
// in full rather than refused.
var raised = &fhir.DecodeOptions{MaxBytes: 1 << 30, MaxDepth: 1 << 20, MaxElements: 1 << 24, MaxAttributes: 1 << 24, MaxNamespaces: 1 << 24}

// hostileDims are documents that grow one dimension with n: each is read
// with opts and must be accepted (wantErr "") or refused with an error
// containing wantErr. The sizes keep the larger document near 1 MB, so
// that both sizes meet the same caches.
var hostileDims = []struct {
	name    string
	n       int
	json    bool
	opts    *fhir.DecodeOptions
	wantErr string
	doc     func(n int) string
}{
	{name: "attributes of one element", n: 20_000, opts: raised, doc: func(n int) string {
		return `<Patient xmlns="http://hl7.org/fhir"><active xmlns:q="urn:q" value="true"` + repeat(` q:aN="v"`, n) + `/></Patient>`
	}},
	{name: "attributes refused by the cap", n: 20_000, wantErr: "more than 256 attributes", doc: func(n int) string {
		return string(growth.ManyAttributes(n))
	}},
	{name: "namespace declarations in use", n: 5_000, opts: raised, doc: func(n int) string {
		return `<Bundle xmlns="http://hl7.org/fhir"` + repeat(` xmlns:pN="http://hl7.org/fhir"`, n) + `>` + repeat(`<pN:entry><pN:fullUrl value="urn:x"/></pN:entry>`, n) + `</Bundle>`
	}},
	// Nesting is bounded by MaxDepth (200): documents nest up to it in
	// many sibling groups, or beyond it and are refused.
	{name: "nesting up to the depth limit", n: 50, doc: func(n int) string {
		return `<Patient xmlns="http://hl7.org/fhir">` + strings.Repeat(strings.Repeat(`<extension url="x">`, n-2)+strings.Repeat(`</extension>`, n-2), 80) + `</Patient>`
	}},
	{name: "nesting refused by the depth limit", n: 1_000, wantErr: "deeper than 200", doc: func(n int) string {
		return `<Patient xmlns="http://hl7.org/fhir">` + strings.Repeat(`<extension url="x">`, n) + strings.Repeat(`</extension>`, n) + `</Patient>`
	}},
	{name: "nesting in the narrative", n: 50, doc: func(n int) string {
		return `<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">` +
			strings.Repeat(strings.Repeat(`<span class="c">`, n-4)+strings.Repeat(`</span>`, n-4), 80) + `</div></text></Patient>`
	}},
	{name: "nesting with a declaration each", n: 50, doc: func(n int) string {
		return `<Patient xmlns="http://hl7.org/fhir">` + strings.Repeat(strings.Repeat(`<f:extension xmlns:f="http://hl7.org/fhir" url="x">`, n-2)+strings.Repeat(`</f:extension>`, n-2), 80) + `</Patient>`
	}},
	{name: "long names", n: 1_000, opts: raised, doc: func(n int) string {
		name := strings.Repeat("a", n)
		return `<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">` +
			strings.Repeat(`<`+name+` `+name+`="v">x</`+name+`>`, 64) + `</div></text></Patient>`
	}},
	{name: "long attribute value", n: 256 << 10, doc: func(n int) string {
		return `<Binary xmlns="http://hl7.org/fhir"><contentType value="application/pdf"/><content value="` + strings.Repeat("QUJD", n/4) + `"/></Binary>`
	}},
	{name: "long narrative text", n: 256 << 10, doc: func(n int) string {
		return `<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">` +
			strings.Repeat("a &amp; <![CDATA[b]]>\r\n", n/24) + `</div></text></Patient>`
	}},
	{name: "elements with findings", n: 20_000, opts: raised, doc: func(n int) string {
		return `<Bundle xmlns="http://hl7.org/fhir" xmlns:x="urn:x">` + strings.Repeat(`<entry x:a="1"/>`, n) + `</Bundle>`
	}},
	{name: "comments", n: 20_000, doc: func(n int) string {
		return `<Patient xmlns="http://hl7.org/fhir">` + strings.Repeat(`<!-- a - b -->`, n) + `</Patient>`
	}},
	{name: "JSON long string", n: 256 << 10, json: true, doc: func(n int) string {
		return `{"resourceType":"Binary","contentType":"application/pdf","content":"` + strings.Repeat(`QU\/D`, n/5) + `"}`
	}},
	{name: "JSON nesting up to the depth limit", n: 25, json: true, doc: func(n int) string {
		nest := `{"url":"x","extension":` + strings.Repeat(`[{"url":"x","extension":`, n-2) + `[]` + strings.Repeat(`}]`, n-2) + `}`
		return `{"resourceType":"Patient","extension":[` + strings.Repeat(nest+",", 80) + nest + `]}`
	}},
	{name: "JSON nesting refused by the depth limit", n: 1_000, json: true, wantErr: "deeper than 200", doc: func(n int) string {
		return `{"resourceType":"Patient","extension":` + strings.Repeat(`[{"url":"x","extension":`, n) + `[]` + strings.Repeat(`}]`, n) + `}`
	}},
	{name: "JSON members before resourceType", n: 5_000, json: true, opts: raised, doc: func(n int) string {
		return `{"extension":[` + strings.Repeat(`{"url":"x","valueString":"y"},`, n) + `{"url":"x"}],"resourceType":"Patient"}`
	}},
}

func decodeHostile(tb testing.TB, doc []byte, json bool, opts *fhir.DecodeOptions, wantErr string) {
	var err error
	if json {
		_, _, err = fhir.DecodeJSON(bytes.NewReader(doc), opts)
	} else {
		_, _, err = fhir.DecodeXML(bytes.NewReader(doc), opts)
	}
	switch {
	case wantErr == "" && err != nil:
		tb.Fatal(err)
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		tb.Fatalf("got %v, want an error containing %q", err, wantErr)
	}
}

// TestHostileDims decodes each hostile document once at its small size:
// it is what BenchmarkHostileGrowth times.
func TestHostileDims(t *testing.T) {
	for _, d := range hostileDims {
		t.Run(d.name, func(t *testing.T) {
			decodeHostile(t, []byte(d.doc(d.n/4)), d.json, d.opts, d.wantErr)
		})
	}
}

// BenchmarkHostileGrowth grows each hostile dimension 4× and fails when
// decoding time grows more than 6× (growth.Check): the readers must stay
// linear however a document is shaped (issue 23). scripts/test runs it
// with -benchtime 1x.
func BenchmarkHostileGrowth(b *testing.B) {
	for _, d := range hostileDims {
		b.Run(d.name, func(b *testing.B) {
			small, large := []byte(d.doc(d.n)), []byte(d.doc(4*d.n))
			growth.Check(b,
				func() { decodeHostile(b, small, d.json, d.opts, d.wantErr) },
				func() { decodeHostile(b, large, d.json, d.opts, d.wantErr) })
		})
	}
}

// TestFindingsCapped: a document of many small mistakes gives at most
// DefaultMaxFindings findings and a count of the rest.
func TestFindingsCapped(t *testing.T) {
	doc := `<Bundle xmlns="http://hl7.org/fhir" xmlns:x="urn:x">` + strings.Repeat(`<entry x:a="1"/>`, fhir.DefaultMaxFindings+5) + `</Bundle>`
	_, findings, err := fhir.DecodeXML(strings.NewReader(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != fhir.DefaultMaxFindings+1 || findings[len(findings)-1].Message != "5 more findings not listed" {
		t.Errorf("got %d findings, last %v", len(findings), findings[len(findings)-1])
	}
}
