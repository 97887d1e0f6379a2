package web

import (
	"bytes"
	"context"
	"fmt"
	"github.com/gpcm/gpcm/docview"
	"io"
	"net/http"
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
	History []HistoryEvent
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
	Limit    int
}

// Inbox is what the practice inbox needs from the receiver. Every method
// takes the practice's ODS code and must only ever see that practice's
// documents: a document of another practice is ErrNotFound.
type Inbox interface {
	// ListDocuments lists the practice's documents, newest first.
	ListDocuments(ctx context.Context, practiceODS string, f DocumentFilter) ([]DocumentSummary, error)
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
	// this NHS number, recording user as the person who did it. A
	// *RefusedError says why the patient cannot be chosen.
	Match(ctx context.Context, practiceODS, id, nhsNumber, user string) error
	// Reject rejects the document with a reason sent back to the sender.
	Reject(ctx context.Context, practiceODS, id, reason, user string) error
}

type inboxData struct {
	Counts    map[DocumentState]int
	States    []DocumentState
	Filter    DocumentFilter
	FromText  string
	ToText    string
	Types     []string
	Documents []DocumentSummary
}

const dateLayout = "2006-01-02"

func (s *Server) inbox() (Inbox, error) {
	if s.cfg.Inbox == nil {
		return nil, errNotFound
	}
	return s.cfg.Inbox, nil
}

func (s *Server) getInbox(w http.ResponseWriter, r *http.Request) error {
	ib, err := s.inbox()
	if err != nil {
		return err
	}
	u := userFrom(r.Context())
	q := r.URL.Query()
	f := DocumentFilter{State: DocumentState(q.Get("state")), Type: q.Get("type"), Action: q.Get("action"), Limit: 200}
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
	d := inboxData{States: DocumentStates, FromText: q.Get("from"), ToText: q.Get("to")}
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
	d.Filter = f
	if d.Counts, err = ib.CountDocuments(r.Context(), u.ODS); err != nil {
		return fmt.Errorf("counting documents: %w", err)
	}
	docs, err := ib.ListDocuments(r.Context(), u.ODS, f)
	if err != nil {
		return fmt.Errorf("listing documents: %w", err)
	}
	for _, doc := range docs {
		if doc.PracticeODS != u.ODS { // defence in depth: never show another practice's row
			return fmt.Errorf("inbox returned a document of another practice")
		}
	}
	d.Documents = docs
	d.Types = documentTypes(docs, f.Type)
	p := s.newPage(r, "Inbox")
	p.Events = "/events"
	p.Data = d
	return s.render(w, r, http.StatusOK, "inbox", p)
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
	return s.documentAction(w, r, "matched", func(ib Inbox, u *User, doc Document) (string, string, error) {
		n, err := patient.ParseNHSNumber(r.PostFormValue("nhs_number"), false)
		if err != nil {
			return "nhs_number", "Enter a valid 10-digit NHS number", nil
		}
		msg, err := matchRefusal(ib.Match(r.Context(), u.ODS, doc.ID, n, u.Username))
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
