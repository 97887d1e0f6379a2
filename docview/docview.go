package docview

// View is the content of one message as a person reads it.
type View struct {
	// Title names the document (e.g. "Park Road Pharmacy - Community
	// Pharmacy Blood Pressure Check Service").
	Title    string    `json:"title"`
	Sections []Section `json:"sections"`
}

// Section is a group of rows under a heading ("Consultation",
// "Observations", "Medicines supplied", a PRSB heading, ...).
type Section struct {
	Heading string `json:"heading"`
	Rows    []Row  `json:"rows"`
}

// Row is one item. A row without a Label is free text (a note) that
// belongs to its section heading; Value may then hold line breaks.
type Row struct {
	Label string `json:"label,omitempty"`
	Value string `json:"value"`
	// Unit is shown after Value ("mmHg", "Capsule").
	Unit string `json:"unit,omitempty"`
	// Flag is the sender's interpretation of the value (FlagHigh, …),
	// empty when the sender gave none.
	Flag string `json:"flag,omitempty"`
	// Detail is secondary text shown under or beside the value (a body
	// site, a dosage instruction, a role).
	Detail string `json:"detail,omitempty"`
	// Code is the coded concept behind the row, for checking before
	// filing ("SNOMED CT 163020007").
	Code string `json:"code,omitempty"`
}

// Flags a Row may carry. A template styles the first three as a warning.
const (
	FlagHigh     = "high"
	FlagLow      = "low"
	FlagAbnormal = "abnormal"
	FlagNormal   = "normal"
)

// Flagged reports whether a flag marks a value outside the normal range
// (high, low or abnormal).
func Flagged(flag string) bool {
	return flag == FlagHigh || flag == FlagLow || flag == FlagAbnormal
}
