package fhir_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
)

// chunkReader returns at most n bytes per Read, to exercise the decoders'
// buffer refills at every possible boundary.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := min(c.n, len(p), len(c.data))
	copy(p, c.data[:k])
	c.data = c.data[k:]
	return k, nil
}

// fuzzLimits keep each fuzz run small and fast.
var fuzzLimits = &fhir.DecodeOptions{MaxBytes: 4 << 20, MaxDepth: 64, MaxElements: 50_000}

// fuzzSeeds returns the resources of the official examples (each bundle
// entry, recursively, and the bundles without their entries) as small
// documents: whole examples of up to 2.6 MB make each fuzz execution, and
// the minimisation of every new input, far too slow.
func fuzzSeeds(f *testing.F) []fhir.Resource {
	var out []fhir.Resource
	var walk func(r fhir.Resource)
	walk = func(r fhir.Resource) {
		if b, ok := r.(*fhir.Bundle); ok {
			for _, e := range b.Entry {
				if e.Resource != nil {
					walk(e.Resource)
				}
			}
			shell := *b
			shell.Entry = b.Entry[:min(len(b.Entry), 1)]
			if len(shell.Entry) == 1 {
				e := *shell.Entry[0]
				e.Resource = nil
				shell.Entry = []*fhir.BundleEntry{&e}
			}
			r = &shell
		}
		var buf bytes.Buffer
		if err := fhir.EncodeXML(&buf, r, &fhir.EncodeOptions{Compact: true}); err != nil {
			f.Fatal(err)
		}
		if buf.Len() <= 16<<10 {
			out = append(out, r)
		}
	}
	for _, data := range examples(f) {
		res, _, err := fhir.DecodeXML(bytes.NewReader(data), nil)
		if err != nil {
			f.Fatal(err)
		}
		walk(res)
	}
	return out
}

var smallXMLSeeds = []string{
	`<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><active value="true"/></Patient>`,
	`<?xml version="1.0" encoding="UTF-8"?><!-- c --><Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="x"/></code><valueQuantity><value value="1.50"/></valueQuantity></Observation>`,
	`<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>a &amp; b<br/></p></div></text><birthDate id="b" value="1970"><extension url="u"><valueString value="x"/></extension></birthDate></Patient>`,
	`<Bundle xmlns="http://hl7.org/fhir"><entry><resource><Patient><contained><Organization><id value="o"/></Organization></contained></Patient></resource></entry></Bundle>`,
}

// FuzzDecodeXML reads its input whole and in chunks of 1 to 32 bytes:
// both must give the same result (the reader streams), and what is
// accepted must re-encode stably in both formats. It is seeded with the
// official examples' resources, the spellings of TestXMLSpellings, the
// malformed inputs of TestXMLNotWellFormed, small versions of the hostile
// documents of BenchmarkHostileGrowth and the interop corpus's smaller
// messages in every spelling.
func FuzzDecodeXML(f *testing.F) {
	for i, r := range fuzzSeeds(f) {
		f.Add(mustEncodeXML(f, r, &fhir.EncodeOptions{Compact: i%2 == 0}), uint8(i))
	}
	for _, s := range smallXMLSeeds {
		f.Add([]byte(s), uint8(1))
	}
	for i, s := range xmlSpellings {
		f.Add([]byte(s.in), uint8(i))
	}
	for i, s := range notWellFormed {
		f.Add([]byte(s.in), uint8(i))
	}
	for i, d := range hostileDims {
		if !d.json {
			f.Add([]byte(d.doc(max(8, d.n/1000))), uint8(i))
		}
	}
	_, variants := interopCorpus(f)
	for i, v := range variants {
		if v.message == "consultation_report" || v.message == "build-generic" {
			f.Add(v.data, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		res, _, err := fhir.DecodeXML(bytes.NewReader(data), fuzzLimits)
		res2, _, err2 := fhir.DecodeXML(&chunkReader{data: data, n: int(chunk%32) + 1}, fuzzLimits)
		checkSame(t, chunk, res, err, res2, err2)
		if err != nil {
			checkTypedError(t, err)
			return
		}
		checkReencode(t, res)
	})
}

// checkSame fails unless reading whole and reading in chunks gave the same
// error or the same resource.
func checkSame(t *testing.T, chunk uint8, res fhir.Resource, err error, res2 fhir.Resource, err2 error) {
	t.Helper()
	if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
		t.Fatalf("whole input: %v; in chunks of %d: %v", err, chunk%32+1, err2)
	}
	if err == nil {
		if a, b := mustEncodeXML(t, res, nil), mustEncodeXML(t, res2, nil); !bytes.Equal(a, b) {
			t.Fatalf("whole input and chunks of %d read differently:\n%s\n----\n%s", chunk%32+1, a, b)
		}
	}
}

// FuzzNarrative reads its input as a narrative div given in JSON (which
// the XML encoder writes again): what is accepted becomes canonical XHTML,
// which reads back to itself, through XML and JSON.
func FuzzNarrative(f *testing.F) {
	for _, s := range narrativeForms {
		f.Add(s.in)
	}
	for _, s := range xmlSpellings {
		if i := strings.Index(s.in, "div"); i > 0 {
			if j := strings.LastIndex(s.in, "div>"); j > i {
				f.Add(s.in[strings.LastIndex(s.in[:i], "<") : j+4])
			}
		}
	}
	f.Fuzz(func(t *testing.T, div string) {
		js, err := json.Marshal(map[string]any{"resourceType": "Patient", "text": map[string]string{"status": "generated", "div": div}})
		if err != nil {
			return
		}
		res, _, err := fhir.DecodeJSON(bytes.NewReader(js), fuzzLimits)
		if err != nil {
			checkTypedError(t, err)
			return
		}
		got := res.(*fhir.Patient).Text.Div
		x := mustEncodeXML(t, res, nil)
		back, _, err := fhir.DecodeXML(bytes.NewReader(x), fuzzLimits)
		if err != nil {
			t.Fatalf("our XML does not read: %v\n%s", err, x)
		}
		if again := back.(*fhir.Patient).Text.Div; again != got {
			t.Fatalf("canonical narrative is not a fixed point:\n%s\n----\n%s", got, again)
		}
		checkReencode(t, res)
	})
}

func FuzzDecodeJSON(f *testing.F) {
	for i, r := range fuzzSeeds(f) {
		f.Add(mustEncodeJSON(f, r, &fhir.EncodeOptions{Compact: i%2 == 0}), uint8(i))
	}
	for _, s := range smallXMLSeeds {
		res, _, err := fhir.DecodeXML(bytes.NewReader([]byte(s)), nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(mustEncodeJSON(f, res, nil), uint8(1))
	}
	f.Add([]byte(`{"active":true,"resourceType":"Patient","name":[{"given":["a",null],"_given":[null,{"id":"x"}]}]}`), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		res, _, err := fhir.DecodeJSON(bytes.NewReader(data), fuzzLimits)
		res2, _, err2 := fhir.DecodeJSON(&chunkReader{data: data, n: int(chunk%32) + 1}, fuzzLimits)
		checkSame(t, chunk, res, err, res2, err2)
		if err != nil {
			checkTypedError(t, err)
			return
		}
		checkReencode(t, res)
	})
}

func checkTypedError(t *testing.T, err error) {
	t.Helper()
	var se *fhir.SyntaxError
	var le *fhir.LimitError
	if !errors.As(err, &se) && !errors.As(err, &le) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

// checkReencode encodes a decoded resource in both formats and decodes
// each again: what was accepted must be writable and readable, and
// writing is stable.
func checkReencode(t *testing.T, res fhir.Resource) {
	t.Helper()
	var x, j bytes.Buffer
	if err := fhir.EncodeXML(&x, res, nil); err != nil {
		t.Fatalf("EncodeXML: %v", err)
	}
	if err := fhir.EncodeJSON(&j, res, nil); err != nil {
		t.Fatalf("EncodeJSON: %v", err)
	}
	opts := &fhir.DecodeOptions{MaxBytes: 64 << 20, MaxDepth: 1000, MaxElements: 1 << 20}
	fromX, _, err := fhir.DecodeXML(bytes.NewReader(x.Bytes()), opts)
	if err != nil {
		t.Fatalf("re-decoding our XML: %v\n%s", err, x.Bytes())
	}
	fromJ, _, err := fhir.DecodeJSON(bytes.NewReader(j.Bytes()), opts)
	if err != nil {
		t.Fatalf("re-decoding our JSON: %v\n%s", err, j.Bytes())
	}
	var x2, j2 bytes.Buffer
	fhir.EncodeXML(&x2, fromX, nil)
	fhir.EncodeJSON(&j2, fromJ, nil)
	if !bytes.Equal(x.Bytes(), x2.Bytes()) {
		t.Fatalf("XML encoding not stable:\n%s\n----\n%s", x.Bytes(), x2.Bytes())
	}
	if !bytes.Equal(j.Bytes(), j2.Bytes()) {
		t.Fatalf("JSON encoding not stable:\n%s\n----\n%s", j.Bytes(), j2.Bytes())
	}
	var xj bytes.Buffer
	fhir.EncodeXML(&xj, fromJ, nil)
	if !bytes.Equal(x.Bytes(), xj.Bytes()) {
		t.Fatalf("XML from JSON differs from XML:\n%s\n----\n%s", x.Bytes(), xj.Bytes())
	}
}
