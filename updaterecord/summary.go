package updaterecord

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
)

// Summary is what a GP reads at a glance from an Update Record: who saw the
// patient for which service and when, what the pharmacist wrote under each
// PRSB heading, what was measured, supplied and presented. Every text is as
// the sender wrote it; Read never judges the content.
type Summary struct {
	// UseCase is the service of the Composition.type code ("" when the
	// code is none of the four).
	UseCase UseCase `json:"useCase,omitempty"`
	// Service is the service's name (UseCase.Name), or the text of an
	// unknown Composition.type.
	Service     string `json:"service"`
	ServiceCode Coding `json:"serviceCode"`
	Title       string `json:"title"`
	// Seen is when the patient was seen, as a FHIR date or dateTime:
	// Encounter.period.start, else Composition.date.
	Seen string `json:"seen"`
	// Status is Composition.status (final, amended, …).
	Status     string       `json:"status,omitempty"`
	Pharmacy   Organisation `json:"pharmacy"`
	Pharmacist Professional `json:"pharmacist"`
	Patient    Demographics `json:"patient"`

	// Notes are the free-text PRSB headings (one per ClinicalImpression,
	// Heading its RecordStandardHeadings tag, "" when untagged), in message
	// order.
	Notes        []Note               `json:"notes"`
	Observations []ObservationSummary `json:"observations"`
	Medicines    []MedicineSummary    `json:"medicines"`
	Conditions   []ConditionSummary   `json:"conditions"`

	// SenderReference is the handling key shared by every version of the
	// update; DocumentID the Composition.identifier value a later
	// replacement names; Replaces the relatesTo.targetIdentifier of a
	// replacement ("" otherwise); Version Composition.meta.versionId (0
	// when absent).
	SenderReference string `json:"senderReference,omitempty"`
	DocumentID      string `json:"documentId,omitempty"`
	Replaces        string `json:"replaces,omitempty"`
	Version         int    `json:"version,omitempty"`
}

// Organisation is the pharmacy (CareConnect-GPC-Organization-1).
type Organisation struct {
	Name    string `json:"name"`
	ODSCode string `json:"odsCode,omitempty"`
}

// Professional is the pharmacy professional who saw the patient.
type Professional struct {
	Name string `json:"name"`
	// Role is the SDS job role (PractitionerRole.code), e.g. Pharmacist.
	Role       string `json:"role,omitempty"`
	RoleCode   string `json:"roleCode,omitempty"`
	GPhCNumber string `json:"gphcNumber,omitempty"`
	SDSUserID  string `json:"sdsUserId,omitempty"`
}

// Demographics are the patient details as the pharmacy sent them.
type Demographics struct {
	Name      string `json:"name"`
	NHSNumber string `json:"nhsNumber,omitempty"`
	BirthDate string `json:"birthDate,omitempty"`
	Gender    string `json:"gender,omitempty"`
}

// ObservationSummary is one Observation.
type ObservationSummary struct {
	Name string `json:"name"`
	Code Coding `json:"code"`
	// Heading is the RecordStandardHeadings tag (pregnancy-status, …), ""
	// for untagged vital signs.
	Heading  string `json:"heading,omitempty"`
	Category string `json:"category,omitempty"`
	// Value is the value as text: a number as sent ("37.4"), the
	// systolic/diastolic pair of a blood pressure ("152/96"), the display
	// of a coded value, the title of a report; "" for a coded finding
	// without a value (the code says it all).
	Value string `json:"value,omitempty"`
	// Unit is the UCUM code of a quantity ("mm[Hg]", "Cel"), or its unit
	// text when it is not UCUM.
	Unit string `json:"unit,omitempty"`
	// Flag is the sender's interpretation (docview.FlagHigh, FlagLow,
	// FlagAbnormal, FlagNormal; "" when none). The guide names no
	// threshold of its own, so no flag is derived from the value (UR-F10:
	// the consumer may apply its own; gpcm leaves that to the GP).
	Flag string `json:"flag,omitempty"`
	// Interpretation is the sender's interpretation as written (text or
	// display), for flags Read does not know.
	Interpretation string             `json:"interpretation,omitempty"`
	BodySite       string             `json:"bodySite,omitempty"`
	Effective      string             `json:"effective,omitempty"`
	ReferenceRange string             `json:"referenceRange,omitempty"`
	Components     []ComponentSummary `json:"components,omitempty"`
	// BloodPressure says Value is a systolic/diastolic pair from the first
	// two Components.
	BloodPressure bool               `json:"bloodPressure,omitempty"`
	Attachment    *AttachmentSummary `json:"attachment,omitempty"`
}

// ComponentSummary is one Observation.component (a systolic or diastolic
// pressure, …).
type ComponentSummary struct {
	Name           string `json:"name"`
	Code           Coding `json:"code"`
	Value          string `json:"value,omitempty"`
	Unit           string `json:"unit,omitempty"`
	Flag           string `json:"flag,omitempty"`
	Interpretation string `json:"interpretation,omitempty"`
}

// AttachmentSummary describes a report sent as Observation.valueAttachment
// (1.2.0: the ABPM report; UR-D19 asks receivers to show its title).
type AttachmentSummary struct {
	Title       string `json:"title"`
	ContentType string `json:"contentType,omitempty"`
	// Size is the decoded size in bytes when the data is inline.
	Size int `json:"size,omitempty"`
}

// MedicineSummary is one MedicationDispense: a medicine supplied (or, with
// status stopped, a supply declined).
type MedicineSummary struct {
	Name   string `json:"name"`
	Code   Coding `json:"code"`
	Status string `json:"status,omitempty"`
	// SupplyType is the display of MedicationDispense.type (Patient group
	// direction, …).
	SupplyType string `json:"supplyType,omitempty"`
	Quantity   string `json:"quantity,omitempty"`
	// Unit is the quantity's unit text (Capsule, Tablet), else its code.
	Unit string `json:"unit,omitempty"`
	// DaysSupply is how long the supply lasts as text ("7 days").
	DaysSupply string `json:"daysSupply,omitempty"`
	// Dosage is the dosage instruction text, PatientInstruction the
	// instruction to the patient (UR-D12 makes both free texts MUST).
	Dosage             string `json:"dosage,omitempty"`
	PatientInstruction string `json:"patientInstruction,omitempty"`
	Route              string `json:"route,omitempty"`
	HandedOver         string `json:"handedOver,omitempty"`
}

// ConditionSummary is one Condition: the presenting complaint, not a GP
// problem (UR-D10).
type ConditionSummary struct {
	Name           string `json:"name"`
	Code           Coding `json:"code"`
	ClinicalStatus string `json:"clinicalStatus,omitempty"`
	Heading        string `json:"heading,omitempty"`
}

// ErrNotUpdateRecord is returned (wrapped) by Read and WriteDocumentJSON
// when the resource is not an Update Record message (nor its document
// Bundle): no document Bundle, or no Composition in it.
var ErrNotUpdateRecord = errors.New("updaterecord: not an Update Record message")

// ReadMessage decodes one message (FHIR XML or JSON, sniffed, with the
// fhir package's default limits) and reads it (Read).
func ReadMessage(r io.Reader) (Summary, error) {
	res, _, _, err := fhir.Decode(r, nil)
	if err != nil {
		return Summary{}, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	return Read(res)
}

// Read summarises a decoded Update Record: the message Bundle, or its
// document Bundle alone. It reads what is there and leaves out what is
// not (validation is Validate's job); only a Bundle without a document or
// a Composition is an error (ErrNotUpdateRecord).
func Read(res fhir.Resource) (Summary, error) {
	c, err := openDocument(res)
	if err != nil {
		return Summary{}, err
	}
	return c.summary(), nil
}

// openDocument finds the document Bundle of a message (or takes the
// document Bundle itself) and its Composition, with the validator's
// navigation; nothing is checked.
func openDocument(res fhir.Resource) (*checker, error) {
	b, ok := res.(*fhir.Bundle)
	if !ok || b == nil {
		kind := "nothing"
		if res != nil && ok {
			kind = "a nil Bundle"
		} else if res != nil {
			kind = "a " + res.ResourceType()
		}
		return nil, fmt.Errorf("%w: %s is not a message or document Bundle", ErrNotUpdateRecord, kind)
	}
	c := newChecker(b, Options{})
	if c.mh != nil {
		c.findDocument()
	} else {
		c.doc = &entry{typ: "Bundle", res: b, path: "Bundle", inDoc: true}
		c.readDocument()
	}
	switch {
	case c.docBundle == nil:
		return nil, fmt.Errorf("%w: the message carries no document Bundle", ErrNotUpdateRecord)
	case c.composition == nil:
		return nil, fmt.Errorf("%w: the document Bundle has no Composition", ErrNotUpdateRecord)
	}
	return c, nil
}

// WriteDocumentJSON writes the document Bundle of an Update Record message
// (Composition, Encounter, Patient, Observations, …: the structured
// content) as canonical FHIR STU3 JSON, for a GP system to ingest.
func WriteDocumentJSON(w io.Writer, res fhir.Resource) error {
	c, err := openDocument(res)
	if err != nil {
		return err
	}
	return fhir.EncodeJSON(w, c.docBundle, nil)
}

func (c *checker) summary() Summary {
	cp := c.composition
	s := Summary{Title: strings.TrimSpace(cp.Title.String()), Status: cp.Status.String(), Version: c.version(),
		UseCase: c.uc, Notes: []Note{}, Observations: []ObservationSummary{}, Medicines: []MedicineSummary{}, Conditions: []ConditionSummary{}}
	s.ServiceCode = firstCoding(cp.Type, snomedSystem)
	if c.uc != "" {
		s.Service = c.uc.Name()
	} else {
		s.Service = conceptText(cp.Type)
	}
	if cp.Identifier != nil {
		s.DocumentID = cp.Identifier.Value.String()
	}
	for _, rt := range cp.RelatesTo {
		if rt != nil && rt.Code.String() == "replaces" && s.Replaces == "" {
			switch t := rt.Target.(type) {
			case *fhir.Identifier:
				if t != nil {
					s.Replaces = t.Value.String()
				}
			case *fhir.Reference:
				switch {
				case t == nil:
				case t.Identifier != nil:
					s.Replaces = t.Identifier.Value.String()
				default:
					s.Replaces = t.Reference.String()
				}
			}
		}
	}
	h, _ := itk3.ReadHandling(c.mh)
	s.SenderReference = h.SenderReference

	enc, _ := c.pick(cp.Encounter, "Encounter").(*fhir.Encounter)
	s.Seen = cp.Date.String()
	if enc != nil && enc.Period != nil && enc.Period.Start.String() != "" {
		s.Seen = enc.Period.Start.String()
	}
	var orgRef, pracRef *fhir.Reference
	if enc != nil {
		orgRef = enc.ServiceProvider
		for _, p := range enc.Participant {
			if p != nil && pracRef == nil {
				pracRef = p.Individual
			}
		}
	}
	if len(cp.Author) > 0 {
		pracRef = cp.Author[0]
	}
	prac, _ := c.pick(pracRef, "Practitioner").(*fhir.Practitioner)
	s.Pharmacist = c.professional(prac)
	if orgRef == nil {
		orgRef = c.roleOf(prac).organization()
	}
	if org, _ := c.pick(orgRef, "Organization").(*fhir.Organization); org != nil {
		_, ods := identifierValue(org.Identifier, odsSystem)
		s.Pharmacy = Organisation{Name: strings.TrimSpace(org.Name.String()), ODSCode: ods}
	}
	if pat, _ := c.pick(cp.Subject, "Patient").(*fhir.Patient); pat != nil {
		_, nhs := identifierValue(pat.Identifier, nhsNumberSystem)
		s.Patient = Demographics{Name: personName(pat.Name), NHSNumber: nhs, BirthDate: pat.BirthDate.String(), Gender: pat.Gender.String()}
	}

	for _, e := range c.entries() {
		switch r := e.res.(type) {
		case *fhir.ClinicalImpression:
			text := strings.TrimSpace(r.Summary.String())
			if text == "" {
				text = strings.TrimSpace(r.Description.String())
			}
			if text != "" {
				s.Notes = append(s.Notes, Note{Heading: heading(r), Text: text})
			}
		case *fhir.Observation:
			s.Observations = append(s.Observations, observationSummary(r))
		case *fhir.MedicationDispense:
			s.Medicines = append(s.Medicines, medicineSummary(r))
		case *fhir.Condition:
			s.Conditions = append(s.Conditions, ConditionSummary{Name: conceptText(r.Code), Code: firstCoding(r.Code, snomedSystem),
				ClinicalStatus: r.ClinicalStatus.String(), Heading: heading(r)})
		}
	}
	return s
}

// pick resolves a reference to a resource of type typ, else returns the
// first such resource (the examples have one of each).
func (c *checker) pick(r *fhir.Reference, typ string) fhir.Resource {
	if t := c.resolve(r); t != nil && t.typ == typ {
		return t.res
	}
	for _, e := range c.entries() {
		if e.typ == typ {
			return e.res
		}
	}
	return nil
}

// entries are the resources of the document, then those of the message
// Bundle (the July 2023 draft put the clinical resources there).
func (c *checker) entries() []*entry {
	if len(c.outer) == 0 || c.doc == nil || c.doc.res == fhir.Resource(c.root) {
		return c.inner
	}
	return append(append([]*entry{}, c.inner...), c.outer...)
}

// role is the PractitionerRole of a Practitioner (nil when none).
type role struct{ *fhir.PractitionerRole }

func (r role) organization() *fhir.Reference {
	if r.PractitionerRole == nil {
		return nil
	}
	return r.Organization
}

func (c *checker) roleOf(p *fhir.Practitioner) role {
	if p == nil {
		return role{}
	}
	var first *fhir.PractitionerRole
	for _, e := range c.entries() {
		pr, ok := e.res.(*fhir.PractitionerRole)
		if !ok {
			continue
		}
		if t := c.resolve(pr.Practitioner); t != nil && t.res == fhir.Resource(p) {
			return role{pr}
		}
		if first == nil && pr.Practitioner == nil {
			first = pr
		}
	}
	return role{first}
}

func (c *checker) professional(p *fhir.Practitioner) Professional {
	if p == nil {
		return Professional{}
	}
	out := Professional{Name: personName(p.Name)}
	_, out.GPhCNumber = identifierValue(p.Identifier, gphcSystem)
	_, out.SDSUserID = identifierValue(p.Identifier, sdsUserSystem)
	if r := c.roleOf(p); r.PractitionerRole != nil {
		for _, cc := range r.Code {
			if cc == nil || out.Role != "" {
				continue
			}
			out.Role = conceptText(cc)
			if code := codeIn(cc, jobRoleSystem); code != "" {
				out.RoleCode = code
			} else {
				out.RoleCode = codeIn(cc, jobRoleSystemPackage)
			}
		}
	}
	return out
}
