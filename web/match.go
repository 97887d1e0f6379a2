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
	// Reason is the typed reason for a match whose details differ.
	Reason string
}

// Differs is true when any compared detail differs: the match then needs a
// reason.
func (d matchData) Differs() bool {
	for _, v := range d.Differ {
		if v {
			return true
		}
	}
	return false
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

// getMatch opens the register search for the patient of an unmatched
// document: it searches by the NHS number the document carries, or, with
// ?by=name, shows the empty name search. Search terms typed by a person go
// in a POST (postMatchSearch), never in the URL, so that no NHS number,
// name or date of birth lands in browser history or proxy logs.
func (s *Server) getMatch(w http.ResponseWriter, r *http.Request) error {
	rs, u, doc, ok, err := s.unmatched(w, r)
	if !ok {
		return err
	}
	d := matchData{Doc: doc}
	if r.URL.Query().Get("by") == "name" {
		d.By = "name"
	} else {
		d.NHSNumber = doc.NHSNumber
	}
	return s.renderMatch(w, r, rs, u, d)
}

// postMatchSearch searches the register with the terms of a search form:
// by=nhs and nhs_number, or by=name, family and birth_date (day, month and
// year fields; see dateValue).
func (s *Server) postMatchSearch(w http.ResponseWriter, r *http.Request) error {
	rs, u, doc, ok, err := s.unmatched(w, r)
	if !ok {
		return err
	}
	d := matchData{Doc: doc, By: r.PostFormValue("by"), NHSNumber: strings.TrimSpace(r.PostFormValue("nhs_number")),
		Family: strings.TrimSpace(r.PostFormValue("family")), BirthDate: dateValue(r, "birth_date")}
	if d.By != "name" {
		d.By = "nhs"
	}
	return s.renderMatch(w, r, rs, u, d)
}

// renderMatch checks d's terms, runs the search and renders the page.
func (s *Server) renderMatch(w http.ResponseWriter, r *http.Request, rs RegisterSearch, u *User, d matchData) error {
	var pq PatientQuery
	switch {
	case d.By == "name" && d.Family == "" && d.BirthDate == "" && r.Method == http.MethodGet:
		// The link to the name search: show its empty form.
	case d.By == "name":
		bd, perr := time.Parse(dateLayout, d.BirthDate)
		switch {
		case d.Family == "":
			d.Error, d.ErrorFor = "Enter the patient's last name", "family"
		case perr != nil:
			d.Error, d.ErrorFor = "Date of birth must be a real date, for example 27 3 1980", "birth_date"
		case bd.After(s.cfg.Now()):
			d.Error, d.ErrorFor = "Date of birth must be in the past", "birth_date"
		}
		pq.Family, pq.BirthDate = d.Family, bd
	default:
		d.By = "nhs"
		n, perr := patient.ParseNHSNumber(d.NHSNumber, false)
		if perr != nil {
			d.Error, d.ErrorFor = "Enter a 10-digit NHS number", "nhs_number"
			break
		}
		pq.NHSNumber = n
	}
	status := http.StatusOK
	if d.Error != "" {
		status = http.StatusUnprocessableEntity
	} else if pq.NHSNumber != "" || pq.Family != "" {
		var err error
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

// postMatchConfirm shows the document's and the chosen register patient's
// demographics side by side, with the button that matches them. The
// patient comes in the form body (nhs_number), not the URL.
func (s *Server) postMatchConfirm(w http.ResponseWriter, r *http.Request) error {
	rs, u, doc, ok, err := s.unmatched(w, r)
	if !ok {
		return err
	}
	d, err := s.confirmData(r, rs, u, doc)
	if err != nil {
		return err
	}
	return s.renderConfirm(w, r, http.StatusOK, d)
}

// confirmData compares the document's patient with the register patient
// the form names (nhs_number).
func (s *Server) confirmData(r *http.Request, rs RegisterSearch, u *User, doc Document) (matchData, error) {
	n, err := patient.ParseNHSNumber(r.PostFormValue("nhs_number"), false)
	if err != nil {
		return matchData{}, badRequest("Choose a patient from the register search")
	}
	found, err := rs.FindPatients(r.Context(), u.ODS, PatientQuery{NHSNumber: n})
	if err != nil {
		return matchData{}, fmt.Errorf("searching the register: %w", err)
	}
	if len(found) != 1 || found[0].NHSNumber != n {
		return matchData{}, &httpError{Status: http.StatusNotFound, Message: "That patient is not on the practice register. Search again"}
	}
	c := found[0]
	return matchData{Doc: doc, NHSNumber: n, Chosen: &c, Reason: strings.TrimSpace(r.PostFormValue("reason")), Differ: map[string]bool{
		"name":      !strings.EqualFold(strings.Join(strings.Fields(doc.PatientName), " "), strings.Join(strings.Fields(c.Name), " ")),
		"nhs":       doc.NHSNumber != c.NHSNumber,
		"birthdate": !doc.BirthDate.Equal(c.BirthDate),
	}}, nil
}

func (s *Server) renderConfirm(w http.ResponseWriter, r *http.Request, status int, d matchData) error {
	title := "Match to this patient?"
	if d.Error != "" {
		title = "Error: " + title
	}
	p := s.newPage(r, title)
	p.Data = d
	return s.render(w, r, status, "matchconfirm", p)
}

// confirmNeedsReason re-shows the confirmation page when a match of a
// patient whose details differ comes without a reason; it reports whether
// it did.
func (s *Server) confirmNeedsReason(w http.ResponseWriter, r *http.Request, doc Document) (bool, error) {
	rs, ok := s.cfg.Inbox.(RegisterSearch)
	if !ok || r.PostFormValue("confirm") == "" || strings.TrimSpace(r.PostFormValue("reason")) != "" {
		return false, nil
	}
	u := userFrom(r.Context())
	d, err := s.confirmData(r, rs, u, doc)
	if err != nil || !d.Differs() {
		return false, err
	}
	d.Error, d.ErrorFor = "Enter why you are sure this is the same patient", "reason"
	return true, s.renderConfirm(w, r, http.StatusUnprocessableEntity, d)
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
