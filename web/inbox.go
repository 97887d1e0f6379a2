package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/gpcm/gpcm/docview"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gpcm/gpcm/patient"
)

// DocumentState is where a received document stands in the practice's
// workflow.
type DocumentState string

// Document states, in the order the inbox shows them.
const (
	StateAwaitingFiling DocumentState = "awaiting-filing"
	StateUnmatched      DocumentState = "unmatched"
	StateReplaced       DocumentState = "replaced"
	StateRejected       DocumentState = "rejected"
	StateFiled          DocumentState = "filed"
)

// DocumentStates lists every state in display order.
var DocumentStates = []DocumentState{StateAwaitingFiling, StateUnmatched, StateReplaced, StateRejected, StateFiled}

// Label is the state as the inbox names it.
func (s DocumentState) Label() string {
	switch s {
	case StateAwaitingFiling:
		return "Awaiting filing"
	case StateUnmatched:
		return "Unmatched"
	case StateReplaced:
		return "Replaced"
	case StateRejected:
		return "Rejected"
	case StateFiled:
		return "Filed"
	}
	return string(s)
}

// DocumentSummary is one row of the practice inbox.
type DocumentSummary struct {
	ID          string
	PracticeODS string
	State       DocumentState
	// Type is the document type's display ("Consultation report").
	Type string
	// ForAction is true for "For Action", false for "For Information".
	ForAction  bool
	ReceivedAt time.Time
	// Patient as the document names them; NHSNumber is ten digits.
	PatientName string
	NHSNumber   string
	// Sender is the sending organisation's name (or ODS code).
	Sender string
	// Replacement marks a corrected version of an earlier document.
	Replacement bool
	// AssignedTo names the person the document is assigned to.
	AssignedTo string
	// HoldUntil is when an unmatched document is rejected automatically
	// (30002 to the sender) if no one decides before.
	HoldUntil time.Time
}

// HistoryEvent is one step of a document's history (received, InfAck sent,
// filed, …).
type HistoryEvent struct {
	At     time.Time
	Event  string
	Detail string
	By     string
}

// Document is one received document with what its view shows.
type Document struct {
	DocumentSummary
	BirthDate     time.Time
	MeshMessageID string
	MeshSubject   string
	// HasPDF is true when OpenPDF can return the attachment.
	HasPDF bool
	// RejectReason is set for rejected documents.
	RejectReason string
	// ReplacedBy is the id of the newer version of a replaced document;
	// Replaces the id of the version a replacement replaces.
	ReplacedBy string
	Replaces   string
	// AsSent is set when a person matched the document by hand to a
	// register patient: the summary then names that patient and AsSent
	// keeps the demographics the message carried.
	AsSent *PatientDetails
	// MeshFindings are the ways the message's MESH details (subject,
	// local ID, …) departed from GP Connect's conventions: the document
	// was accepted all the same.
	MeshFindings []DocumentFinding
	// Content is the structured content of the message (an Update
	// Record's consultation summary) as a person reads it; nil when the
	// document is an attachment (Send Document).
	Content *docview.View
	// History is the document's event log, oldest first: who did what
	// and when, kept across replacements.
	History []HistoryEvent
	// RejectionTold is true when rejecting the document now tells the
	// sender the reason (its business acknowledgement is still to be
	// sent); false when the sender was already told it arrived.
	RejectionTold bool
}

// DocumentFinding names a requirement a document's message broke without
// being rejected, and what was wrong.
type DocumentFinding struct {
	Requirement string
	Message     string
}

// PatientDetails are a patient's demographics as the document or the
// practice register gives them.
type PatientDetails struct {
	NHSNumber string
	// Name is "FAMILY, Given".
	Name      string
	BirthDate time.Time
}

// RegisterPatient is one patient of the practice register found by a
// search for the patient of an unmatched document.
type RegisterPatient struct {
	PatientDetails
	// Status is the register status ("Registered", "Left the practice",
	// "Deceased").
	Status string
	// Matchable is false when a document cannot be matched to the patient
	// (left the practice, died long ago); Reason says why. When true, Reason
	// says what the sender is told.
	Matchable bool
	Reason    string
}

// PatientQuery searches the register: by NHSNumber, or by Family and
// BirthDate.
type PatientQuery struct {
	NHSNumber string
	Family    string
	BirthDate time.Time
}

// RegisterSearch is the optional extra of an Inbox, found by type
// assertion, behind the manual match of an unmatched document: staff find
// the patient on the practice register, compare, and confirm with Match.
type RegisterSearch interface {
	// FindPatients searches the practice's register (at most 50 rows).
	FindPatients(ctx context.Context, practiceODS string, q PatientQuery) ([]RegisterPatient, error)
}

// DocumentFilter selects inbox rows; zero fields select everything.
type DocumentFilter struct {
	State DocumentState
	// Type matches DocumentSummary.Type exactly.
	Type string
	// Action is "action", "information" or "" for both.
	Action string
	// From and To bound ReceivedAt (inclusive from, exclusive to).
	From, To time.Time
	// The patient: NHS number (ten digits), a name (family or given,
	// part of it), date of birth.
	NHSNumber string
	Name      string
	BirthDate time.Time
	// AssignedTo selects documents assigned to this person.
	AssignedTo string
	// Sort is SortOldest (the default), SortNewest or SortPatient.
	Sort   string
	Offset int
	Limit  int
}

// Inbox orders.
const (
	SortOldest  = "oldest"
	SortNewest  = "newest"
	SortPatient = "patient"
)

// DocumentPage is one page of the inbox and how many documents the filter
// selects in all.
type DocumentPage struct {
	Documents []DocumentSummary
	Total     int
}

// Inbox is what the practice inbox needs from the receiver. Every method
// takes the practice's ODS code and must only ever see that practice's
// documents: a document of another practice is ErrNotFound.
type Inbox interface {
	// ListDocuments lists one page of the practice's documents in f's
	// order, with the number f selects.
	ListDocuments(ctx context.Context, practiceODS string, f DocumentFilter) (DocumentPage, error)
	// CountDocuments counts the practice's documents by state.
	CountDocuments(ctx context.Context, practiceODS string) (map[DocumentState]int, error)
	// GetDocument returns one document (ErrNotFound if unknown or another
	// practice's).
	GetDocument(ctx context.Context, practiceODS, id string) (Document, error)
	// OpenPDF streams the document's PDF.
	OpenPDF(ctx context.Context, practiceODS, id string) (io.ReadCloser, error)
	// File marks the document filed into the patient record (ErrConflict
	// if its state does not allow it).
	File(ctx context.Context, practiceODS, id, user string) error
	// Match assigns an unmatched document to the practice's patient with
	// this NHS number, recording user as the person who did it and reason
	// (required when the demographics differ). A *RefusedError says why
	// the patient cannot be chosen.
	Match(ctx context.Context, practiceODS, id, nhsNumber, reason, user string) error
	// Reject rejects the document with a reason, sent back to the sender
	// when Document.RejectionTold.
	Reject(ctx context.Context, practiceODS, id, reason, user string) error
	// Assign assigns the document to the person named to ("" unassigns).
	Assign(ctx context.Context, practiceODS, id, to, user string) error
	// Note adds user's note to the document's history.
	Note(ctx context.Context, practiceODS, id, note, user string) error
}

type inboxData struct {
	Counts    map[DocumentState]int
	States    []DocumentState
	Filter    DocumentFilter
	FromText  string
	ToText    string
	Patient   string // the patient search as typed
	Types     []string
	Documents []DocumentSummary
	// Paging: Page of Pages (1-based), Total documents the filter selects,
	// the rows shown (First..Last), and the query of the page's links
	// without "page".
	Page, Pages, Total, First, Last int
	Query                           string
	// Filed is the number of documents a bulk filing just filed.
	Filed int
	// Bulk is true where rows can be selected and filed together.
	Bulk bool
}

// inboxPageSize is how many rows one inbox page shows.
const inboxPageSize = 50

const dateLayout = "2006-01-02"

func (s *Server) inbox() (Inbox, error) {
	if s.cfg.Inbox == nil {
		return nil, errNotFound
	}
	return s.cfg.Inbox, nil
}

// patientSearch reads the inbox's one patient box: ten digits are an NHS
// number, a date (2006-01-02 or 2/1/2006) a date of birth, anything else
// part of a name.
func patientSearch(f *DocumentFilter, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	if n, err := patient.ParseNHSNumber(text, true); err == nil {
		f.NHSNumber = n
		return nil
	}
	for _, layout := range []string{dateLayout, "2/1/2006"} {
		if t, err := time.Parse(layout, text); err == nil {
			f.BirthDate = t
			return nil
		}
	}
	if strings.IndexFunc(text, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0 {
		return badRequest("Search by a 10-digit NHS number, a name, or a date of birth such as 1980-03-27")
	}
	f.Name = text
	return nil
}

func (s *Server) getInbox(w http.ResponseWriter, r *http.Request) error {
	ib, err := s.inbox()
	if err != nil {
		return err
	}
	u := userFrom(r.Context())
	q := r.URL.Query()
	f := DocumentFilter{State: DocumentState(q.Get("state")), Type: q.Get("type"), Action: q.Get("action"), Sort: q.Get("sort"),
		AssignedTo: strings.TrimSpace(q.Get("assigned")), Limit: inboxPageSize}
	if f.State == "" {
		f.State = StateAwaitingFiling
	}
	if f.State.Label() == string(f.State) && f.State != "all" {
		return badRequest("Choose a document state from the list")
	}
	if f.State == "all" {
		f.State = ""
	}
	if f.Action != "" && f.Action != "action" && f.Action != "information" {
		return badRequest("Choose For Action or For Information")
	}
	switch f.Sort {
	case "":
		// Worklists oldest first: the most overdue on top.
		f.Sort = SortOldest
		if f.State != StateAwaitingFiling && f.State != StateUnmatched {
			f.Sort = SortNewest
		}
	case SortOldest, SortNewest, SortPatient:
	default:
		return badRequest("Choose an order from the list")
	}
	d := inboxData{States: DocumentStates, FromText: q.Get("from"), ToText: q.Get("to"), Patient: q.Get("patient"), Page: 1,
		Bulk: f.State == StateAwaitingFiling}
	if err := patientSearch(&f, d.Patient); err != nil {
		return err
	}
	if d.FromText != "" {
		if f.From, err = time.ParseInLocation(dateLayout, d.FromText, time.Local); err != nil {
			return badRequest("Enter the from date as a date, for example 2026-03-27")
		}
	}
	if d.ToText != "" {
		t, err := time.ParseInLocation(dateLayout, d.ToText, time.Local)
		if err != nil {
			return badRequest("Enter the to date as a date, for example 2026-03-27")
		}
		f.To = t.AddDate(0, 0, 1)
	}
	if v := q.Get("page"); v != "" {
		if d.Page, err = strconv.Atoi(v); err != nil || d.Page < 1 || d.Page > 1_000_000 {
			return badRequest("Choose a page number from the list")
		}
	}
	if n, err := strconv.Atoi(q.Get("filed")); err == nil && n > 0 {
		d.Filed = n
	}
	f.Offset = (d.Page - 1) * inboxPageSize
	d.Filter = f
	if d.Counts, err = ib.CountDocuments(r.Context(), u.ODS); err != nil {
		return fmt.Errorf("counting documents: %w", err)
	}
	page, err := ib.ListDocuments(r.Context(), u.ODS, f)
	if err != nil {
		return fmt.Errorf("listing documents: %w", err)
	}
	for _, doc := range page.Documents {
		if doc.PracticeODS != u.ODS { // defence in depth: never show another practice's row
			return fmt.Errorf("inbox returned a document of another practice")
		}
	}
	d.Documents, d.Total = page.Documents, page.Total
	d.Pages = max(1, (d.Total+inboxPageSize-1)/inboxPageSize)
	if len(d.Documents) > 0 {
		d.First, d.Last = f.Offset+1, f.Offset+len(d.Documents)
	}
	links := url.Values{}
	for _, k := range []string{"state", "type", "action", "from", "to", "patient", "sort", "assigned"} {
		if v := q.Get(k); v != "" {
			links.Set(k, v)
		}
	}
	if links.Get("state") == "" {
		links.Set("state", string(StateAwaitingFiling))
	}
	d.Query = links.Encode()
	d.Types = documentTypes(page.Documents, f.Type)
	p := s.newPage(r, "Inbox")
	p.Events = "/events"
	p.Data = d
	return s.render(w, r, http.StatusOK, "inbox", p)
}

// maxBulkFile bounds one bulk filing (one inbox page).
const maxBulkFile = inboxPageSize

// postBulkFile files the documents selected on the inbox page, each
// recorded as filed by the user. Documents no longer awaiting filing
// (someone else filed them) are skipped.
func (s *Server) postBulkFile(w http.ResponseWriter, r *http.Request) error {
	ib, err := s.inbox()
	if err != nil {
		return err
	}
	u := userFrom(r.Context())
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read")
	}
	ids := r.PostForm["id"]
	if len(ids) == 0 {
		return badRequest("Select the documents to file")
	}
	if len(ids) > maxBulkFile {
		return badRequest(fmt.Sprintf("Select at most %d documents at a time", maxBulkFile))
	}
	filed := 0
	for _, id := range ids {
		err := ib.File(r.Context(), u.ODS, id, u.Username)
		switch {
		case err == nil:
			filed++
		case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound):
		default:
			return fmt.Errorf("filing document: %w", err)
		}
	}
	back := url.Values{"state": {string(StateAwaitingFiling)}, "filed": {strconv.Itoa(filed)}}
	http.Redirect(w, r, "/inbox?"+back.Encode(), http.StatusSeeOther)
	return nil
}

func documentTypes(docs []DocumentSummary, current string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range append([]string{"Consultation report"}, current) {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, d := range docs {
		if d.Type != "" && !seen[d.Type] {
			seen[d.Type] = true
			out = append(out, d.Type)
		}
	}
	return out
}

func (s *Server) document(r *http.Request) (Inbox, *User, Document, error) {
	ib, err := s.inbox()
	if err != nil {
		return nil, nil, Document{}, err
	}
	u := userFrom(r.Context())
	doc, err := ib.GetDocument(r.Context(), u.ODS, r.PathValue("id"))
	if err != nil {
		return nil, nil, Document{}, fmt.Errorf("document: %w", err)
	}
	if doc.PracticeODS != u.ODS {
		return nil, nil, Document{}, errNotFound
	}
	return ib, u, doc, nil
}

type documentData struct {
	Doc Document
	// Search is true when the inbox can search the register (RegisterSearch):
	// an unmatched document then offers the search, else a plain NHS number
	// form that matches directly.
	Search   bool
	Error    string
	ErrorFor string
	Value    string
	Message  string
}

// documentDone are the success banners after an action (?done=…); any
// other value shows none, so a link cannot put its own words in the banner.
var documentDone = map[string]string{
	"filed":    "Document filed",
	"matched":  "Document matched",
	"rejected": "Document rejected",
	"assigned": "Assignment saved",
	"noted":    "Note added",
}

func (s *Server) getDocument(w http.ResponseWriter, r *http.Request) error {
	_, _, doc, err := s.document(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, doc.Type)
	_, search := s.cfg.Inbox.(RegisterSearch)
	p.Data = documentData{Doc: doc, Message: documentDone[r.URL.Query().Get("done")], Search: search}
	return s.render(w, r, http.StatusOK, "document", p)
}

func (s *Server) getDocumentPDF(w http.ResponseWriter, r *http.Request) error {
	ib, u, doc, err := s.document(r)
	if err != nil {
		return err
	}
	if !doc.HasPDF {
		return errNotFound
	}
	rc, err := ib.OpenPDF(r.Context(), u.ODS, doc.ID)
	if err != nil {
		return fmt.Errorf("opening pdf: %w", err)
	}
	defer rc.Close()
	// The type is ours, not the sender's: application/pdf only for bytes
	// that start as a PDF does, shown inline only in our own frame;
	// anything else, and every download, is an attachment.
	head := make([]byte, len(pdfMagic))
	n, _ := io.ReadFull(rc, head)
	head = head[:n]
	h := w.Header()
	switch {
	case string(head) != pdfMagic:
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="document.bin"`)
	case r.URL.Query().Has("download"):
		h.Set("Content-Type", "application/pdf")
		h.Set("Content-Disposition", `attachment; filename="document.pdf"`)
	default:
		h.Set("Content-Type", "application/pdf")
		h.Set("Content-Disposition", `inline; filename="document.pdf"`)
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'self'")
		h.Set("X-Frame-Options", "SAMEORIGIN")
	}
	if _, err := io.Copy(w, io.MultiReader(bytes.NewReader(head), rc)); err != nil {
		s.log.DebugContext(r.Context(), "streaming pdf", "err", err)
	}
	return nil
}

// pdfMagic starts every PDF file.
const pdfMagic = "%PDF-"

func (s *Server) documentAction(w http.ResponseWriter, r *http.Request, done string, act func(Inbox, *User, Document) (field, msg string, err error)) error {
	ib, u, doc, err := s.document(r)
	if err != nil {
		return err
	}
	field, msg, err := act(ib, u, doc)
	if err != nil {
		return err
	}
	if msg != "" {
		p := s.newPage(r, "Error: "+doc.Type)
		_, search := s.cfg.Inbox.(RegisterSearch)
		p.Data = documentData{Doc: doc, Error: msg, ErrorFor: field, Value: r.PostFormValue(field), Search: search}
		return s.render(w, r, http.StatusUnprocessableEntity, "document", p)
	}
	http.Redirect(w, r, "/inbox/"+doc.ID+"?done="+done, http.StatusSeeOther)
	return nil
}

func (s *Server) postFile(w http.ResponseWriter, r *http.Request) error {
	return s.documentAction(w, r, "filed", func(ib Inbox, u *User, doc Document) (string, string, error) {
		return "", "", ib.File(r.Context(), u.ODS, doc.ID, u.Username)
	})
}

func (s *Server) postMatch(w http.ResponseWriter, r *http.Request) error {
	if _, _, doc, err := s.document(r); err == nil && doc.State == StateUnmatched {
		if shown, err := s.confirmNeedsReason(w, r, doc); shown || err != nil {
			return err
		}
	}
	return s.documentAction(w, r, "matched", func(ib Inbox, u *User, doc Document) (string, string, error) {
		n, err := patient.ParseNHSNumber(r.PostFormValue("nhs_number"), false)
		if err != nil {
			return "nhs_number", "Enter a valid 10-digit NHS number", nil
		}
		msg, err := matchRefusal(ib.Match(r.Context(), u.ODS, doc.ID, n, strings.TrimSpace(r.PostFormValue("reason")), u.Username))
		if msg != "" {
			return "nhs_number", msg, nil
		}
		return "", "", err
	})
}

func (s *Server) postReject(w http.ResponseWriter, r *http.Request) error {
	return s.documentAction(w, r, "rejected", func(ib Inbox, u *User, doc Document) (string, string, error) {
		reason := strings.TrimSpace(r.PostFormValue("reason"))
		if reason == "" {
			return "reason", "Enter why you are rejecting this document", nil
		}
		if len(reason) > 1000 {
			return "reason", "Reason must be 1000 characters or fewer", nil
		}
		return "", "", ib.Reject(r.Context(), u.ODS, doc.ID, reason, u.Username)
	})
}

func (s *Server) postAssign(w http.ResponseWriter, r *http.Request) error {
	return s.documentAction(w, r, "assigned", func(ib Inbox, u *User, doc Document) (string, string, error) {
		to := strings.TrimSpace(r.PostFormValue("assignee"))
		if r.PostFormValue("me") != "" {
			to = u.Username
		}
		if len(to) > 100 {
			return "assignee", "Name must be 100 characters or fewer", nil
		}
		msg, err := matchRefusal(ib.Assign(r.Context(), u.ODS, doc.ID, to, u.Username))
		if msg != "" {
			return "assignee", msg, nil
		}
		return "", "", err
	})
}

func (s *Server) postNote(w http.ResponseWriter, r *http.Request) error {
	return s.documentAction(w, r, "noted", func(ib Inbox, u *User, doc Document) (string, string, error) {
		note := strings.TrimSpace(r.PostFormValue("note"))
		if note == "" {
			return "note", "Enter the note", nil
		}
		if len([]rune(note)) > 1000 {
			return "note", "Note must be 1000 characters or fewer", nil
		}
		msg, err := matchRefusal(ib.Note(r.Context(), u.ODS, doc.ID, note, u.Username))
		if msg != "" {
			return "note", msg, nil
		}
		return "", "", err
	})
}

// getHistoryCSV exports a document's event log as CSV (RFC 4180): when
// (UTC, RFC 3339), event, who, detail.
func (s *Server) getHistoryCSV(w http.ResponseWriter, r *http.Request) error {
	_, _, doc, err := s.document(r)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="document-`+doc.ID+`-history.csv"`)
	h.Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"at", "event", "by", "detail"})
	for _, e := range doc.History {
		_ = cw.Write([]string{e.At.UTC().Format(time.RFC3339), e.Event, e.By, csvSafe(e.Detail)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a typed note as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// PrevPage and NextPage are the neighbouring page numbers (0: none).
func (d inboxData) PrevPage() int {
	if d.Page > 1 {
		return d.Page - 1
	}
	return 0
}

// NextPage is the page after this one (0: none).
func (d inboxData) NextPage() int {
	if d.Page < d.Pages {
		return d.Page + 1
	}
	return 0
}

// Filtered is true when the list is narrowed beyond its state.
func (d inboxData) Filtered() bool {
	f := d.Filter
	return f.Type != "" || f.Action != "" || d.FromText != "" || d.ToText != "" || d.Patient != "" || f.AssignedTo != ""
}

// PageURL is the inbox address of page n with the same filters.
func (d inboxData) PageURL(n int) string {
	return "/inbox?" + d.Query + "&page=" + strconv.Itoa(n)
}
