package fhir_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/fhir/fhirtest"
)

const examplesDir = "../testdata/examples"

var update = flag.Bool("update", false, "rewrite golden files")

func findingsText(fs []fhir.Finding) []byte {
	var b bytes.Buffer
	for _, f := range fs {
		fmt.Fprintln(&b, f)
	}
	return b.Bytes()
}

// checkGolden compares got with a golden file; -update rewrites it.
func checkGolden(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		os.WriteFile(path+".actual", got, 0o644)
		tb.Errorf("%s differs from the golden file; wrote %s.actual", path, path)
	}
}

// examples returns the official example documents by base name.
func examples(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(examplesDir, "*.xml"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no examples in %s: %v", examplesDir, err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func mustEncodeXML(tb testing.TB, r fhir.Resource, opts *fhir.EncodeOptions) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := fhir.EncodeXML(&b, r, opts); err != nil {
		tb.Fatalf("EncodeXML: %v", err)
	}
	return b.Bytes()
}

func TestXMLRoundTrip(t *testing.T) {
	for name, data := range examples(t) {
		t.Run(name, func(t *testing.T) {
			res, findings, err := fhir.DecodeXML(bytes.NewReader(data), nil)
			if err != nil {
				t.Fatalf("DecodeXML: %v", err)
			}
			checkGolden(t, filepath.Join("testdata", "findings", name+".golden"), findingsText(findings))
			out := mustEncodeXML(t, res, nil)
			fhirtest.AssertEqualXML(t, out, data)
			compact := mustEncodeXML(t, res, &fhir.EncodeOptions{Compact: true})
			fhirtest.AssertEqualXML(t, compact, data)
			// canonical output is stable and has no findings
			res2, f2, err := fhir.DecodeXML(bytes.NewReader(out), nil)
			if err != nil {
				t.Fatalf("re-decode: %v", err)
			}
			for _, f := range f2 {
				if strings.Contains(f.Message, "out of order") {
					t.Errorf("canonical output has an order finding: %s", f)
				}
			}
			if out2 := mustEncodeXML(t, res2, nil); !bytes.Equal(out2, out) {
				t.Errorf("encoding is not stable")
			}
		})
	}
}

func mustEncodeJSON(tb testing.TB, r fhir.Resource, opts *fhir.EncodeOptions) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := fhir.EncodeJSON(&b, r, opts); err != nil {
		tb.Fatalf("EncodeJSON: %v", err)
	}
	return b.Bytes()
}

func TestJSONRoundTrip(t *testing.T) {
	for name, data := range examples(t) {
		t.Run(name, func(t *testing.T) {
			res, _, err := fhir.DecodeXML(bytes.NewReader(data), nil)
			if err != nil {
				t.Fatalf("DecodeXML: %v", err)
			}
			js := mustEncodeJSON(t, res, nil)
			if !json.Valid(js) {
				t.Fatalf("EncodeJSON wrote invalid JSON")
			}
			// XML -> JSON -> XML
			fromJSON, findings, err := fhir.DecodeJSON(bytes.NewReader(js), nil)
			if err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			if len(findings) != 0 {
				t.Logf("findings decoding our JSON: %v", findings)
			}
			xml2 := mustEncodeXML(t, fromJSON, nil)
			fhirtest.AssertEqualXML(t, xml2, data)
			// JSON -> XML -> JSON
			back, _, err := fhir.DecodeXML(bytes.NewReader(xml2), nil)
			if err != nil {
				t.Fatalf("DecodeXML of converted: %v", err)
			}
			fhirtest.AssertEqualJSON(t, mustEncodeJSON(t, back, nil), js)
			fhirtest.AssertEqualJSON(t, mustEncodeJSON(t, back, &fhir.EncodeOptions{Compact: true}), js)
		})
	}
}
