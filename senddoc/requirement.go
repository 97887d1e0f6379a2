package senddoc

import (
	"fmt"
	"strings"

	"github.com/gpcm/gpcm/itk3"
)

// Severity ranks a finding.
type Severity int

// Severities, most serious first.
const (
	SeverityError Severity = iota + 1
	SeverityWarning
	SeverityInfo
)

func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	case SeverityInfo:
		return "info"
	}
	return "unknown"
}

// MarshalText writes the severity as "error", "warning" or "info".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "error", "warning" or "info".
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "error":
		*s = SeverityError
	case "warning":
		*s = SeverityWarning
	case "info":
		*s = SeverityInfo
	default:
		return fmt.Errorf("senddoc: unknown severity %q", b)
	}
	return nil
}

// CatalogueSet is a set of the release 1.5.2 catalogues.
type CatalogueSet uint8

// The four catalogues of release 1.5.2.
const (
	CatSenddoc CatalogueSet = 1 << iota // senddoc_requirements.yml (core + consultation summary)
	CatOc                               // oc_requirements.yml (online consultation)
	CatGe                               // ge_requirements.yml (generic)
	CatPr                               // pr_requirements.yml (patient registration draft, reuses OC IDs)
)

// CatalogueFiles names the catalogue file of each set member.
var CatalogueFiles = map[CatalogueSet]string{
	CatSenddoc: "senddoc_requirements.yml",
	CatOc:      "oc_requirements.yml",
	CatGe:      "ge_requirements.yml",
	CatPr:      "pr_requirements.yml",
}

// Checkability says how far software can decide a requirement (the digest's
// "machine-checkable" column).
type Checkability int

// Checkability values.
const (
	// Fully: decidable from the message, its MESH metadata or observable behaviour.
	Fully Checkability = iota + 1
	// Partly: presence or format checkable, meaning not.
	Partly
)

func (c Checkability) String() string {
	if c == Fully {
		return "yes"
	}
	return "partly"
}

// Requirement is one row of the inventory: a requirement ID from the release
// 1.5.2 catalogues, what it asks, how serious a breach is and the ITK3 code a
// receiver answers a breach with (0 when the rule binds a sender's behaviour
// and no response applies).
type Requirement struct {
	ID         string
	Catalogues CatalogueSet
	Area       string // digest section letter and sub-heading
	Level      string // RFC 2119 keywords, e.g. "MUST", "SHOULD/MUST"
	Checkable  Checkability
	Severity   Severity
	Code       itk3.ResponseCode
	Text       string // what it checks, in our words
	PRText     string // the patient-registration variant's text when it differs
}

// Requirements returns the inventory: every requirement the digest marks as
// machine checkable (fully or partly). The slice is a copy.
func Requirements() []Requirement {
	return append([]Requirement(nil), inventory...)
}

// Lookup returns the inventory row for id.
func Lookup(id string) (Requirement, bool) {
	r, ok := inventoryIndex[id]
	return r, ok
}

var inventoryIndex = func() map[string]Requirement {
	m := make(map[string]Requirement, len(inventory))
	for _, r := range inventory {
		m[r.ID] = r
	}
	return m
}()

// Implemented reports whether the validator has a check that can report id.
func Implemented(id string) bool { return checkedIDs()[id] }

// Non-catalogue rule identifiers used for findings that no GPCM requirement
// covers.
const (
	RuleFHIRStructure = "FHIR-STU3"    // the codec's structural findings (order, unknown elements, types)
	RuleFHIRBundle    = "FHIR-BDL"     // bundle invariants: unique fullUrl, resolvable references
	RuleFHIRBinding   = "FHIR-BINDING" // codes outside a value set the STU3 base binds with strength required
	RuleITK3Envelope  = "ITK3-MSG"     // ITK3 message bundle and header rules
	RuleITK3Response  = "ITK3-RESP"    // ITK3 response message rules
	RuleMESHAddress   = "MESH-ADDRESS" // GPPROVIDER_ address form
	RuleNHSNumber     = "NHS-NUMBER"   // modulus-11 check digit
	RuleSNOMED        = "SNOMED-CT"    // SNOMED CT identifier form (Verhoeff check digit)
)

func catalogueFor(uc UseCase) CatalogueSet {
	switch uc {
	case UseCaseOnline:
		return CatOc
	case UseCaseGeneric:
		return CatGe
	case UseCaseRegistration:
		return CatPr
	}
	return CatSenddoc
}

// core reports whether id is a use-case-independent requirement of the
// senddoc catalogue (GPCM-C-…, GPCM-SD-0nn).
func core(id string) bool {
	return strings.HasPrefix(id, "GPCM-C-") || (strings.HasPrefix(id, "GPCM-SD-") && !strings.HasPrefix(id, "GPCM-SD-CS-") &&
		!strings.HasPrefix(id, "GPCM-SD-OC-") && !strings.HasPrefix(id, "GPCM-SD-GE-"))
}
