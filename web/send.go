package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gpcm/gpcm/internal/uuid"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/senddoc"
)

// ReportSender is the optional extra of an Outbox, found by type assertion,
// behind the "Send a consultation report" form. SendReport completes in
// with the organisation's own details (sender mailbox, author
// organisation, generation), then builds, validates and queues it, once.
// A refusal is a *ReportRefusedError (the validator found errors: the form
// shows its report) or a *senddoc.InputError (or an error wrapping
// senddoc.ErrInput), shown to the user as a list of problems.
type ReportSender interface {
	// SendReport builds in and queues it for sending; it returns the new
	// transmission's id. key (may be "") is the form's idempotency token:
	// a second call with the same key sends nothing and returns the id
	// the first one did.
	SendReport(ctx context.Context, senderODS string, in senddoc.Input, user, key string) (string, error)
}

// ReportRefusedError refuses a report the validator found errors in; the
// report lists them.
type ReportRefusedError struct {
	Report senddoc.Report
}

func (e *ReportRefusedError) Error() string {
	return fmt.Sprintf("report refused: the validator found %d errors", e.Report.Errors())
}

// sendForm is the form's values, echoed back when something is wrong.
type sendForm struct {
	NHSNumber, Given, Family, BirthDate, Gender string
	PracticeODS, PracticeName                   string
	EncounterID, EncounterStart, Location       string
	SDSUserID, PracGiven, PracFamily, PracRole  string
	Action                                      string
	Reason, Notes, Plan                         string
	PDFName                                     string
	// Token identifies one filling-in of the form (its idempotency key):
	// sent again, by the back button or a second click, it sends nothing
	// more and shows the first transmission.
	Token string
}

type sendData struct {
	Form     sendForm
	Problems []formProblem
	Checked  bool
	Report   senddoc.Report
	// FixedEncounter shows the consultation reference without an input (a
	// corrected version keeps the original's).
	FixedEncounter bool
}

// formProblem is one entry of the error summary: a message and the id of
// the field it is about.
type formProblem struct {
	Field, Message string
}

func (s *Server) reportSender() (ReportSender, error) {
	rs, ok := s.cfg.Outbox.(ReportSender)
	if !ok {
		return nil, errNotFound
	}
	return rs, nil
}

func (s *Server) getSend(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.reportSender(); err != nil {
		return err
	}
	p := s.newPage(r, "Send a consultation report")
	p.Data = sendData{Form: sendForm{Action: "FA", Token: uuid.New()}}
	return s.render(w, r, http.StatusOK, "send", p)
}

const pdfNotPDF = "The selected file must be a PDF"

func (s *Server) postSend(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.reportSender()
	if err != nil {
		return err
	}
	u := userFrom(r.Context())
	f := readSendForm(r)
	in, problems := f.input()
	pdf, name, pdfProblem, err := readPDF(r)
	if err != nil {
		return err
	}
	if pdfProblem != "" {
		problems = append(problems, formProblem{"pdf", pdfProblem})
	} else if pdf != nil {
		in.PDF, f.PDFName = pdf, name
	}
	d := sendData{Form: f, Problems: problems}
	if len(problems) == 0 {
		id, err := d.send(func() (string, error) {
			id, err := rs.SendReport(r.Context(), u.ODS, in, u.Username, f.Token)
			if err != nil {
				return "", fmt.Errorf("sending report: %w", err)
			}
			return id, nil
		})
		if err != nil {
			return err
		}
		if id != "" {
			http.Redirect(w, r, "/outbox/"+id+"?done=queued", http.StatusSeeOther)
			return nil
		}
	}
	p := s.newPage(r, "Error: Send a consultation report")
	p.Data = d
	return s.render(w, r, http.StatusUnprocessableEntity, "send", p)
}

// send calls send and returns the new transmission's id. A refusal (the
// validator's report, or input problems) is put into d for the form to
// show again (id ""); other errors are returned.
func (d *sendData) send(send func() (string, error)) (string, error) {
	id, err := send()
	if err == nil {
		return id, nil
	}
	if re, ok := errors.AsType[*ReportRefusedError](err); ok {
		d.Checked, d.Report = true, re.Report
		return "", nil
	}
	if ie, ok := errors.AsType[*senddoc.InputError](err); ok {
		for _, pr := range ie.Problems {
			d.Problems = append(d.Problems, formProblem{inputField(pr.Field), pr.Message})
		}
		return "", nil
	}
	if errors.Is(err, senddoc.ErrInput) {
		d.Problems = append(d.Problems, formProblem{inputField(""), err.Error()})
		return "", nil
	}
	return "", err
}

// readSendForm reads the send form's fields.
func readSendForm(r *http.Request) sendForm {
	f := sendForm{}
	for dst, name := range map[*string]string{
		&f.NHSNumber: "nhs_number", &f.Given: "given", &f.Family: "family", &f.BirthDate: "birth_date", &f.Gender: "gender",
		&f.PracticeODS: "practice_ods", &f.PracticeName: "practice_name",
		&f.EncounterID: "encounter_id", &f.EncounterStart: "encounter_start", &f.Location: "location",
		&f.SDSUserID: "sds_user_id", &f.PracGiven: "practitioner_given", &f.PracFamily: "practitioner_family", &f.PracRole: "practitioner_role",
		&f.Action: "recipient_type", &f.Reason: "reason", &f.Notes: "notes", &f.Plan: "plan",
	} {
		*dst = strings.TrimSpace(r.PostFormValue(name))
	}
	if tok := r.PostFormValue("form_token"); tokenRE.MatchString(tok) {
		f.Token = tok
	}
	return f
}

// tokenRE is the form of a form token (a random UUID); anything else is
// ignored.
var tokenRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// readPDF reads the optional PDF upload: nil when none was chosen, a
// problem for the user when it is not a PDF, an error when the upload
// cannot be read.
func readPDF(r *http.Request) (pdf []byte, name, problem string, err error) {
	file, fh, ferr := r.FormFile("pdf")
	if ferr != nil {
		if errors.Is(ferr, http.ErrMissingFile) || errors.Is(ferr, http.ErrNotMultipart) {
			return nil, "", "", nil
		}
		return nil, "", "", badRequest("The uploaded PDF could not be read. Try again")
	}
	defer file.Close()
	b, rerr := io.ReadAll(file)
	switch {
	case rerr != nil:
		return nil, "", "", badRequest("The uploaded PDF could not be read. Try again")
	case len(b) == 0:
		return nil, "", "", nil
	case !bytes.HasPrefix(b, []byte("%PDF-")):
		return nil, "", pdfNotPDF, nil
	}
	return b, fh.Filename, "", nil
}

// input turns the form into a senddoc.Input and lists what the user must
// fix; the back end fills the sender's own details.
func (f *sendForm) input() (senddoc.Input, []formProblem) {
	var probs []formProblem
	add := func(field, msg string) { probs = append(probs, formProblem{field, msg}) }
	in := senddoc.Input{UseCase: senddoc.UseCaseConsultation, RecipientType: f.Action, Version: 1}
	nhs, err := patient.ParseNHSNumber(f.NHSNumber, true)
	if err != nil {
		add("nhs_number", "Enter a valid 10-digit NHS number")
	}
	if f.Given == "" {
		add("given", "Enter the patient's first name")
	}
	if f.Family == "" {
		add("family", "Enter the patient's last name")
	}
	if bd, err := time.Parse("2006-01-02", f.BirthDate); err != nil || bd.After(time.Now()) {
		add("birth_date", "Enter the patient's date of birth, for example 1980-03-27")
	}
	in.Patient = senddoc.PatientInput{NHSNumber: nhs, Given: strings.Fields(f.Given), Family: f.Family, BirthDate: f.BirthDate, Gender: f.Gender}
	if f.PracticeODS != "" {
		f.PracticeODS = strings.ToUpper(f.PracticeODS)
		in.RegisteredPractice = &senddoc.OrganisationInput{ODSCode: f.PracticeODS, Name: f.PracticeName}
	}
	start, err := time.ParseInLocation("2006-01-02T15:04", f.EncounterStart, time.Local)
	if err != nil {
		add("encounter_start", "Enter when the consultation started, for example 2026-03-27T14:30")
	}
	if f.EncounterID == "" {
		f.EncounterID = itk3.NewUUID()
	}
	in.Encounter = senddoc.EncounterInput{ID: f.EncounterID, Start: start, Location: f.Location}
	if f.SDSUserID == "" {
		add("sds_user_id", "Enter the clinician's SDS user ID")
	}
	if f.PracFamily == "" {
		add("practitioner_family", "Enter the clinician's last name")
	}
	in.Practitioner = &senddoc.PractitionerInput{SDSUserID: f.SDSUserID, Given: strings.Fields(f.PracGiven), Family: f.PracFamily, Role: f.PracRole}
	if f.Action != "FA" && f.Action != "FI" {
		add("recipient_type_fa", "Choose For Action or For Information")
	}
	for _, sec := range []struct{ title, text string }{{"Reason for contact", f.Reason}, {"Consultation", f.Notes}, {"Plan", f.Plan}} {
		if sec.text != "" {
			in.Sections = append(in.Sections, senddoc.Section{Title: sec.title, Text: sec.text})
		}
	}
	if len(in.Sections) == 0 {
		add("notes", "Enter the consultation notes")
	}
	return in, probs
}

// inputFields maps senddoc input fields to the form's field ids, so the
// error summary can link to the field a problem is about.
var inputFields = map[string]string{
	"patient.nhsNumber": "nhs_number", "patient.family": "family", "patient.given": "given",
	"patient.birthDate": "birth_date", "patient.gender": "gender",
	"practitioner": "sds_user_id", "practitioner.sdsUserId": "sds_user_id", "practitioner.family": "practitioner_family",
	"registeredPractice.odsCode": "practice_ods", "encounter.id": "encounter_id",
	"encounter.start": "encounter_start", "encounter.end": "encounter_start",
	"recipientType": "recipient_type_fa", "sections": "notes", "pdf": "pdf",
}

// inputField is the form field a problem with the senddoc input field is
// about; problems about the sender's own details, or the report as a whole,
// link to the first field.
func inputField(field string) string {
	if id, ok := inputFields[field]; ok {
		return id
	}
	if strings.HasPrefix(field, "sections[") {
		return "notes"
	}
	return "nhs_number"
}

// ErrorFor is the problem with a field ("" if none), for the template.
func (d sendData) ErrorFor(field string) string {
	for _, p := range d.Problems {
		if p.Field == field {
			return p.Message
		}
	}
	return ""
}
