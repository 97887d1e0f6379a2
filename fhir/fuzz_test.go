package fhir_test

import (
	"bytes"
	"errors"
	"io"
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

func FuzzDecodeXML(f *testing.F) {
	for i, r := range fuzzSeeds(f) {
		f.Add(mustEncodeXML(f, r, &fhir.EncodeOptions{Compact: i%2 == 0}), uint8(i))
	}
	for _, s := range smallXMLSeeds {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		res, _, err := fhir.DecodeXML(bytes.NewReader(data), fuzzLimits)
		res2, _, err2 := fhir.DecodeXML(&chunkReader{data: data, n: int(chunk%32) + 1}, fuzzLimits)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("whole input: %v; in chunks of %d: %v", err, chunk%32+1, err2)
		}
		if err != nil {
			checkTypedError(t, err)
			return
		}
		checkReencode(t, res)
		checkReencode(t, res2)
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
		if (err == nil) != (err2 == nil) {
			t.Fatalf("whole input: %v; in chunks of %d: %v", err, chunk%32+1, err2)
		}
		if err != nil {
			checkTypedError(t, err)
			return
		}
		checkReencode(t, res)
		checkReencode(t, res2)
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
