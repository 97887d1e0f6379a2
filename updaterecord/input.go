package updaterecord

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gpcm/gpcm/patient"
)

// Address is a postal address, one line per element of Lines.
type Address struct {
	Lines    []string `json:"lines,omitempty"`
	City     string   `json:"city,omitempty"`
	Postcode string   `json:"postcode,omitempty"`
}

// PharmacyInput is the community pharmacy that sends the update (the
// header Organization and the payload's CareConnect-GPC-Organization-1).
type PharmacyInput struct {
	ODSCode string   `json:"odsCode"`
	Name    string   `json:"name"`
	Phone   string   `json:"phone,omitempty"`
	Address *Address `json:"address,omitempty"`
}

// PharmacistInput is the pharmacy professional who saw the patient. The
// guide names no identifier for pharmacists; give the SDS user ID and the
// GPhC registration number when known.
type PharmacistInput struct {
	SDSUserID  string   `json:"sdsUserId,omitempty"`
	GPhCNumber string   `json:"gphcNumber,omitempty"`
	Family     string   `json:"family"`
	Given      []string `json:"given,omitempty"`
	Prefix     string   `json:"prefix,omitempty"`
	// Role is the SDS job role (PractitionerRole.code); default R1290
	// Pharmacist.
	Role *Coding `json:"role,omitempty"`
}

// PatientInput is the patient, as known to PDS.
type PatientInput struct {
	NHSNumber string   `json:"nhsNumber"`
	Family    string   `json:"family"`
	Given     []string `json:"given"`
	Prefix    string   `json:"prefix,omitempty"`
	BirthDate string   `json:"birthDate"`        // YYYY-MM-DD
	Gender    string   `json:"gender,omitempty"` // male, female, other, unknown
	Address   *Address `json:"address,omitempty"`
}

// ConsultationInput is the pharmacy activity the update reports.
type ConsultationInput struct {
	// ID identifies the activity at the sender: it becomes SenderReference
	// and Encounter.identifier, shared by every version of the update.
	ID string `json:"id"`
	// Date is when the patient was seen: YYYY-MM-DD, or a dateTime with an
	// offset (RFC 3339).
	Date string `json:"date"`
}

// Note is one free-text PRSB heading: a ClinicalImpression whose summary is
// Text, tagged with Heading (a RecordStandardHeadings code such as
// clinical-summary, history, information-and-advice-given, red-flags,
// signpost-details, plan-and-requested-actions).
type Note struct {
	Heading string `json:"heading"`
	Text    string `json:"text"`
}

// QuantityInput is a measured value in a UCUM unit ("Cel", "mm[Hg]", ...).
type QuantityInput struct {
	Value json.Number `json:"value"`
	Unit  string      `json:"unit"`
}

// BloodPressureInput is a blood-pressure reading: the header code and the
// systolic and diastolic component codes come from the named triplet
// (digest §4.5), the values are in mm[Hg].
type BloodPressureInput struct {
	// Reading is one of BloodPressureReadings (default "standard").
	Reading   string      `json:"reading,omitempty"`
	Systolic  json.Number `json:"systolic"`
	Diastolic json.Number `json:"diastolic"`
}

// AttachmentInput is a report sent as Observation.valueAttachment (1.2.0:
// the ABPM report). Data is base64 in JSON.
type AttachmentInput struct {
	Title       string `json:"title"`
	ContentType string `json:"contentType"`
	Data        []byte `json:"data"`
}

// ObservationInput is one CareConnect-GPC-Observation-1: a vital sign with a
// value, a blood-pressure reading, a report, or a coded finding without a
// value (pregnancy status, ABPM declined).
type ObservationInput struct {
	// Code is the SNOMED code; leave it empty for a blood-pressure reading.
	Code *Coding `json:"code,omitempty"`
	// Category is vital-signs or social-history; default vital-signs for a
	// value, reading or report, social-history for a coded finding.
	Category      string              `json:"category,omitempty"`
	Value         *QuantityInput      `json:"value,omitempty"`
	BloodPressure *BloodPressureInput `json:"bloodPressure,omitempty"`
	Attachment    *AttachmentInput    `json:"attachment,omitempty"`
	// Heading is the RecordStandardHeadings tag (e.g. pregnancy-status,
	// procedures-and-therapies); vital signs usually have none.
	Heading  string  `json:"heading,omitempty"`
	BodySite *Coding `json:"bodySite,omitempty"`
	// Interpretation is an HL7 v2 table 0078 flag: H (high), L (low), A
	// (abnormal), N (normal).
	Interpretation string `json:"interpretation,omitempty"`
}

// DoseQuantity is a quantity in a SNOMED dose-form unit (428641000
// Capsule, 428673006 Tablet).
type DoseQuantity struct {
	Value json.Number `json:"value"`
	Unit  Coding      `json:"unit"`
}

// DosageInput is the dosage instruction. Text and PatientInstruction are
// always sent (UR-D12); Frequency, Period and PeriodUnit add a structured
// timing ("4 times per 1 d").
type DosageInput struct {
	Text               string      `json:"text"`
	PatientInstruction string      `json:"patientInstruction"`
	Route              *Coding     `json:"route,omitempty"`
	Frequency          int         `json:"frequency,omitempty"`
	Period             json.Number `json:"period,omitempty"`
	PeriodUnit         string      `json:"periodUnit,omitempty"` // s, min, h, d, wk, mo, a
}

// MedicineInput is a supply of a medicine (CareConnect-GPC-MedicationDispense-1).
type MedicineInput struct {
	// Medication is the dm+d AMP (system https://dmd.nhs.uk by default).
	Medication Coding `json:"medication"`
	// Status is completed (default) or stopped (a declined urgent supply).
	Status string `json:"status,omitempty"`
	// SupplyType is a CareConnect-MedicationSupplyType-1 code; the default
	// depends on the use case: patient-group-direction (pharmacy-first),
	// prescription-dispensing (contraception), emergency-supply (urgent-supply).
	SupplyType string       `json:"supplyType,omitempty"`
	Quantity   DoseQuantity `json:"quantity"`
	// DaysSupply is the number of days the supply lasts.
	DaysSupply json.Number `json:"daysSupply,omitempty"`
	Dosage     DosageInput `json:"dosage"`
}

// ConditionInput is the presenting complaint (CareConnect-GPC-Condition-1);
// it is not a GP problem (UR-D10).
type ConditionInput struct {
	Code Coding `json:"code"`
	// ClinicalStatus is active (default) or resolved.
	ClinicalStatus string `json:"clinicalStatus,omitempty"`
}

// Replacement names the update this one replaces.
type Replacement struct {
	// DocumentID is the Composition.identifier value (a UUID) of the
	// immediately previous version (Built.DocumentID).
	DocumentID string `json:"documentId"`
}

// Input describes one Update Record message. Validate says what is missing.
type Input struct {
	UseCase UseCase `json:"useCase"`
	// Version of this update: 1 for the first, +1 per replacement (default 1).
	Version int `json:"version,omitempty"`
	// RecipientType is FA (for action, default) or FI; GP systems treat
	// both as FA.
	RecipientType string `json:"recipientType,omitempty"`
	SenderMailbox string `json:"senderMailbox"`
	// IdentifierSystem is the sender's namespace (an absolute URI) for the
	// consultation ID; needed only when that ID is not a UUID.
	IdentifierSystem string `json:"identifierSystem,omitempty"`

	Pharmacy     PharmacyInput     `json:"pharmacy"`
	Pharmacist   PharmacistInput   `json:"pharmacist"`
	Patient      PatientInput      `json:"patient"`
	Consultation ConsultationInput `json:"consultation"`

	Notes        []Note             `json:"notes"`
	Observations []ObservationInput `json:"observations,omitempty"`
	Medicines    []MedicineInput    `json:"medicines,omitempty"`
	Conditions   []ConditionInput   `json:"conditions,omitempty"`
	Replaces     *Replacement       `json:"replaces,omitempty"`
}

// InputError lists everything wrong with an Input. Messages name fields,
// never their values (they may be patient data).
type InputError struct {
	Problems []string
}

func (e *InputError) Error() string {
	return "updaterecord: invalid input: " + strings.Join(e.Problems, "; ")
}

// ErrInput matches every *InputError with errors.Is.
var ErrInput = errors.New("updaterecord: invalid input")

// Is makes errors.Is(err, ErrInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInput }

// ReadInput decodes an Input from JSON, rejecting unknown fields, and
// validates it.
func ReadInput(r io.Reader) (Input, error) {
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	dec.DisallowUnknownFields()
	var in Input
	if err := dec.Decode(&in); err != nil {
		return Input{}, &InputError{Problems: []string{"not an Update Record description in JSON: " + err.Error()}}
	}
	in.applyDefaults()
	if err := in.Validate(); err != nil {
		return Input{}, err
	}
	return in, nil
}

// Default codes.
var (
	RolePharmacist = Coding{System: jobRoleSystem, Code: "R1290", Display: "Pharmacist"}
	// encounterType is Encounter.type in every example.
	encounterType = Coding{System: snomedSystem, Code: "307778003", Display: "Seen in primary care establishment"}
)

var defaultSupplyType = map[UseCase]string{
	UseCasePharmacyFirst: "patient-group-direction",
	UseCaseContraception: "prescription-dispensing",
	UseCaseUrgentSupply:  "emergency-supply",
	UseCaseBloodPressure: "patient-group-direction",
}

func (in *Input) applyDefaults() {
	if in.Version == 0 {
		in.Version = 1
	}
	if in.RecipientType == "" {
		in.RecipientType = "FA"
	}
	if in.Pharmacist.Role == nil {
		r := RolePharmacist
		in.Pharmacist.Role = &r
	} else if in.Pharmacist.Role.System == "" {
		in.Pharmacist.Role.System = jobRoleSystem
	}
	snomed := func(c *Coding) {
		if c != nil && c.System == "" {
			c.System = snomedSystem
		}
	}
	for i := range in.Observations {
		o := &in.Observations[i]
		snomed(o.Code)
		snomed(o.BodySite)
		if o.Category == "" {
			o.Category = "vital-signs"
			if o.Value == nil && o.BloodPressure == nil && o.Attachment == nil {
				o.Category = "social-history"
			}
		}
		if o.BloodPressure != nil && o.BloodPressure.Reading == "" {
			o.BloodPressure.Reading = "standard"
		}
	}
	for i := range in.Medicines {
		m := &in.Medicines[i]
		if m.Medication.System == "" {
			m.Medication.System = dmdSystem
		}
		snomed(&m.Quantity.Unit)
		snomed(m.Dosage.Route)
		if m.Status == "" {
			m.Status = "completed"
		}
		if m.SupplyType == "" {
			m.SupplyType = defaultSupplyType[in.UseCase]
		}
	}
	for i := range in.Conditions {
		snomed(&in.Conditions[i].Code)
		if in.Conditions[i].ClinicalStatus == "" {
			in.Conditions[i].ClinicalStatus = "active"
		}
	}
}

var (
	odsRE     = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)
	mailboxRE = regexp.MustCompile(`^[A-Za-z0-9]{1,20}$`)
	sctidRE   = regexp.MustCompile(`^[1-9][0-9]{5,17}$`)
	gphcRE    = regexp.MustCompile(`^[0-9]{7}$`)
	uuidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	decimalRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)
)

// Validate reports every problem with the input (after defaults) as an
// *InputError.
func (in Input) Validate() error {
	var p []string
	add := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }
	code := func(field string, c *Coding, system string) {
		switch {
		case c == nil:
			add("%s is required", field)
		case c.System != system:
			add("%s.system must be %s", field, system)
		case system == snomedSystem || system == dmdSystem:
			if !sctidRE.MatchString(c.Code) {
				add("%s.code must be a SNOMED CT concept ID", field)
			}
		case c.Code == "":
			add("%s.code is required", field)
		}
		if c != nil && strings.TrimSpace(c.Display) == "" {
			add("%s.display is required (it is what a GP reads)", field)
		}
	}
	if !in.UseCase.Valid() {
		add("useCase must be pharmacy-first, blood-pressure, contraception or urgent-supply")
	}
	if in.Version < 1 {
		add("version must be 1 or more")
	}
	switch in.RecipientType {
	case "FA", "FI":
	default:
		add("recipientType must be FA (for action) or FI (for information)")
	}
	if !mailboxRE.MatchString(in.SenderMailbox) {
		add("senderMailbox must be a MESH mailbox ID (letters and digits)")
	}
	if !odsRE.MatchString(in.Pharmacy.ODSCode) {
		add("pharmacy.odsCode must be an ODS code (3–10 upper-case letters or digits)")
	}
	if strings.TrimSpace(in.Pharmacy.Name) == "" {
		add("pharmacy.name is required")
	}
	ph := in.Pharmacist
	if strings.TrimSpace(ph.Family) == "" {
		add("pharmacist.family is required")
	}
	if ph.GPhCNumber != "" && !gphcRE.MatchString(ph.GPhCNumber) {
		add("pharmacist.gphcNumber must be the 7-digit GPhC registration number")
	}
	code("pharmacist.role", ph.Role, jobRoleSystem)
	pt := in.Patient
	if err := patient.ValidateNHSNumber(pt.NHSNumber); err != nil {
		add("patient.nhsNumber: %v", err)
	}
	if strings.TrimSpace(pt.Family) == "" {
		add("patient.family is required")
	} else if strings.ContainsAny(pt.Family, "_\r\n") {
		add("patient.family must not contain '_' or line breaks (it goes into the MESH address)")
	}
	if len(pt.Given) == 0 || strings.TrimSpace(pt.Given[0]) == "" {
		add("patient.given needs at least one forename")
	}
	if _, err := time.Parse("2006-01-02", pt.BirthDate); err != nil {
		add("patient.birthDate must be a date as YYYY-MM-DD")
	}
	switch pt.Gender {
	case "", "male", "female", "other", "unknown":
	default:
		add("patient.gender must be male, female, other or unknown")
	}
	c := in.Consultation
	switch {
	case strings.TrimSpace(c.ID) == "":
		add("consultation.id is required (it becomes SenderReference)")
	case len(c.ID) > 255:
		add("consultation.id must be at most 255 characters")
	case !uuidRE.MatchString(c.ID) && !absoluteURI(in.IdentifierSystem):
		add("identifierSystem (an absolute URI) is required when consultation.id is not a UUID")
	}
	if !validDateTime(c.Date) {
		add("consultation.date must be YYYY-MM-DD or an RFC 3339 date and time with an offset")
	}
	summary := false
	for i, n := range in.Notes {
		if _, ok := headings[n.Heading]; !ok {
			add("notes[%d].heading must be a RecordStandardHeadings code (e.g. clinical-summary)", i)
		}
		summary = summary || n.Heading == "clinical-summary"
		if strings.TrimSpace(n.Text) == "" {
			add("notes[%d].text is required", i)
		}
	}
	if !summary {
		add("notes needs a clinical-summary (the PRSB clinical summary is mandatory, UR-D03)")
	}
	for i, o := range in.Observations {
		in.validateObservation(i, o, add, code)
	}
	for i, m := range in.Medicines {
		f := fmt.Sprintf("medicines[%d]", i)
		code(f+".medication", &m.Medication, dmdSystem)
		if m.Status != "completed" && m.Status != "stopped" {
			add("%s.status must be completed or stopped (a declined urgent supply)", f)
		}
		if _, ok := supplyTypes[m.SupplyType]; !ok {
			add("%s.supplyType must be a CareConnect-MedicationSupplyType-1 code", f)
		}
		if !positive(m.Quantity.Value) {
			add("%s.quantity.value must be a positive number", f)
		}
		code(f+".quantity.unit", &m.Quantity.Unit, snomedSystem)
		if m.DaysSupply != "" && !positive(m.DaysSupply) {
			add("%s.daysSupply must be a positive number", f)
		}
		d := m.Dosage
		if strings.TrimSpace(d.Text) == "" || strings.TrimSpace(d.PatientInstruction) == "" {
			add("%s.dosage.text and %s.dosage.patientInstruction are required (UR-D12)", f, f)
		}
		if d.Route != nil {
			code(f+".dosage.route", d.Route, snomedSystem)
		}
		if d.Frequency != 0 || d.Period != "" || d.PeriodUnit != "" {
			if d.Frequency < 1 || !positive(d.Period) || !anyIn(d.PeriodUnit, "s", "min", "h", "d", "wk", "mo", "a") {
				add("%s.dosage: a structured timing needs frequency ≥ 1, a positive period and a periodUnit (s, min, h, d, wk, mo, a)", f)
			}
		}
	}
	for i, cd := range in.Conditions {
		f := fmt.Sprintf("conditions[%d]", i)
		code(f+".code", &cd.Code, snomedSystem)
		if cd.ClinicalStatus != "active" && cd.ClinicalStatus != "resolved" {
			add("%s.clinicalStatus must be active or resolved", f)
		}
	}
	if in.Replaces != nil && !uuidRE.MatchString(in.Replaces.DocumentID) {
		add("replaces.documentId must be the UUID of the replaced update")
	}
	if in.Replaces != nil && in.Version < 2 {
		add("a replacement needs version 2 or more")
	}
	if len(p) > 0 {
		return &InputError{Problems: p}
	}
	return nil
}

func (in Input) validateObservation(i int, o ObservationInput, add func(string, ...any), code func(string, *Coding, string)) {
	f := fmt.Sprintf("observations[%d]", i)
	kinds := 0
	for _, set := range []bool{o.Value != nil, o.BloodPressure != nil, o.Attachment != nil} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		add("%s: give one of value, bloodPressure or attachment", f)
	}
	if o.BloodPressure != nil {
		if o.Code != nil {
			add("%s.code must be empty for a blood-pressure reading (the triplet gives it)", f)
		}
		if _, ok := bpReadings[o.BloodPressure.Reading]; !ok {
			add("%s.bloodPressure.reading must be one of %s", f, strings.Join(BloodPressureReadings(), ", "))
		}
		if !positive(o.BloodPressure.Systolic) || !positive(o.BloodPressure.Diastolic) {
			add("%s.bloodPressure: systolic and diastolic must be positive numbers (mm[Hg])", f)
		}
	} else {
		code(f+".code", o.Code, snomedSystem)
	}
	if o.Category != "vital-signs" && o.Category != "social-history" {
		add("%s.category must be vital-signs or social-history (UR-D11)", f)
	}
	if o.Value != nil {
		if !decimalRE.MatchString(string(o.Value.Value)) {
			add("%s.value.value must be a number", f)
		}
		if _, ok := ucumUnits[o.Value.Unit]; !ok {
			add("%s.value.unit must be a supported UCUM unit (%s)", f, strings.Join(UCUMUnits(), ", "))
		}
	}
	if a := o.Attachment; a != nil {
		if strings.TrimSpace(a.Title) == "" || !strings.Contains(a.ContentType, "/") || len(a.Data) == 0 {
			add("%s.attachment needs a title, a MIME contentType and data (UR-D19)", f)
		}
	}
	if o.Heading != "" {
		if _, ok := headings[o.Heading]; !ok {
			add("%s.heading must be a RecordStandardHeadings code", f)
		}
	}
	if o.BodySite != nil {
		code(f+".bodySite", o.BodySite, snomedSystem)
	}
	if o.Interpretation != "" {
		if _, ok := interpretations[o.Interpretation]; !ok {
			add("%s.interpretation must be H, L, A or N", f)
		}
	}
}

func positive(n json.Number) bool {
	if !decimalRE.MatchString(string(n)) {
		return false
	}
	f, err := n.Float64()
	return err == nil && f > 0
}

func absoluteURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "")
}

// validDateTime accepts a FHIR date (YYYY-MM-DD) or a dateTime with an
// offset.
func validDateTime(s string) bool {
	if _, err := time.Parse("2006-01-02", s); err == nil {
		return true
	}
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

func anyIn(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}
