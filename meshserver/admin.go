package meshserver

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gpcm/gpcm/authlimit"
)

// adminRoutes installs the test/admin API with handle when an admin token
// is set. Every route needs "Authorization: Bearer {AdminToken}".
func (s *Server) adminRoutes(handle func(pattern string, h http.HandlerFunc)) {
	if s.cfg.AdminToken == "" {
		return
	}
	a := func(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
		handle(pattern, func(w http.ResponseWriter, r *http.Request) {
			if s.throttled(w, r, 2, "") {
				return
			}
			tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.AdminToken)) != 1 {
				s.metrics.authFailure()
				s.limiter.Fail("", authlimit.Address(r.RemoteAddr))
				s.authFailures.add(AuthFailure{At: s.now(), Reason: "admin API: wrong or missing admin token", RemoteAddr: r.RemoteAddr})
				s.writeError(w, r, 2, errf(http.StatusUnauthorized, "", "", "admin token required"))
				return
			}
			if err := h(w, r); err != nil {
				s.writeError(w, r, 2, err)
			}
		})
	}
	a("GET /admin/mailboxes", s.adminListMailboxes)
	a("PUT /admin/mailboxes/{id}", s.adminPutMailbox)
	a("POST /admin/mailboxes/{id}/disable", s.adminSetActive(false))
	a("POST /admin/mailboxes/{id}/enable", s.adminSetActive(true))
	a("POST /admin/reports", s.adminReport)
	a("DELETE /admin/reset", s.adminReset)
	a("DELETE /admin/reset/{mailbox}", s.adminReset)
	a("GET /admin/messages", s.adminMessages)
	a("POST /admin/time", s.adminTime)
	a("POST /admin/expire", s.adminExpire)
	a("PUT /admin/patients/{nhs}", s.adminPutPatient)
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errf(http.StatusBadRequest, "", "", "request body: %v", err)
	}
	return nil
}

// MailboxJSON is a mailbox as the config file and admin API spell it.
type MailboxJSON struct {
	ID        string   `json:"id"`
	Password  string   `json:"password"`
	ODSCode   string   `json:"ods_code,omitempty"`
	Name      string   `json:"name,omitempty"`
	Workflows []string `json:"workflows,omitempty"`
	// Active defaults to true when absent.
	Active *bool `json:"active,omitempty"`
}

// Mailbox converts to the store's type; id is upper-cased.
func (j MailboxJSON) Mailbox() Mailbox {
	active := j.Active == nil || *j.Active
	return Mailbox{ID: strings.ToUpper(strings.TrimSpace(j.ID)), Password: j.Password, ODSCode: j.ODSCode, Name: j.Name, Active: active, Workflows: j.Workflows}
}

func (s *Server) adminListMailboxes(w http.ResponseWriter, r *http.Request) error {
	mbs, err := s.store.ListMailboxes(r.Context(), r.URL.Query().Get("ods_code"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(mbs))
	for i, mb := range mbs {
		out[i] = map[string]any{"id": mb.ID, "ods_code": mb.ODSCode, "name": mb.Name, "active": mb.Active, "workflows": mb.Workflows}
	}
	writeJSON(w, 2, http.StatusOK, map[string]any{"mailboxes": out})
	return nil
}

func (s *Server) adminPutMailbox(w http.ResponseWriter, r *http.Request) error {
	var j MailboxJSON
	if err := decodeBody(r, &j); err != nil {
		return err
	}
	j.ID = r.PathValue("id")
	mb := j.Mailbox()
	if err := ValidateMailbox(mb); err != nil {
		return errf(http.StatusBadRequest, "", "", "%v", err)
	}
	if err := s.store.PutMailbox(r.Context(), mb); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ValidateMailbox checks a mailbox before it is stored.
func ValidateMailbox(mb Mailbox) error {
	if !validID(mb.ID) || len(mb.ID) > 20 {
		return fmt.Errorf("mailbox id %q must be 1 to 20 letters, digits, '-' or '_'", mb.ID)
	}
	if mb.Password == "" {
		return fmt.Errorf("mailbox %s: password is required", mb.ID)
	}
	for _, wf := range mb.Workflows {
		if strings.TrimSpace(wf) == "" || len(wf) > 300 {
			return fmt.Errorf("mailbox %s: workflow id %q is empty or longer than 300 characters", mb.ID, wf)
		}
	}
	return nil
}

func (s *Server) adminSetActive(active bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := s.store.SetMailboxActive(r.Context(), strings.ToUpper(r.PathValue("id")), active)
		if errors.Is(err, ErrNotFound) {
			return errf(http.StatusNotFound, "", "", "no mailbox %s", strings.ToUpper(r.PathValue("id")))
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// ReportParams describe a REPORT injected by the admin API.
type ReportParams struct {
	MailboxID       string `json:"mailbox_id"`
	Code            string `json:"code"`
	Event           string `json:"event,omitempty"`
	Description     string `json:"description"`
	WorkflowID      string `json:"workflow_id"`
	Subject         string `json:"subject,omitempty"`
	LocalID         string `json:"local_id,omitempty"`
	FileName        string `json:"file_name,omitempty"`
	LinkedMessageID string `json:"linked_message_id,omitempty"`
}

// InjectReport puts a REPORT in a mailbox's inbox, as if MESH had raised it.
func (s *Server) InjectReport(ctx context.Context, p ReportParams) (Message, error) {
	mbID := strings.ToUpper(p.MailboxID)
	if _, err := s.store.GetMailbox(ctx, mbID); err != nil {
		return Message{}, err
	}
	if p.Event == "" {
		p.Event = "SEND"
	}
	orig := Message{ID: strings.ToUpper(p.LinkedMessageID), Sender: mbID, WorkflowID: p.WorkflowID, Subject: p.Subject, LocalID: p.LocalID, FileName: p.FileName}
	rep := s.report(orig, p.Code, p.Event, p.Description, s.now())
	return rep, s.store.CreateMessage(ctx, rep, nil)
}

func (s *Server) adminReport(w http.ResponseWriter, r *http.Request) error {
	var p ReportParams
	if err := decodeBody(r, &p); err != nil {
		return err
	}
	if p.MailboxID == "" || p.Code == "" {
		return errf(http.StatusBadRequest, "", "", "mailbox_id and code are required")
	}
	rep, err := s.InjectReport(r.Context(), p)
	if errors.Is(err, ErrNotFound) {
		return errf(http.StatusNotFound, "", "", "no mailbox %s", strings.ToUpper(p.MailboxID))
	}
	if err != nil {
		return err
	}
	writeJSON(w, 2, http.StatusCreated, map[string]string{"message_id": rep.ID})
	return nil
}

// Reset deletes every message of a mailbox (sent or received), or of all
// mailboxes when mailbox is empty, with their payloads.
func (s *Server) Reset(ctx context.Context, mailbox string) (int, error) {
	d, err := s.store.DeleteMessages(ctx, strings.ToUpper(mailbox))
	if err != nil {
		return 0, err
	}
	return len(d.IDs), s.deleteBlobs(ctx, d.BlobKeys)
}

func (s *Server) adminReset(w http.ResponseWriter, r *http.Request) error {
	mb := r.PathValue("mailbox")
	if mb != "" {
		if _, err := s.store.GetMailbox(r.Context(), strings.ToUpper(mb)); errors.Is(err, ErrNotFound) {
			return errf(http.StatusNotFound, "", "", "no mailbox %s", strings.ToUpper(mb))
		}
	}
	n, err := s.Reset(r.Context(), mb)
	if err != nil {
		return err
	}
	writeJSON(w, 2, http.StatusOK, map[string]int{"deleted": n})
	return nil
}

func (s *Server) adminMessages(w http.ResponseWriter, r *http.Request) error {
	mb := strings.ToUpper(r.URL.Query().Get("mailbox"))
	var msgs []Message
	if mb == "" {
		var err error
		if msgs, err = s.store.ListMessages(r.Context(), ListMessagesParams{Limit: 1000}); err != nil {
			return err
		}
	} else {
		for _, p := range []ListMessagesParams{{Recipient: mb, Limit: 1000}, {Sender: mb, Limit: 1000}} {
			got, err := s.store.ListMessages(r.Context(), p)
			if err != nil {
				return err
			}
			msgs = append(msgs, got...)
		}
	}
	out := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		out[i] = map[string]any{
			"message_id": m.ID, "message_type": m.MessageType, "sender": m.Sender, "recipient": m.Recipient,
			"workflow_id": m.WorkflowID, "local_id": m.LocalID, "status": m.Status, "status_code": m.StatusCode,
			"linked_message_id": m.LinkedMsgID, "total_chunks": m.TotalChunks, "size": m.Size,
			"created": isoOrNil(m.CreatedAt), "expires": isoOrNil(m.ExpiresAt),
		}
	}
	writeJSON(w, 2, http.StatusOK, map[string]any{"messages": out})
	return nil
}

// AdvanceClock moves the server's lifecycle clock forward by d (time
// travel for expiry tests) and returns the new time. Authentication keeps
// using the real clock.
func (s *Server) AdvanceClock(d time.Duration) time.Time {
	s.offset.Add(int64(d))
	return s.now()
}

// Now returns the server's lifecycle clock.
func (s *Server) Now() time.Time { return s.now() }

func (s *Server) adminTime(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Advance string `json:"advance"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	d, err := time.ParseDuration(body.Advance)
	if err != nil || d < 0 {
		return errf(http.StatusBadRequest, "", "", "advance must be a non-negative Go duration such as \"120h\"")
	}
	now := s.AdvanceClock(d)
	n, err := s.ExpireNow(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, 2, http.StatusOK, map[string]any{"now": now.Format(time.RFC3339), "expired": n})
	return nil
}

func (s *Server) adminExpire(w http.ResponseWriter, r *http.Request) error {
	n, err := s.ExpireNow(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, 2, http.StatusOK, map[string]int{"expired": n})
	return nil
}

// PatientJSON is a patient register row as the config file and admin API spell it.
type PatientJSON struct {
	NHSNumber   string `json:"nhs_number"`
	BirthDate   string `json:"birth_date"`
	Surname     string `json:"surname"`
	PracticeODS string `json:"ods_code"`
}

// Patient validates and converts to the store's type (birth date to YYYYMMDD).
func (j PatientJSON) Patient() (Patient, error) {
	if !ValidNHSNumber(j.NHSNumber) {
		return Patient{}, errors.New("nhs_number must be 10 digits with a valid check digit")
	}
	dob, ok := NormaliseBirthDate(j.BirthDate)
	if !ok {
		return Patient{}, errors.New("birth_date must be YYYYMMDD or DDMMYYYY")
	}
	if strings.TrimSpace(j.Surname) == "" || strings.TrimSpace(j.PracticeODS) == "" {
		return Patient{}, errors.New("surname and ods_code are required")
	}
	return Patient{NHSNumber: j.NHSNumber, BirthDate: dob, Surname: strings.TrimSpace(j.Surname), PracticeODS: strings.TrimSpace(j.PracticeODS)}, nil
}

func (s *Server) adminPutPatient(w http.ResponseWriter, r *http.Request) error {
	var j PatientJSON
	if err := decodeBody(r, &j); err != nil {
		return err
	}
	j.NHSNumber = r.PathValue("nhs")
	p, err := j.Patient()
	if err != nil {
		return errf(http.StatusBadRequest, "", "", "%v", err)
	}
	if err := s.store.PutPatient(r.Context(), p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
