package fhir_test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"testing"

	"github.com/gpcm/gpcm/fhir"
)

// binaries returns every Binary in r, looking into nested bundles and
// contained resources.
func binaries(r fhir.Resource) []*fhir.Binary {
	var out []*fhir.Binary
	switch x := r.(type) {
	case *fhir.Binary:
		out = append(out, x)
	case *fhir.Bundle:
		for _, e := range x.Entry {
			if e.Resource != nil {
				out = append(out, binaries(e.Resource)...)
			}
		}
	}
	return out
}

// originalBinaries reads the base64 content of every Binary with encoding/xml.
func originalBinaries(tb testing.TB, data []byte) [][]byte {
	tb.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	var out [][]byte
	inBinary := false
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "Binary":
				inBinary = true
			case "content":
				if inBinary {
					for _, a := range se.Attr {
						if a.Name.Local == "value" {
							b, err := base64.StdEncoding.DecodeString(a.Value)
							if err != nil {
								tb.Fatalf("original base64: %v", err)
							}
							out = append(out, b)
						}
					}
					inBinary = false
				}
			}
		}
	}
	return out
}

func TestBinaryContentSurvivesRoundTrips(t *testing.T) {
	for name, data := range examples(t) {
		want := originalBinaries(t, data)
		if len(want) == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			res, _, err := fhir.DecodeXML(bytes.NewReader(data), nil)
			if err != nil {
				t.Fatal(err)
			}
			// XML -> JSON -> XML -> model
			js := mustEncodeJSON(t, res, &fhir.EncodeOptions{Compact: true})
			res2, _, err := fhir.DecodeJSON(bytes.NewReader(js), nil)
			if err != nil {
				t.Fatal(err)
			}
			res3, _, err := fhir.DecodeXML(bytes.NewReader(mustEncodeXML(t, res2, nil)), nil)
			if err != nil {
				t.Fatal(err)
			}
			got := binaries(res3)
			if len(got) != len(want) {
				t.Fatalf("got %d binaries, want %d", len(got), len(want))
			}
			pdfs := 0
			for i, b := range got {
				content, err := base64.StdEncoding.DecodeString(b.Content.String())
				if err != nil {
					t.Fatalf("binary %d: %v", i, err)
				}
				if !bytes.Equal(content, want[i]) {
					t.Errorf("binary %d (%s): %d bytes differ from the original %d bytes", i, b.ContentType, len(content), len(want[i]))
				}
				if b.ContentType.String() == "application/pdf" {
					pdfs++
					if !bytes.HasPrefix(content, []byte("%PDF-")) {
						t.Errorf("binary %d is not a PDF", i)
					}
				}
			}
			t.Logf("%d binaries (%d PDF) byte-identical after XML->JSON->XML", len(got), pdfs)
		})
	}
}
