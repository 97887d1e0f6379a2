package itk3_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
)

const exampleHeaderID = "ea7221b8-3cc0-4b11-bc95-585b056b5428"

func readExample(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "examples", "consultation_report.xml"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func exampleJSON(tb testing.TB) []byte {
	tb.Helper()
	res, _, err := fhir.DecodeXML(bytes.NewReader(readExample(tb)), nil)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := fhir.EncodeJSON(&buf, res, nil); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestScanHeader reads the header of messages the FHIR decoder refuses
// (issue 20 §5: the id stays readable) and tells well-formed input from
// malformed input.
func TestScanHeader(t *testing.T) {
	x := string(readExample(t))
	j := string(exampleJSON(t))
	rows := []struct {
		name       string
		in         string
		wellFormed bool
		id         string
		check      func(t *testing.T, s itk3.HeaderScan)
	}{
		{name: "official example XML", in: x, wellFormed: true, id: exampleHeaderID, check: func(t *testing.T, s itk3.HeaderScan) {
			if v, present, ok := s.Boolean("InfAckRequested"); !v || !present || !ok {
				t.Errorf("InfAckRequested: %v %v %v", v, present, ok)
			}
			if s.Str("SenderReference") == "" || s.Str("RecipientType") != "FA" || !strings.Contains(s.Str("MessageDefinition"), "MessageDefinition") {
				t.Errorf("handling: %+v", s.Handling)
			}
			if s.BundleIdentifier != "0bcb5098-ce5a-4a85-a547-2574f90310e4" || s.SourceEndpoint == "" {
				t.Errorf("bundle identifier %q, source %q", s.BundleIdentifier, s.SourceEndpoint)
			}
		}},
		{name: "official example JSON", in: j, wellFormed: true, id: exampleHeaderID, check: func(t *testing.T, s itk3.HeaderScan) {
			if v, present, ok := s.Boolean("BusAckRequested"); !v || !present || !ok {
				t.Errorf("BusAckRequested: %v %v %v", v, present, ok)
			}
			if s.Str("RecipientType") != "FA" || !strings.Contains(s.Str("MessageDefinition"), "MessageDefinition") || s.Format != "json" {
				t.Errorf("handling: %+v", s.Handling)
			}
			if s.BundleIdentifier != "0bcb5098-ce5a-4a85-a547-2574f90310e4" || s.SourceEndpoint == "" {
				t.Errorf("bundle identifier %q, source %q", s.BundleIdentifier, s.SourceEndpoint)
			}
		}},
		{name: "GPCM-SD-CS-045 InfAckRequested yes", wellFormed: true, id: exampleHeaderID,
			in: replaceHandling(x, "InfAckRequested", `<valueBoolean value="yes"/>`), check: func(t *testing.T, s itk3.HeaderScan) {
				if _, present, ok := s.Boolean("InfAckRequested"); !present || ok {
					t.Errorf("InfAckRequested yes read as a boolean")
				}
			}},
		{name: "GPCM-SD-CS-044 BusAckRequested as valueString in JSON", wellFormed: true, id: exampleHeaderID,
			in: regexp.MustCompile(`("url":\s*"BusAckRequested",\s*)"valueBoolean":\s*true`).ReplaceAllString(j, `${1}"valueString":"true"`), check: func(t *testing.T, s itk3.HeaderScan) {
				if _, present, ok := s.Boolean("BusAckRequested"); !present || ok {
					t.Errorf("BusAckRequested valueString read as a boolean: %+v", s.Handling["BusAckRequested"])
				}
			}},
		{name: "repeated Patient.name.family", wellFormed: true, id: exampleHeaderID,
			in: strings.Replace(x, `<family value="`, `<family value="X"/><family value="`, 1)},
		{name: "JSON family as an array", wellFormed: true, id: exampleHeaderID,
			in: strings.Replace(j, `"family":"`, `"family":["X"],"x":"`, 1)},
		{name: "prefixed FHIR namespace", wellFormed: true, id: exampleHeaderID,
			in: regexp.MustCompile(`<(/?)([A-Za-z])`).ReplaceAllString(strings.Replace(x, `xmlns="http://hl7.org/fhir"`, `xmlns:f="http://hl7.org/fhir"`, 1), "<${1}f:${2}")},
		{name: "header id after the extensions in JSON", wellFormed: true, id: "late-id",
			in: `{"resourceType":"Bundle","entry":[{"resource":{"extension":[{"extension":[{"valueBoolean":false,"url":"InfAckRequested"}],"url":"` + itk3.MessageHandlingURL + `"}],"resourceType":"MessageHeader","id":"late-id"}}]}`,
			check: func(t *testing.T, s itk3.HeaderScan) {
				if v, present, ok := s.Boolean("InfAckRequested"); v || !present || !ok {
					t.Errorf("InfAckRequested: %v %v %v", v, present, ok)
				}
			}},
		{name: "second MessageHeader ignored", wellFormed: true, id: "first",
			in: `<Bundle xmlns="http://hl7.org/fhir"><entry><resource><MessageHeader><id value="first"/></MessageHeader></resource></entry><entry><resource><MessageHeader><id value="second"/></MessageHeader></resource></entry></Bundle>`},
		{name: "truncated after the header", id: exampleHeaderID, in: x[:len(x)/2]},
		{name: "ampersand in text", id: exampleHeaderID, in: strings.Replace(x, "</Bundle>", "<x>&</x></Bundle>", 1)},
		{name: "DTD refused", in: `<?xml version="1.0"?><!DOCTYPE Bundle [<!ENTITY a "b">]><Bundle xmlns="http://hl7.org/fhir"/>`},
		{name: "not a Bundle", in: `<Patient xmlns="http://hl7.org/fhir"><id value="p"/></Patient>`},
		{name: "JSON trailing value", id: "h", in: `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MessageHeader","id":"h"}}]} {}`},
		{name: "JSON array root", in: `[]`},
		{name: "neither", in: "\x1f\x8b\x00"},
		{name: "deep XML nesting", wellFormed: true, id: "h",
			in: `<Bundle xmlns="http://hl7.org/fhir"><entry><resource><MessageHeader><id value="h"/></MessageHeader></resource></entry>` +
				strings.Repeat("<a>", 200000) + strings.Repeat("</a>", 200000) + `</Bundle>`},
		{name: "deep JSON nesting", wellFormed: true, id: "h",
			in: `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MessageHeader","id":"h"}}],"x":` +
				strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			s, err := itk3.ScanHeader(t.Context(), []byte(r.in))
			if (err == nil) != r.wellFormed {
				t.Fatalf("error %v, want well-formed %v", err, r.wellFormed)
			}
			if s.HeaderID != r.id {
				t.Errorf("header id %q, want %q", s.HeaderID, r.id)
			}
			if r.check != nil {
				r.check(t, s)
			}
		})
	}
}

// replaceHandling swaps the value element of one handling key.
func replaceHandling(x, key, value string) string {
	i := strings.Index(x, `<extension url="`+key+`">`)
	if i < 0 {
		return x
	}
	j := strings.Index(x[i:], "</extension>") + i
	return x[:i] + `<extension url="` + key + `">` + value + x[j:]
}

func TestScanHeaderCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	in := `<Bundle xmlns="http://hl7.org/fhir">` + strings.Repeat("<a/>", 5000) + `</Bundle>`
	if _, err := itk3.ScanHeader(ctx, []byte(in)); err == nil {
		t.Fatal("a cancelled scan went to the end")
	}
}

// FuzzScanHeader feeds arbitrary input: the scan never panics and never
// keeps more than its bounds.
func FuzzScanHeader(f *testing.F) {
	f.Add(readExample(f))
	f.Add(exampleJSON(f))
	f.Add([]byte(`<Bundle xmlns="http://hl7.org/fhir"><entry><resource><MessageHeader><id value="h"/></MessageHeader></resource></entry></Bundle>`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MessageHeader","id":"h"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, _ := itk3.ScanHeader(t.Context(), b)
		if len(s.HeaderID) > 1024 || len(s.Handling) > 64 {
			t.Fatalf("scan kept too much: id %d bytes, %d handling keys", len(s.HeaderID), len(s.Handling))
		}
	})
}
