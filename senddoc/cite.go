package senddoc

import "strings"

// cite fills in the catalogue of a finding and the form diagnostics name
// its requirement in (Finding.Cited), for a message of generation gen:
//
//   - v1: the release 1.5.2 ID, then the v1.3 number of the same
//     requirement when v1.3 had one: "1.5.2:GPCM-SD-032 (v1.3:GPCM-SD-112)";
//   - v2: the number the v2 guide uses (its v1.3 numbering; for an online
//     consultation or generic rule, that of the consultation-summary rule it
//     shares), then the 1.5.2 ID: "v2:GPCM-SD-112 (1.5.2:GPCM-SD-032)";
//   - a requirement with no earlier number: "1.5.2:GPCM-SD-OC-052";
//   - the Rule* identifiers (FHIR-BDL, ITK3-MSG, …) stand alone.
func cite(f *Finding, gen int) {
	if _, ok := inventoryIndex[f.Requirement]; !ok {
		f.Catalogue, f.Cited = "", f.Requirement
		return
	}
	f.Catalogue = Catalogue152
	q := Qualify(Catalogue152, f.Requirement)
	switch {
	case gen == GenerationV2 && ToV13(csSibling[f.Requirement]) != "":
		f.Cited = Qualify(CatalogueV2, ToV13(csSibling[f.Requirement])) + " (" + q + ")"
	case gen != GenerationV2 && ToV13(f.Requirement) != "":
		f.Cited = q + " (" + Qualify(CatalogueV13, ToV13(f.Requirement)) + ")"
	default:
		f.Cited = q
	}
}

// Cite returns how diagnostics name the finding's requirement: Cited, or,
// for a finding made by hand, the requirement qualified by its catalogue.
func (f Finding) Cite() string {
	if f.Cited != "" {
		return f.Cited
	}
	if _, ok := inventoryIndex[f.Requirement]; ok {
		return Qualify(Catalogue152, f.Requirement)
	}
	return f.Requirement
}

// csSibling maps each requirement ID a rule checks to the
// consultation-summary or core ID the same rule checks (itself when it is
// one): the v2 guide numbers its rules for all document types after those.
var csSibling = func() map[string]string {
	m := map[string]string{}
	for _, r := range allRules {
		ids := strings.Fields(r.ids)
		base := ""
		for _, id := range ids {
			if core(id) || strings.HasPrefix(id, "GPCM-SD-CS-") {
				base = id
				break
			}
		}
		for _, id := range ids {
			if base != "" {
				m[id] = base
			}
		}
	}
	return m
}()
