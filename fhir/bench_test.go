package fhir_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/internal/testutil/peak"
)

// BenchmarkCodec measures, per official example, a plain encoding/xml
// Token scan of the bytes (the baseline), our XML decode+encode of the same
// bytes, and our JSON decode+encode of the example's JSON form. Compare
// ns/op of fhir-decode-encode with xml-token-scan: the goal is a ratio
// baseline/ours of at least 0.4.
func BenchmarkCodec(b *testing.B) {
	ex, names := sortedExamples(b)
	for _, name := range names {
		data := ex[name]
		res, _, err := fhir.DecodeXML(bytes.NewReader(data), nil)
		if err != nil {
			b.Fatal(err)
		}
		js := mustEncodeJSON(b, res, nil)
		b.Run(name+"/xml-token-scan", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				d := xml.NewDecoder(bytes.NewReader(data))
				for {
					if _, err := d.Token(); err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
				}
			}
		})
		b.Run(name+"/fhir-decode-encode", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, _, err := fhir.DecodeXML(bytes.NewReader(data), nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := fhir.EncodeXML(io.Discard, r, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/fhir-json-decode-encode", func(b *testing.B) {
			b.SetBytes(int64(len(js)))
			for b.Loop() {
				r, _, err := fhir.DecodeJSON(bytes.NewReader(js), nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := fhir.EncodeJSON(io.Discard, r, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeXML measures XML decoding alone per official example, the
// figure to compare before and after a change to the reader (benchstat).
func BenchmarkDecodeXML(b *testing.B) {
	ex, names := sortedExamples(b)
	for _, name := range names {
		data := ex[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := fhir.DecodeXML(bytes.NewReader(data), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeLargeBinary decodes a 100 MiB Binary (XML and JSON) from
// memory and reports how far the heap rose above the input (peak-MiB,
// sampled) and that per byte of input (peak/size): the value is gathered
// in chunks and copied once, so about 2 while it is read.
func BenchmarkDecodeLargeBinary(b *testing.B) {
	const size = 100 << 20
	docs := []struct {
		name string
		data []byte
		dec  func(io.Reader, *fhir.DecodeOptions) (fhir.Resource, []fhir.Finding, error)
	}{
		{"xml", []byte(`<Binary xmlns="http://hl7.org/fhir"><contentType value="application/pdf"/><content value="` + strings.Repeat("QUJD", size/4) + `"/></Binary>`), fhir.DecodeXML},
		{"json", []byte(`{"resourceType":"Binary","contentType":"application/pdf","content":"` + strings.Repeat("QUJD", size/4) + `"}`), fhir.DecodeJSON},
	}
	for _, d := range docs {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(d.data)))
			var top uint64
			for b.Loop() {
				var err error
				top = max(top, peak.Heap(func() {
					_, _, err = d.dec(bytes.NewReader(d.data), &fhir.DecodeOptions{MaxBytes: 2 * size})
				}))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(top)/(1<<20), "peak-MiB")
			b.ReportMetric(float64(top)/float64(len(d.data)), "peak/size")
		})
	}
}

// sortedExamples returns the official examples and their names in order.
func sortedExamples(b *testing.B) (map[string][]byte, []string) {
	ex := examples(b)
	names := make([]string, 0, len(ex))
	for n := range ex {
		names = append(names, n)
	}
	sort.Strings(names)
	return ex, names
}
