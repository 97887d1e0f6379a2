package senddoc

import (
	"bytes"
	"strings"
	"time"

	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/report"
)

// RenderReport renders the consultation report PDF of in, in the NHS layout,
// with package report. Pass it as [BuildOptions.RenderPDF] to render the
// document of an input that carries no PDF of its own.
func RenderReport(in Input) ([]byte, error) {
	c := &report.Consultation{
		Version:          in.Version,
		RelatedDocuments: len(in.Attachments),
		Confidential:     in.Confidential,
		Created:          in.Created,
		BranchLocation:   in.Encounter.Location,
		ConsultationDate: ukTime(in.Encounter.Start),
		FollowUpActions:  in.FollowUp,
		Organisation: report.Organisation{Name: in.Author.Name, ODSCode: in.Author.ODSCode,
			Address: addressLines(in.Author.Address), Phone: in.Author.Phone, Email: in.Author.Email},
	}
	if c.Created.IsZero() {
		c.Created = in.Encounter.Start
	}
	if rp := in.RegisteredPractice; rp != nil {
		c.ReceivingPractice = rp.Name
	}
	p := in.Patient
	c.Patient = report.Patient{Title: p.Prefix, Family: p.Family, Given: p.Given, NHSNumber: p.NHSNumber, Gender: p.Gender,
		Address: addressLines(p.Address), Phone: p.Phone, Mobile: p.Mobile}
	if d, err := patient.ParseDateFormat(p.BirthDate, patient.DateISO); err == nil {
		c.Patient.BirthDate = d
	}
	if pr := in.Practitioner; pr != nil {
		name := append([]string{pr.Prefix}, pr.Given...)
		name = append(name, pr.Family)
		c.Clinician = report.Clinician{Name: strings.Join(strings.Fields(strings.Join(name, " ")), " "), Role: pr.Role}
	}
	for _, s := range in.Sections {
		sec := report.Section{Title: s.Title, Text: s.Text}
		if s.Confidential {
			sec = report.Section{Title: s.Title, Items: []report.Item{{Text: s.Text, Confidential: true}}}
		}
		c.Sections = append(c.Sections, sec)
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// addressLines flattens an address into the lines the PDF prints.
func addressLines(a *Address) []string {
	if a == nil {
		return nil
	}
	out := append([]string(nil), a.Lines...)
	if a.City != "" {
		out = append(out, a.City)
	}
	if a.Postcode != "" {
		out = append(out, a.Postcode)
	}
	return out
}

// ukTime shows a time in UK local time when the zone database is available.
func ukTime(t time.Time) time.Time {
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		return t.In(loc)
	}
	return t
}
