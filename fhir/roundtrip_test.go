package fhir_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/fhir/fhirtest"
)

const examplesDir = "../testdata/examples"

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
			for _, f := range findings {
				t.Logf("finding: %s", f)
			}
			out := mustEncodeXML(t, res, nil)
			fhirtest.AssertEqualXML(t, out, data)
			compact := mustEncodeXML(t, res, &fhir.EncodeOptions{Compact: true})
			fhirtest.AssertEqualXML(t, compact, data)
			// canonical output is stable and has no findings
			res2, f2, err := fhir.DecodeXML(bytes.NewReader(out), nil)
			if err != nil {
				t.Fatalf("re-decode: %v", err)
			}
			if len(f2) != 0 {
				t.Errorf("canonical output has findings: %v", f2)
			}
			if out2 := mustEncodeXML(t, res2, nil); !bytes.Equal(out2, out) {
				t.Errorf("encoding is not stable")
			}
		})
	}
}
