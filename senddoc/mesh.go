package senddoc

import (
	"fmt"
	"strings"

	"github.com/gpcm/gpcm/patient"
)

// MESH workflow IDs of Send Document.
const (
	WorkflowV1    = "GPFED_CONSULT_REPORT"
	WorkflowV1Ack = "GPFED_CONSULT_REPORT_ACK"
	WorkflowV2    = "GPCONNECT_SEND_DOCUMENT"
	WorkflowV2Ack = "GPCONNECT_SEND_DOCUMENT_ACK"
)

// Envelope holds the MESH values that go with a message: the Mex-* headers of
// the MESH API, or the fields of a MESH client .ctl file.
type Envelope struct {
	WorkflowID string `json:"workflowId"` // Mex-WorkflowID / WorkflowId
	// AckWorkflowID is the workflow the receiver's ITK3 responses use.
	AckWorkflowID string `json:"ackWorkflowId,omitempty"`
	From          string `json:"from"`    // Mex-From / From_DTS: sender mailbox
	To            string `json:"to"`      // Mex-To / To_DTS: GPPROVIDER_… or a mailbox ID
	Subject       string `json:"subject"` // Mex-Subject / Subject
	LocalID       string `json:"localId"` // Mex-LocalID / LocalId: sender ODS code
	FileName      string `json:"fileName,omitempty"`
}

// WorkflowFor returns the message and acknowledgement workflow IDs of a
// generation.
func WorkflowFor(generation int) (msg, ack string) {
	if generation == GenerationV2 {
		return WorkflowV2, WorkflowV2Ack
	}
	return WorkflowV1, WorkflowV1Ack
}

// GPProviderAddress returns the patient-routing MESH address
// GPPROVIDER_{NHS number}_{YYYYMMDD}_{surname} (package patient's format).
// birthDate is YYYY-MM-DD.
func GPProviderAddress(nhsNumber, birthDate, family string) (string, error) {
	d, err := patient.ParseDateFormat(birthDate, patient.DateISO)
	if err != nil {
		return "", fmt.Errorf("senddoc: GPPROVIDER address: date of birth is not YYYY-MM-DD")
	}
	addr, err := patient.FormatGPProviderAddress(nhsNumber, d, strings.TrimSpace(family))
	if err != nil {
		return "", fmt.Errorf("senddoc: %w", err)
	}
	return addr, nil
}

// GPProvider is a parsed GPPROVIDER_ address.
type GPProvider struct {
	NHSNumber string
	BirthDate string // YYYY-MM-DD
	Family    string
	// LegacyDOB is true when the date was written DDMMYYYY (older GP Connect
	// pages) instead of YYYYMMDD.
	LegacyDOB bool
}

// ParseGPProvider reads GPPROVIDER_{NHS}_{DOB}_{surname} with package
// patient; the date may be YYYYMMDD or the legacy DDMMYYYY.
func ParseGPProvider(s string) (GPProvider, error) {
	a, err := patient.ParseGPProviderAddress(s)
	if err != nil {
		return GPProvider{}, fmt.Errorf("senddoc: %w", err)
	}
	return GPProvider{NHSNumber: a.NHSNumber, BirthDate: a.BirthDate.Format(patient.DateISO), Family: a.Surname,
		LegacyDOB: a.DateFormat != patient.DateCompact}, nil
}

// patientName is the {Patient Name} of narratives and subjects: forenames
// then the surname.
func patientName(given []string, family string) string {
	return strings.Join(append(append([]string(nil), given...), family), " ")
}

// Subject returns the Mex-Subject for the input per the use case's template.
func (in Input) Subject() string {
	name := patientName(in.Patient.Given, in.Patient.Family)
	ods := in.Author.ODSCode
	if in.Generation == GenerationV2 {
		s := fmt.Sprintf("%s for %s, NHS Number: %s", in.Title, name, in.Patient.NHSNumber)
		if !in.Confidential {
			loc := in.Author.Name
			if in.Encounter.Location != "" {
				loc = in.Encounter.Location
			}
			s += fmt.Sprintf(", seen at %s, %s", loc, ods)
		}
		return s + fmt.Sprintf(", Version: %d", in.Version)
	}
	switch in.UseCase {
	case UseCaseOnline:
		return fmt.Sprintf("Online consultation report for %s, NHS Number %s, ODS Code %s", name, in.Patient.NHSNumber, ods)
	case UseCaseGeneric:
		return fmt.Sprintf("%s report for %s, NHS Number %s, ODS Code %s", strings.TrimSuffix(in.ReportName, " report"), name, in.Patient.NHSNumber, ods)
	}
	s := fmt.Sprintf("Consultation report for %s, NHS Number %s", name, in.Patient.NHSNumber)
	if !in.Confidential {
		s += fmt.Sprintf(", seen at %s, ODS Code %s", in.Author.Name, ods)
	}
	return s + fmt.Sprintf(", Version %d", in.Version)
}

// Envelope returns the MESH values for the input.
func (in Input) Envelope() (Envelope, error) {
	wf, ack := WorkflowFor(in.Generation)
	to := in.RecipientMailbox
	if to == "" {
		var err error
		to, err = GPProviderAddress(in.Patient.NHSNumber, in.Patient.BirthDate, in.Patient.Family)
		if err != nil {
			return Envelope{}, err
		}
	}
	return Envelope{
		WorkflowID:    wf,
		AckWorkflowID: ack,
		From:          in.SenderMailbox,
		To:            to,
		Subject:       in.Subject(),
		LocalID:       in.Author.ODSCode,
	}, nil
}

// checkNHSNumber checks ten digits with a valid modulus-11 check digit
// (package patient). The error never contains the number.
func checkNHSNumber(s string) error { return patient.ValidateNHSNumber(s) }
