package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gpcm/gpcm/senddoc"
)

// ReportReplacer is the optional extra of an Outbox that is also a
// ReportSender, found by type assertion, behind "Send a corrected version"
// on a transmission's page.
type ReportReplacer interface {
	// OriginalReport returns the report transmission id sent, as the
	// starting point of its corrected version: Replaces and Version already
	// name the new version. ErrConflict when it cannot be replaced.
	OriginalReport(ctx context.Context, senderODS, id string) (senddoc.Input, error)
	// ReplaceReport sends in as the corrected version of transmission id's
	// document and returns the new transmission's id. A refusal is a
	// *ReportRefusedError or a *senddoc.InputError listing why.
	ReplaceReport(ctx context.Context, senderODS, id string, in senddoc.Input, user string) (string, error)
}

func (s *Server) reportReplacer() (ReportReplacer, error) {
	rr, ok := s.cfg.Outbox.(ReportReplacer)
	if !ok {
		return nil, errNotFound
	}
	return rr, nil
}

// replaceable loads the transmission of a replace page and the report it
// sent.
func (s *Server) replaceable(r *http.Request) (ReportReplacer, *User, Transmission, senddoc.Input, error) {
	rr, err := s.reportReplacer()
	if err != nil {
		return nil, nil, Transmission{}, senddoc.Input{}, err
	}
	_, u, t, err := s.transmission(r)
	if err != nil {
		return nil, nil, Transmission{}, senddoc.Input{}, err
	}
	if !t.CanReplace {
		return nil, nil, Transmission{}, senddoc.Input{}, &httpError{Status: http.StatusConflict,
			Message: "A corrected version of this report cannot be sent: " + replaceNote(t)}
	}
	orig, err := rr.OriginalReport(r.Context(), u.ODS, t.ID)
	if err != nil {
		return nil, nil, Transmission{}, senddoc.Input{}, fmt.Errorf("reading the original report: %w", err)
	}
	return rr, u, t, orig, nil
}

func replaceNote(t Transmission) string {
	switch {
	case t.ReplacedBy != "":
		return "a newer version was already sent; correct that one instead"
	case t.ReplaceNote != "":
		return t.ReplaceNote
	}
	return "only a report that was sent, completed, or refused by the practice can be corrected"
}

// formOf fills the send form from a report input.
func formOf(in senddoc.Input) sendForm {
	f := sendForm{
		NHSNumber: in.Patient.NHSNumber, Given: strings.Join(in.Patient.Given, " "), Family: in.Patient.Family,
		BirthDate: in.Patient.BirthDate, Gender: in.Patient.Gender,
		EncounterID: in.Encounter.ID, Location: in.Encounter.Location, Action: in.RecipientType,
	}
	if f.Action == "" {
		f.Action = "FA"
	}
	if rp := in.RegisteredPractice; rp != nil {
		f.PracticeODS, f.PracticeName = rp.ODSCode, rp.Name
	}
	if !in.Encounter.Start.IsZero() {
		f.EncounterStart = in.Encounter.Start.Local().Format("2006-01-02T15:04")
	}
	if pr := in.Practitioner; pr != nil {
		f.SDSUserID, f.PracGiven, f.PracFamily, f.PracRole = pr.SDSUserID, strings.Join(pr.Given, " "), pr.Family, pr.Role
	}
	var other []string
	for _, sec := range in.Sections {
		switch sec.Title {
		case "Reason for contact":
			f.Reason = sec.Text
		case "Consultation":
			f.Notes = sec.Text
		case "Plan":
			f.Plan = sec.Text
		default:
			other = append(other, sec.Title+":\n"+sec.Text)
		}
	}
	if len(other) > 0 {
		f.Notes = strings.TrimSpace(strings.Join(append(other, f.Notes), "\n\n"))
	}
	return f
}

// corrected applies the form's input onto the original report: what the
// form does not show (addresses, attachments, document type, the
// encounter's identity) is kept, and the result names the version it
// replaces.
func corrected(orig, in senddoc.Input) senddoc.Input {
	out := orig
	pat := in.Patient
	pat.Prefix, pat.Address, pat.Phone, pat.Mobile = orig.Patient.Prefix, orig.Patient.Address, orig.Patient.Phone, orig.Patient.Mobile
	out.Patient = pat
	if in.Practitioner != nil {
		pr := *in.Practitioner
		if orig.Practitioner != nil {
			pr.Prefix, pr.Phone = orig.Practitioner.Prefix, orig.Practitioner.Phone
		}
		out.Practitioner = &pr
	}
	out.RegisteredPractice = in.RegisteredPractice
	if in.RegisteredPractice != nil && orig.RegisteredPractice != nil && in.RegisteredPractice.ODSCode == orig.RegisteredPractice.ODSCode {
		rp := *orig.RegisteredPractice
		rp.Name = in.RegisteredPractice.Name
		out.RegisteredPractice = &rp
	}
	out.RecipientType = in.RecipientType
	// The encounter keeps its identifier: it is the sender reference every
	// version of the report shares.
	out.Encounter.Start, out.Encounter.Location = in.Encounter.Start, in.Encounter.Location
	out.Sections = in.Sections
	out.PDF = in.PDF
	out.Created = time.Time{}
	return out
}

type replaceData struct {
	T Transmission
	sendData
	// OriginalPDF is true when the original report carried its own PDF,
	// which is sent again unless a new one is uploaded.
	OriginalPDF bool
	// FromNotes is the choice to draw the report from the notes instead.
	FromNotes bool
}

func (s *Server) getReplace(w http.ResponseWriter, r *http.Request) error {
	_, _, t, orig, err := s.replaceable(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, "Send a corrected version")
	p.Data = replaceData{T: t, sendData: sendData{Form: formOf(orig), FixedEncounter: true}, OriginalPDF: len(orig.PDF) > 0}
	return s.render(w, r, http.StatusOK, "replace", p)
}

func (s *Server) postReplace(w http.ResponseWriter, r *http.Request) error {
	rr, u, t, orig, err := s.replaceable(r)
	if err != nil {
		return err
	}
	f := readSendForm(r)
	f.EncounterID = orig.Encounter.ID
	in, problems := f.input()
	pdf, name, pdfProblem, err := readPDF(r)
	if err != nil {
		return err
	}
	switch {
	case pdfProblem != "":
		problems = append(problems, formProblem{"pdf", pdfProblem})
	case pdf != nil:
		in.PDF, f.PDFName = pdf, name
	case r.PostFormValue("pdf_choice") != "notes":
		in.PDF = orig.PDF // the original PDF again (nil: drawn from the notes)
	}
	d := replaceData{T: t, sendData: sendData{Form: f, Problems: problems, FixedEncounter: true}, OriginalPDF: len(orig.PDF) > 0,
		FromNotes: r.PostFormValue("pdf_choice") == "notes"}
	if len(problems) == 0 {
		in = corrected(orig, in)
		id, err := d.send(func() (string, error) {
			id, err := rr.ReplaceReport(r.Context(), u.ODS, t.ID, in, u.Username)
			if err != nil {
				return "", fmt.Errorf("sending the corrected version: %w", err)
			}
			return id, nil
		})
		if err != nil {
			return err
		}
		if id != "" {
			http.Redirect(w, r, "/outbox/"+url.PathEscape(id)+"?done=replacement", http.StatusSeeOther)
			return nil
		}
	}
	p := s.newPage(r, "Error: Send a corrected version")
	p.Data = d
	return s.render(w, r, http.StatusUnprocessableEntity, "replace", p)
}
