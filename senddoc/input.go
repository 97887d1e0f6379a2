package senddoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// UseCase is the kind of Send Document message.
type UseCase string

// Use cases. Registration is the draft patient-registration use case: it can
// be validated but not built.
const (
	UseCaseConsultation UseCase = "consultation-summary"
	UseCaseOnline       UseCase = "online-consultation"
	UseCaseGeneric      UseCase = "generic"
	UseCaseRegistration UseCase = "patient-registration"
)

// Generation values.
const (
	GenerationV1 = 1 // GPFED_CONSULT_REPORT, release 1.x
	GenerationV2 = 2 // GPCONNECT_SEND_DOCUMENT
)

// Coding is a code from a code system (SNOMED CT unless System says otherwise).
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// Address is a postal address, one line per element of Lines.
type Address struct {
	Lines    []string `json:"lines,omitempty"`
	City     string   `json:"city,omitempty"`
	Postcode string   `json:"postcode,omitempty"`
}

// PatientInput describes the patient the document is about.
type PatientInput struct {
	NHSNumber string   `json:"nhsNumber"`
	Family    string   `json:"family"`
	Given     []string `json:"given"`
	Prefix    string   `json:"prefix,omitempty"`
	// BirthDate is YYYY-MM-DD.
	BirthDate string   `json:"birthDate"`
	Gender    string   `json:"gender,omitempty"` // male, female, other, unknown
	Address   *Address `json:"address,omitempty"`
	Phone     string   `json:"phone,omitempty"`
	Mobile    string   `json:"mobile,omitempty"`
}

// PractitionerInput describes the clinician who wrote the report.
type PractitionerInput struct {
	SDSUserID string   `json:"sdsUserId"`
	Family    string   `json:"family"`
	Given     []string `json:"given,omitempty"`
	Prefix    string   `json:"prefix,omitempty"`
	Phone     string   `json:"phone,omitempty"`
	// Role is the clinician's role as shown in the report ("GP", "Nurse");
	// Send Document carries no PractitionerRole, so it appears in the PDF.
	Role string `json:"role,omitempty"`
}

// OrganisationInput is an organisation identified by its ODS code.
type OrganisationInput struct {
	ODSCode string   `json:"odsCode"`
	Name    string   `json:"name"`
	Phone   string   `json:"phone,omitempty"`
	Email   string   `json:"email,omitempty"`
	Address *Address `json:"address,omitempty"`
}

// EncounterInput is the consultation the report describes.
type EncounterInput struct {
	// ID identifies the encounter at the sender; it becomes SenderReference,
	// shared by every version of the report.
	ID    string    `json:"id"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
	// Type is the SNOMED encounter type; a default per use case is used when empty.
	Type     *Coding `json:"type,omitempty"`
	Location string  `json:"location,omitempty"` // branch location shown in the report
}

// Section is one titled block of clinical notes.
type Section struct {
	Title string `json:"title"`
	Text  string `json:"text"`
	// Confidential replaces the text with "Confidential item" in the report.
	Confidential bool `json:"confidential,omitempty"`
}

// Attachment is an extra document sent with the report.
type Attachment struct {
	Title       string `json:"title"`
	ContentType string `json:"contentType"`
	// Data is the content (base64 in JSON).
	Data []byte `json:"data"`
}

// Replacement names the earlier document this one replaces.
type Replacement struct {
	// DocumentID is the Composition.identifier value (a UUID) of the
	// immediately previous version.
	DocumentID string `json:"documentId"`
}

// Input describes one report to send. Fields marked optional may be empty;
// Validate says what is missing.
type Input struct {
	Generation int     `json:"generation"` // 1 (default) or 2
	UseCase    UseCase `json:"useCase"`    // default consultation-summary
	// DocumentType is the SNOMED document type (Composition.type). Optional for
	// consultation summary and online consultation (fixed codes), required for
	// generic.
	DocumentType *Coding `json:"documentType,omitempty"`
	// Title is the Composition title for generic documents (default: the
	// document type's display); ReportName is the "{name of report}" in the
	// generic narrative and MESH subject (default: Title).
	Title      string `json:"title,omitempty"`
	ReportName string `json:"reportName,omitempty"`
	// CareSetting is the SNOMED care-setting type (v2; optional in v1).
	CareSetting *Coding `json:"careSetting,omitempty"`
	// RecipientType is FA (for action, default) or FI (for information).
	RecipientType string `json:"recipientType,omitempty"`
	// Version of this report, 1 for the first, +1 per resend (default 1).
	Version      int  `json:"version,omitempty"`
	Confidential bool `json:"confidential,omitempty"`

	SenderMailbox string `json:"senderMailbox"`
	// RecipientMailbox is a MESH mailbox ID for non-GP recipients (online
	// consultation and generic). When empty the message is addressed to the
	// patient's registered practice with a GPPROVIDER_ address.
	RecipientMailbox string `json:"recipientMailbox,omitempty"`

	Patient            PatientInput       `json:"patient"`
	Practitioner       *PractitionerInput `json:"practitioner,omitempty"`
	Author             OrganisationInput  `json:"authorOrganisation"`
	RegisteredPractice *OrganisationInput `json:"registeredPractice,omitempty"`
	Encounter          EncounterInput     `json:"encounter"`

	Sections    []Section    `json:"sections,omitempty"`
	FollowUp    string       `json:"followUp,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// PDF is a ready-made report; when empty Build renders one from the
	// sections.
	PDF      []byte       `json:"pdf,omitempty"`
	Replaces *Replacement `json:"replaces,omitempty"`
	// Created is when the document was made (Composition.date); default: the
	// build time.
	Created time.Time `json:"created,omitzero"`
}

// Problem is one thing wrong with an Input.
type Problem struct {
	// Field is the input path the problem is about, e.g. "patient.nhsNumber"
	// or "sections[0].title"; "" for the input as a whole.
	Field string `json:"field"`
	// Message says what is wrong and what to do, naming the field, never its
	// value (it may be patient data).
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Message }

// InputError lists everything wrong with an Input.
type InputError struct {
	Problems []Problem
}

// Messages returns the problems' texts.
func (e *InputError) Messages() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.Message
	}
	return out
}

func (e *InputError) Error() string {
	return "senddoc: invalid input: " + strings.Join(e.Messages(), "; ")
}

// ErrInput matches every *InputError with errors.Is.
var ErrInput = errors.New("senddoc: invalid input")

// Is makes errors.Is(err, ErrInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInput }

// ReadInput decodes an Input from JSON, rejecting unknown fields, and
// validates it.
func ReadInput(r io.Reader) (Input, error) {
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	dec.DisallowUnknownFields()
	var in Input
	if err := dec.Decode(&in); err != nil {
		return Input{}, &InputError{Problems: []Problem{{Message: "not a report description in JSON: " + err.Error()}}}
	}
	in.applyDefaults()
	if err := in.Validate(); err != nil {
		return Input{}, err
	}
	return in, nil
}

var (
	odsRE     = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)
	dateRE    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	mailboxRE = regexp.MustCompile(`^[A-Za-z0-9]{1,20}$`)
	snomedRE  = regexp.MustCompile(`^[1-9][0-9]{5,17}$`)
)

// Default SNOMED codes.
var (
	TypeConsultationReport     = Coding{System: snomedSystem, Code: "371531000", Display: "Report of clinical encounter"}
	TypeOnlineConsultation     = Coding{System: snomedSystem, Code: "149951000000107", Display: "Patient information received using general practice online consultation system (finding)"}
	EncounterOnline            = Coding{System: snomedSystem, Code: "149971000000103", Display: "Encounter using general practice online consultation system (procedure)"}
	EncounterClinical          = Coding{System: snomedSystem, Code: "11429006", Display: "Consultation"}
	CareSettingGeneralPractice = Coding{System: snomedSystem, Code: "1060971000000108", Display: "General practice service"}
)

// WithDefaults returns in with the defaults Build applies made explicit
// (generation 1, consultation summary, for action, version 1, the use
// case's document type and title), so that Validate checks what Build
// builds.
func (in Input) WithDefaults() Input {
	in.applyDefaults()
	return in
}

func (in *Input) applyDefaults() {
	if in.Generation == 0 {
		in.Generation = GenerationV1
	}
	if in.UseCase == "" {
		in.UseCase = UseCaseConsultation
	}
	if in.RecipientType == "" {
		in.RecipientType = "FA"
	}
	if in.Version == 0 {
		in.Version = 1
	}
	if in.DocumentType == nil {
		switch in.UseCase {
		case UseCaseConsultation:
			c := TypeConsultationReport
			in.DocumentType = &c
		case UseCaseOnline:
			c := TypeOnlineConsultation
			in.DocumentType = &c
		}
	}
	if in.DocumentType != nil && in.DocumentType.System == "" {
		in.DocumentType.System = snomedSystem
	}
	if in.CareSetting != nil && in.CareSetting.System == "" {
		in.CareSetting.System = snomedSystem
	}
	if in.Encounter.Type != nil && in.Encounter.Type.System == "" {
		in.Encounter.Type.System = snomedSystem
	}
	if in.Title == "" {
		in.Title = defaultTitle(in.UseCase, in.DocumentType)
	}
	if in.ReportName == "" {
		in.ReportName = in.Title
	}
}

func defaultTitle(uc UseCase, dt *Coding) string {
	switch uc {
	case UseCaseConsultation:
		return "Consultation report"
	case UseCaseOnline:
		return "Online consultation report"
	}
	if dt != nil && dt.Display != "" {
		return dt.Display
	}
	return ""
}

// Validate reports every problem with the input (after defaults) as an
// *InputError.
func (in Input) Validate() error {
	var p []Problem
	add := func(field, format string, a ...any) {
		p = append(p, Problem{Field: field, Message: fmt.Sprintf(format, a...)})
	}
	switch in.Generation {
	case GenerationV1, GenerationV2:
	default:
		add("generation", "generation must be 1 (GPFED_CONSULT_REPORT) or 2 (GPCONNECT_SEND_DOCUMENT), got %d", in.Generation)
	}
	switch in.UseCase {
	case UseCaseConsultation, UseCaseOnline, UseCaseGeneric:
	case UseCaseRegistration:
		add("useCase", "useCase patient-registration is a draft with no document type code and cannot be built")
	default:
		add("useCase", "useCase must be consultation-summary, online-consultation or generic, got %q", in.UseCase)
	}
	if in.DocumentType == nil {
		add("documentType", "documentType (SNOMED code of the item sent) is required for generic documents")
	} else if !validSNOMED(in.DocumentType.Code) {
		add("documentType.code", "documentType.code must be a SNOMED CT concept ID")
	}
	if in.Title == "" {
		add("title", "title is required when documentType has no display")
	}
	if in.CareSetting != nil && !validSNOMED(in.CareSetting.Code) {
		add("careSetting.code", "careSetting.code must be a SNOMED CT concept ID")
	}
	if in.Encounter.Type != nil && !validSNOMED(in.Encounter.Type.Code) {
		add("encounter.type.code", "encounter.type.code must be a SNOMED CT concept ID")
	}
	switch in.RecipientType {
	case "FA", "FI":
	default:
		add("recipientType", "recipientType must be FA (for action) or FI (for information)")
	}
	if in.Version < 1 {
		add("version", "version must be 1 or more")
	}
	if !mailboxRE.MatchString(in.SenderMailbox) {
		add("senderMailbox", "senderMailbox must be a MESH mailbox ID (letters and digits)")
	}
	if in.RecipientMailbox != "" {
		if in.UseCase == UseCaseConsultation {
			add("recipientMailbox", "recipientMailbox is not allowed for consultation summaries: they always use patient routing (GPCM-SD-CS-060)")
		} else if !mailboxRE.MatchString(in.RecipientMailbox) {
			add("recipientMailbox", "recipientMailbox must be a MESH mailbox ID (letters and digits)")
		}
	}
	if err := checkNHSNumber(in.Patient.NHSNumber); err != nil {
		add("patient.nhsNumber", "patient.nhsNumber: %v", err)
	}
	if strings.TrimSpace(in.Patient.Family) == "" {
		add("patient.family", "patient.family is required")
	} else if strings.ContainsAny(in.Patient.Family, "_\r\n") {
		add("patient.family", "patient.family must not contain '_' or line breaks (it goes into the MESH address)")
	}
	if len(in.Patient.Given) == 0 || strings.TrimSpace(in.Patient.Given[0]) == "" {
		add("patient.given", "patient.given needs at least one forename")
	}
	if !validDate(in.Patient.BirthDate) {
		add("patient.birthDate", "patient.birthDate must be a date as YYYY-MM-DD")
	}
	switch in.Patient.Gender {
	case "", "male", "female", "other", "unknown":
	default:
		add("patient.gender", "patient.gender must be male, female, other or unknown")
	}
	if in.Practitioner == nil {
		if in.UseCase == UseCaseConsultation {
			add("practitioner", "practitioner is required for consultation summaries (the author, GPCM-SD-CS-025)")
		}
	} else {
		if strings.TrimSpace(in.Practitioner.SDSUserID) == "" {
			add("practitioner.sdsUserId", "practitioner.sdsUserId is required")
		}
		if strings.TrimSpace(in.Practitioner.Family) == "" {
			add("practitioner.family", "practitioner.family is required")
		}
	}
	if !odsRE.MatchString(in.Author.ODSCode) {
		add("authorOrganisation.odsCode", "authorOrganisation.odsCode must be an ODS code (3–10 upper-case letters or digits)")
	}
	if strings.TrimSpace(in.Author.Name) == "" {
		add("authorOrganisation.name", "authorOrganisation.name is required")
	}
	if strings.TrimSpace(in.Author.Phone) == "" {
		add("authorOrganisation.phone", "authorOrganisation.phone is required (GPCM-SD-CS-035)")
	}
	if rp := in.RegisteredPractice; rp != nil && rp.ODSCode != "" && !odsRE.MatchString(rp.ODSCode) {
		add("registeredPractice.odsCode", "registeredPractice.odsCode must be an ODS code")
	}
	if strings.TrimSpace(in.Encounter.ID) == "" {
		add("encounter.id", "encounter.id is required (it becomes SenderReference)")
	} else if len(in.Encounter.ID) > 255 {
		add("encounter.id", "encounter.id must be at most 255 characters")
	}
	if in.Encounter.Start.IsZero() {
		add("encounter.start", "encounter.start is required")
	}
	if !in.Encounter.End.IsZero() && in.Encounter.End.Before(in.Encounter.Start) {
		add("encounter.end", "encounter.end is before encounter.start")
	}
	if len(in.PDF) == 0 && len(in.Sections) == 0 {
		add("sections", "give either sections (to render the PDF) or a ready-made pdf")
	}
	if len(in.PDF) > 0 && !strings.HasPrefix(string(in.PDF[:min(len(in.PDF), 5)]), "%PDF-") {
		add("pdf", "pdf does not start with %%PDF-: not a PDF file")
	}
	for i, s := range in.Sections {
		if strings.TrimSpace(s.Title) == "" {
			add(fmt.Sprintf("sections[%d].title", i), "sections[%d].title is required", i)
		}
	}
	for i, a := range in.Attachments {
		if a.ContentType == "" || !strings.Contains(a.ContentType, "/") {
			add(fmt.Sprintf("attachments[%d].contentType", i), "attachments[%d].contentType must be a MIME type", i)
		}
		if len(a.Data) == 0 {
			add(fmt.Sprintf("attachments[%d].data", i), "attachments[%d].data is empty", i)
		}
	}
	if in.Replaces != nil && !uuidRE.MatchString(in.Replaces.DocumentID) {
		add("replaces.documentId", "replaces.documentId must be the UUID of the replaced document")
	}
	if len(p) > 0 {
		return &InputError{Problems: p}
	}
	return nil
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func validDate(s string) bool {
	if !dateRE.MatchString(s) {
		return false
	}
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

// validSNOMED checks the SCTID form: 6–18 digits, partition, Verhoeff check digit.
func validSNOMED(s string) bool {
	if !snomedRE.MatchString(s) {
		return false
	}
	return verhoeffValid(s)
}

var (
	vD = [10][10]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}, {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7}, {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3}, {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	vP = [8][10]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4}, {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7}, {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
)

func verhoeffValid(s string) bool {
	c := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		c = vD[c][vP[i%8][d]]
	}
	return c == 0
}
