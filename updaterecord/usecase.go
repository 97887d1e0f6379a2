package updaterecord

// UseCase is the community pharmacy service an Update Record reports on. It
// travels only as the SNOMED service code in Composition.type (mirrored in
// Encounter.reason), digest §4.0.
type UseCase string

// The four services of the guide (urgent supply since 1.2.0).
const (
	UseCasePharmacyFirst UseCase = "pharmacy-first"
	UseCaseBloodPressure UseCase = "blood-pressure"
	UseCaseContraception UseCase = "contraception"
	UseCaseUrgentSupply  UseCase = "urgent-supply"
)

// Coding is a code from a code system (SNOMED CT unless System says
// otherwise).
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// service is one row of the service-code table.
type service struct {
	uc     UseCase
	name   string
	coding Coding
}

// services are the Composition.type codes, with the displays the official
// examples use (the preferred terms, without the "(procedure)" tag), and
// the services' names (digest §4.0).
var services = []service{
	{UseCasePharmacyFirst, "Pharmacy First", Coding{snomedSystem, "1577041000000109", "Community Pharmacist Consultation Service for minor illness"}},
	{UseCaseBloodPressure, "Blood Pressure Check", Coding{snomedSystem, "1659111000000107", "Community Pharmacy Blood Pressure Check Service"}},
	{UseCaseContraception, "Pharmacy Contraception", Coding{snomedSystem, "1659121000000101", "Community Pharmacy Contraception Service"}},
	{UseCaseUrgentSupply, "Urgent supply of prescription items", Coding{snomedSystem, "1577321000000100", "Community Pharmacist Consultation Service for urgent supply of prescription items"}},
}

// UseCases lists the use cases in the guide's order.
func UseCases() []UseCase {
	out := make([]UseCase, len(services))
	for i, s := range services {
		out[i] = s.uc
	}
	return out
}

// Service returns the SNOMED service code of a use case.
func (uc UseCase) Service() (Coding, bool) {
	for _, s := range services {
		if s.uc == uc {
			return s.coding, true
		}
	}
	return Coding{}, false
}

// Name is the service's name as pharmacists and GPs know it ("Pharmacy
// First", "Blood Pressure Check", "Pharmacy Contraception", "Urgent supply
// of prescription items"); "" for an unknown use case.
func (uc UseCase) Name() string {
	for _, s := range services {
		if s.uc == uc {
			return s.name
		}
	}
	return ""
}

// Valid reports whether uc is one of the four use cases.
func (uc UseCase) Valid() bool { _, ok := uc.Service(); return ok }

// UseCaseOf returns the use case of a SNOMED service code.
func UseCaseOf(code string) (UseCase, bool) {
	for _, s := range services {
		if s.coding.Code == code {
			return s.uc, true
		}
	}
	return "", false
}
