package senddoc

import (
	"bytes"
	"encoding/json"

	"github.com/gpcm/gpcm/fhir"
)

// TreeOf returns a typed resource as generic FHIR JSON (written by the fhir
// codec) so black-box tests can mutate messages.
func TreeOf(r fhir.Resource) map[string]any {
	var buf bytes.Buffer
	if err := fhir.EncodeJSON(&buf, r, nil); err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		panic(err)
	}
	return m
}
