package report

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gpcm/gpcm/patient"
)

// Consultation is everything the consultation report shows. Strings are
// printed as given (control characters removed); empty optional fields hide
// their label, as the layout asks.
type Consultation struct {
	// Version is the document version: 1 for the first report of a
	// consultation, +1 for each resend (GPCM-SD-CS-006, GPCM-SD-CS-007).
	Version int
	// RelatedDocuments is the number of attachments linked to the
	// consultation, printed in the information bar.
	RelatedDocuments int
	// Confidential marks the whole consultation confidential
	// (Composition.confidentiality R): clinician, organisation telephone
	// and email, branch location, organisation, summary reason, clinical
	// notes and follow-up actions are withheld (layout §5.3).
	Confidential bool
	// Created is when the report was produced; it becomes the PDF's
	// creation and modification date. Zero means ConsultationDate (and, if
	// that is zero too, 2000-01-01 UTC), so the same input always gives the
	// same bytes.
	Created time.Time

	Patient      Patient
	Clinician    Clinician
	Organisation Organisation
	// BranchLocation is where the consultation took place when that is a
	// branch of the organisation; empty hides the label.
	BranchLocation string
	// ConsultationDate is when the consultation took place (Encounter
	// period start), printed dd-Mmm-yyyy hh:mm in the time's own location:
	// pass UK local time.
	ConsultationDate time.Time
	// ReceivingPractice is the name of the patient's registered GP practice.
	ReceivingPractice string
	// Sections are the clinical notes, printed in order after the fixed
	// summary reason.
	Sections []Section
	// FollowUpActions, if not empty, is printed as the last notes item.
	FollowUpActions string
}

// Patient is the subject of the report.
type Patient struct {
	Title  string   // Mr, Mrs, Dr …; printed in brackets after the name
	Family string   // printed in upper case
	Given  []string // forenames in order
	// NHSNumber is ten digits, printed "### ### ####". The check digit is
	// not verified here.
	NHSNumber string
	BirthDate patient.Date
	// Gender is a FHIR administrative gender code (male, female, other,
	// unknown) or a label; empty hides it.
	Gender string
	// Address lines of the home/registered address, postcode last.
	Address []string
	Phone   string // home telephone
	Mobile  string
	// CurrentAddress and CurrentPhone are shown only when the patient is at
	// a temporary location.
	CurrentAddress []string
	CurrentPhone   string
}

// Clinician is the person who carried out the consultation.
type Clinician struct {
	Name string // full name, e.g. "Dr Gary Pritchard"
	Role string // e.g. "General Practitioner"
}

// Organisation is the consulting organisation.
type Organisation struct {
	Name    string
	ODSCode string // printed after the name in brackets when set
	Address []string
	Phone   string // main telephone number
	Email   string // main email address
}

// Section is one clinical notes item: a bold title and its notes.
type Section struct {
	Title string
	// Text is free text; line breaks are kept and long lines wrap.
	Text string
	// Items are printed one per line with a bullet, after Text.
	Items []Item
}

// Item is one entry of a section (a coded observation, a medication …).
type Item struct {
	Text string
	// Confidential replaces the text with "Confidential item".
	Confidential bool
}

// Fixed texts of the layout.
const (
	// SummaryReason is the hard-coded first notes item (GPCM-SD-CS-016).
	SummaryReason = "A patient recently consulted with a clinician at an organisation different to the GP practice that they are registered with. The notes contained in this document are a summary of the consultation."
	// ConfidentialNotes replaces the notes of a confidential consultation.
	ConfidentialNotes = "The details of this consultation have been set as confidential"
	// ConfidentialItem replaces each confidential item.
	ConfidentialItem = "Confidential item"
)

// PageSize is the paper size of the report.
type PageSize int

const (
	// A4 is the default: UK practices print on A4.
	A4 PageSize = iota
	// Letter is the size of the official layout file (an Excel export).
	Letter
)

// MaxPages bounds the length of a report; longer input is refused.
const MaxPages = 500

// ErrInvalid is matched by every *FieldError.
var ErrInvalid = errors.New("invalid consultation report")

// FieldError says which field of a Consultation cannot be rendered. It holds
// the field name only, never its value.
type FieldError struct {
	Field   string // Go path, e.g. "Patient.NHSNumber"
	Problem string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("consultation report: %s %s", e.Field, e.Problem)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// ErrTooLong is returned when a report would need more than MaxPages pages.
var ErrTooLong = fmt.Errorf("consultation report: more than %d pages", MaxPages)

// ErrRender is returned when the PDF library fails on input it does not
// support. It indicates a bug in this package: please report it.
var ErrRender = errors.New("consultation report: rendering failed")

// Renderer renders consultation reports. The zero value renders A4.
type Renderer struct {
	PageSize PageSize
}

// Render writes c as a PDF to w using an A4 Renderer.
func Render(w io.Writer, c *Consultation) error {
	return Renderer{}.Render(w, c)
}

// Render writes c as a PDF to w. The output depends only on c and r: the
// same input gives the same bytes.
func (r Renderer) Render(w io.Writer, c *Consultation) (err error) {
	// The PDF library panics on some inputs it does not support; cleanText
	// removes the known ones, and this turns any other into an error
	// rather than a crashed sender.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: the PDF library failed: %v", ErrRender, p)
		}
	}()
	if err := c.validate(); err != nil {
		return err
	}
	d, err := newDocument(r.PageSize, c)
	if err != nil {
		return err
	}
	return d.render(w)
}

func (c *Consultation) validate() error {
	switch {
	case c == nil:
		return &FieldError{Field: "Consultation", Problem: "is nil"}
	case c.Version < 1:
		return &FieldError{Field: "Version", Problem: "must be 1 or more"}
	case c.RelatedDocuments < 0:
		return &FieldError{Field: "RelatedDocuments", Problem: "must not be negative"}
	case clean(c.Patient.Family) == "" && clean(joinNonEmpty(" ", c.Patient.Given...)) == "":
		return &FieldError{Field: "Patient.Family", Problem: "and Patient.Given are both empty"}
	case clean(c.Patient.NHSNumber) == "":
		return &FieldError{Field: "Patient.NHSNumber", Problem: "is empty"}
	}
	return nil
}
