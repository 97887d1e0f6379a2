package fhir_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
)

func TestDecodeSniffs(t *testing.T) {
	tests := []struct {
		name, in, format string
		ok               bool
	}{
		{"xml", `<Patient xmlns="http://hl7.org/fhir"><id value="a"/></Patient>`, fhir.FormatXML, true},
		{"json", `{"resourceType":"Patient","id":"a"}`, fhir.FormatJSON, true},
		{"spaces and BOM", "\n \xEF\xBB\xBF{\"resourceType\":\"Patient\",\"id\":\"a\"}", fhir.FormatJSON, true},
		{"empty", "  \n", "", false},
		{"text", "hello", "", false},
		{"broken xml", `<Patient xmlns="http://hl7.org/fhir">`, fhir.FormatXML, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, format, _, err := fhir.Decode(strings.NewReader(tt.in), nil)
			if format != tt.format {
				t.Errorf("format: got %q, want %q", format, tt.format)
			}
			if tt.ok {
				if err != nil || res.ResourceType() != "Patient" {
					t.Fatalf("got %v, %v; want a Patient", res, err)
				}
				return
			}
			var se *fhir.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *SyntaxError", err)
			}
		})
	}
}
