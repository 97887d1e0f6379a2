package senddoc

import (
	"encoding/json"

	"github.com/gpcm/gpcm/fhir"
)

// TreeOf exposes the validator's JSON-shaped view of a typed resource so
// black-box tests can mutate messages as FHIR JSON.
func TreeOf(r fhir.Resource) map[string]any {
	b, err := json.Marshal(treeOf(r))
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}
