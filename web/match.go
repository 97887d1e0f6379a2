package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gpcm/gpcm/patient"
)

// matchData is the manual-match search page and its confirmation page.
type matchData struct {
	Doc Document
	// Search terms as typed.
	NHSNumber, Family, BirthDate string
	// By is "nhs" or "name": which search ran.
	By       string
	Searched bool
	Results  []RegisterPatient
	Error    string
	ErrorFor string
	// Chosen is the register patient on the confirmation page; Differ
	// names the rows whose values differ.
	Chosen *RegisterPatient
	Differ map[string]bool
}

func (s *Server) registerSearch() (RegisterSearch, error) {
	rs, ok := s.cfg.Inbox.(RegisterSearch)
	if !ok {
		return nil, errNotFound
	}
	return rs, nil
}

// unmatched loads the document of a manual-match page; one that is no
// longer unmatched sends the user back to it.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) (RegisterSearch, *User, Document, bool, error) {
	rs, err := s.registerSearch()
	if err != nil {
		return nil, nil, Document{}, false, err
	}
	_, u, doc, err := s.document(r)
	if err != nil {
		return nil, nil, Document{}, false, err
	}
	if doc.State != StateUnmatched {
		http.Redirect(w, r, "/inbox/"+url.PathEscape(doc.ID), http.StatusSeeOther)
		return nil, nil, Document{}, false, nil
	}
	return rs, u, doc, true, nil
}

// getMatch searches the register for the patient of an unmatched document:
// ?nhs_number=…, or ?family=…&birth_date=YYYY-MM-DD.
func (s *Server) getMatch(w http.ResponseWriter, r *http.Request) error {
	rs, u, doc, ok, err := s.unmatched(w, r)
	if !ok {
		return err
	}
	q := r.URL.Query()
	d := matchData{Doc: doc, NHSNumber: strings.TrimSpace(q.Get("nhs_number")), Family: strings.TrimSpace(q.Get("family")),
		BirthDate: strings.TrimSpace(q.Get("birth_date")), By: q.Get("by")}
	if d.By == "" && d.NHSNumber == "" && d.Family == "" && d.BirthDate == "" {
		d.NHSNumber = doc.NHSNumber // start from the number the document carries
	}
	var pq PatientQuery
	switch {
	case d.By == "nhs" || (d.By == "" && d.NHSNumber != ""):
		d.By = "nhs"
		n, perr := patient.ParseNHSNumber(d.NHSNumber, false)
		if perr != nil {
			d.Error, d.ErrorFor = "Enter a 10-digit NHS number", "nhs_number"
			break
		}
		pq.NHSNumber = n
	case d.By == "name" && !q.Has("family") && !q.Has("birth_date"):
		// The link to the name search: show its empty form.
	case d.By == "name" || d.Family != "" || d.BirthDate != "":
		d.By = "name"
		bd, perr := time.Parse(dateLayout, d.BirthDate)
		switch {
		case d.Family == "":
			d.Error, d.ErrorFor = "Enter the patient's last name", "family"
		case perr != nil:
			d.Error, d.ErrorFor = "Enter the date of birth as a date, for example 1980-03-27", "birth_date"
		}
		pq.Family, pq.BirthDate = d.Family, bd
	}
	status := http.StatusOK
	if d.Error != "" {
		status = http.StatusUnprocessableEntity
	} else if d.By != "" && (pq.NHSNumber != "" || pq.Family != "") {
		if d.Results, err = rs.FindPatients(r.Context(), u.ODS, pq); err != nil {
			return fmt.Errorf("searching the register: %w", err)
		}
		d.Searched = true
	}
	title := "Find the patient"
	if d.Error != "" {
		title = "Error: " + title
	}
	p := s.newPage(r, title)
	p.Data = d
	return s.render(w, r, status, "match", p)
}

// getMatchConfirm shows the document's and the chosen register patient's
// demographics side by side, with the button that matches them.
func (s *Server) getMatchConfirm(w http.ResponseWriter, r *http.Request) error {
	rs, u, doc, ok, err := s.unmatched(w, r)
	if !ok {
		return err
	}
	n, err := patient.ParseNHSNumber(r.URL.Query().Get("nhs_number"), false)
	if err != nil {
		return badRequest("Choose a patient from the register search")
	}
	found, err := rs.FindPatients(r.Context(), u.ODS, PatientQuery{NHSNumber: n})
	if err != nil {
		return fmt.Errorf("searching the register: %w", err)
	}
	if len(found) != 1 || found[0].NHSNumber != n {
		return &httpError{Status: http.StatusNotFound, Message: "That patient is not on the practice register. Search again"}
	}
	c := found[0]
	d := matchData{Doc: doc, NHSNumber: n, Chosen: &c, Differ: map[string]bool{
		"name":      !strings.EqualFold(strings.Join(strings.Fields(doc.PatientName), " "), strings.Join(strings.Fields(c.Name), " ")),
		"nhs":       doc.NHSNumber != c.NHSNumber,
		"birthdate": !doc.BirthDate.Equal(c.BirthDate),
	}}
	p := s.newPage(r, "Match to this patient?")
	p.Data = d
	return s.render(w, r, http.StatusOK, "matchconfirm", p)
}

// matchRefusal turns a back end's refusal into the message shown on the
// page; other errors pass through.
func matchRefusal(err error) (string, error) {
	if re, ok := errors.AsType[*RefusedError](err); ok {
		return re.Reason, nil
	}
	return "", err
}

// FieldError is the error shown at a search field ("" if none).
func (d matchData) FieldError(field string) string {
	if d.ErrorFor == field {
		return d.Error
	}
	return ""
}

// NHSValue is the NHS number search field's value.
func (d matchData) NHSValue() string {
	if d.By == "nhs" {
		return d.NHSNumber
	}
	return ""
}
