package web

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// TransmissionEvent is one step of a transmission's timeline (queued, sent
// to MESH, delivered, InfAck, BusAck, …).
type TransmissionEvent struct {
	At     time.Time
	State  string
	Detail string
	By     string // who caused it; "" for the sender itself
}

// Transmission is one document the organisation sent (or is sending).
type Transmission struct {
	ID string
	// SenderODS is the sending organisation.
	SenderODS string
	// State is the current state ("queued", "sent", "delivered",
	// "complete", "failed", …); Failed marks states needing a person.
	State  string
	Failed bool
	// Recipient is the practice (ODS code or GPPROVIDER address).
	Recipient     string
	DocumentType  string
	LocalID       string
	MeshMessageID string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Timeline      []TransmissionEvent
	// Replacement marks a corrected version of an earlier document;
	// Replaces is the transmission it replaces, ReplacedBy the newer
	// version's transmission (GetTransmission only).
	Replacement bool
	Replaces    string
	ReplacedBy  string
	// CanReplace is true when a corrected version may be sent (the report
	// was sent, completed, or failed with a business-level negative, and no
	// newer version exists; GetTransmission only). ReplaceNote says why
	// not when the state would allow it.
	CanReplace  bool
	ReplaceNote string
	// HoldUntil is when a report waiting for its edit window goes out
	// (zero: not waiting); CanHold says whether the outbox lets a person
	// send it now or cancel it (HoldControl).
	HoldUntil time.Time
	CanHold   bool
}

// Waiting reports whether the transmission waits for its edit window.
func (t Transmission) Waiting() bool { return !t.HoldUntil.IsZero() }

// Alert is something about a transmission that needs a person.
type Alert struct {
	ID             string
	TransmissionID string
	RaisedAt       time.Time
	// Title names the kind of problem in a few words ("" shows a generic
	// one); Reason gives the details.
	Title  string
	Reason string
}

// TransmissionFilter selects transmissions; zero fields select everything.
type TransmissionFilter struct {
	State string
	Limit int
}

// Outbox is what the sender dashboard needs from the sender. Every method
// takes the sending organisation's ODS code and must only ever see that
// organisation's transmissions: another's is ErrNotFound.
type Outbox interface {
	// ListTransmissions lists transmissions, newest first.
	ListTransmissions(ctx context.Context, senderODS string, f TransmissionFilter) ([]Transmission, error)
	// GetTransmission returns one transmission with its timeline.
	GetTransmission(ctx context.Context, senderODS, id string) (Transmission, error)
	// ListAlerts lists open alerts, newest first.
	ListAlerts(ctx context.Context, senderODS string) ([]Alert, error)
	// Resend queues the transmission again (ErrConflict if its state does
	// not allow it).
	Resend(ctx context.Context, senderODS, id, user string) error
}

// HoldControl is implemented by an Outbox whose consultation reports wait
// for an edit window before they are sent (GPCM-SD-CS-075/076): a person may
// send a waiting report at once or withdraw it. ErrConflict when the report
// is no longer waiting.
type HoldControl interface {
	SendNow(ctx context.Context, senderODS, id, user string) error
	Cancel(ctx context.Context, senderODS, id, user string) error
}

type outboxData struct {
	CanSend       bool
	Alerts        []Alert
	Transmissions []Transmission
}

func (s *Server) outbox() (Outbox, error) {
	if s.cfg.Outbox == nil {
		return nil, errNotFound
	}
	return s.cfg.Outbox, nil
}

func (s *Server) getOutbox(w http.ResponseWriter, r *http.Request) error {
	ob, err := s.outbox()
	if err != nil {
		return err
	}
	u := userFrom(r.Context())
	var d outboxData
	_, d.CanSend = ob.(ReportSender)
	if d.Alerts, err = ob.ListAlerts(r.Context(), u.ODS); err != nil {
		return fmt.Errorf("listing alerts: %w", err)
	}
	if d.Transmissions, err = ob.ListTransmissions(r.Context(), u.ODS, TransmissionFilter{Limit: 200}); err != nil {
		return fmt.Errorf("listing transmissions: %w", err)
	}
	_, canHold := ob.(HoldControl)
	for i, t := range d.Transmissions {
		if t.SenderODS != u.ODS {
			return fmt.Errorf("outbox returned a transmission of another organisation")
		}
		d.Transmissions[i].CanHold = canHold && t.Waiting()
	}
	p := s.newPage(r, "Transmissions")
	p.Events = "/events"
	p.Data = d
	return s.render(w, r, http.StatusOK, "outbox", p)
}

type transmissionData struct {
	T       Transmission
	Message string
}

func (s *Server) transmission(r *http.Request) (Outbox, *User, Transmission, error) {
	ob, err := s.outbox()
	if err != nil {
		return nil, nil, Transmission{}, err
	}
	u := userFrom(r.Context())
	t, err := ob.GetTransmission(r.Context(), u.ODS, r.PathValue("id"))
	if err != nil {
		return nil, nil, Transmission{}, fmt.Errorf("transmission: %w", err)
	}
	if t.SenderODS != u.ODS {
		return nil, nil, Transmission{}, errNotFound
	}
	_, canHold := ob.(HoldControl)
	t.CanHold = canHold && t.Waiting()
	return ob, u, t, nil
}

// doneMessages are the success banners after an action (?done=…).
var doneMessages = map[string]string{
	"queued":      "Report queued for sending",
	"resent":      "Report queued to be sent again",
	"replacement": "Corrected version queued for sending",
	"sent-now":    "Report released: it is sent now",
	"cancelled":   "Report cancelled: it will not be sent",
}

func (s *Server) getTransmission(w http.ResponseWriter, r *http.Request) error {
	_, _, t, err := s.transmission(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, "Transmission "+t.ID)
	p.Events = "/events"
	p.Data = transmissionData{T: t, Message: doneMessages[r.URL.Query().Get("done")]}
	return s.render(w, r, http.StatusOK, "transmission", p)
}

func (s *Server) postResend(w http.ResponseWriter, r *http.Request) error {
	ob, u, t, err := s.transmission(r)
	if err != nil {
		return err
	}
	if err := ob.Resend(r.Context(), u.ODS, t.ID, u.Username); err != nil {
		return fmt.Errorf("resend: %w", err)
	}
	http.Redirect(w, r, "/outbox/"+t.ID+"?done=resent", http.StatusSeeOther)
	return nil
}

// postHold sends a waiting report now or cancels it (HoldControl).
func (s *Server) postHold(cancel bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		ob, u, t, err := s.transmission(r)
		if err != nil {
			return err
		}
		hc, ok := ob.(HoldControl)
		if !ok {
			return errNotFound
		}
		act, done := hc.SendNow, "sent-now"
		if cancel {
			act, done = hc.Cancel, "cancelled"
		}
		if err := act(r.Context(), u.ODS, t.ID, u.Username); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		http.Redirect(w, r, "/outbox/"+t.ID+"?done="+done, http.StatusSeeOther)
		return nil
	}
}
