package web

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
)

// SenderOutbox adapts a sender service (one sending mailbox) to Outbox and
// ReportSender. The service serves a single organisation, Author.ODSCode:
// every other ODS code sees no transmissions and gets ErrNotFound.
type SenderOutbox struct {
	svc *sender.Service
	cfg SenderOutboxConfig
}

// SenderOutboxConfig is the sending organisation's own details, filled into
// every report sent from the form.
type SenderOutboxConfig struct {
	// Mailbox is the organisation's MESH mailbox (senddoc SenderMailbox).
	Mailbox string
	// Author is the sending organisation; its ODSCode scopes the outbox.
	Author senddoc.OrganisationInput
	// Generation is the Send Document generation (1 or 2; default 1).
	Generation int
	// RenderPDF renders a report that carries no PDF (senddoc.RenderReport).
	RenderPDF func(senddoc.Input) ([]byte, error)
	// AllowTestNHSNumbers matches the sender's setting.
	AllowTestNHSNumbers bool
}

// NewSenderOutbox returns the Outbox and ReportSender of cfg.Author backed
// by svc.
func NewSenderOutbox(svc *sender.Service, cfg SenderOutboxConfig) *SenderOutbox {
	if cfg.Generation == 0 {
		cfg.Generation = senddoc.GenerationV1
	}
	return &SenderOutbox{svc: svc, cfg: cfg}
}

var (
	_ Outbox       = (*SenderOutbox)(nil)
	_ ReportSender = (*SenderOutbox)(nil)
)

func (so *SenderOutbox) mine(senderODS string) bool {
	return senderODS != "" && senderODS == so.cfg.Author.ODSCode
}

func failedState(s sender.State) bool {
	return s == sender.StateFailed || s == sender.StateOverdue
}

func (so *SenderOutbox) view(t sender.Transmission) Transmission {
	return Transmission{
		ID: t.ID, SenderODS: so.cfg.Author.ODSCode, State: string(t.State), Failed: failedState(t.State),
		Recipient: t.To, DocumentType: documentTypeOf(t.WorkflowID), LocalID: t.LocalID,
		MeshMessageID: t.MeshMessageID, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}
}

func documentTypeOf(workflow string) string {
	if workflow == senddoc.WorkflowV1 {
		return "Consultation report"
	}
	return "Document (" + workflow + ")"
}

// ListTransmissions implements Outbox.
func (so *SenderOutbox) ListTransmissions(ctx context.Context, senderODS string, f TransmissionFilter) ([]Transmission, error) {
	if !so.mine(senderODS) {
		return nil, nil
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 200
	}
	ts, err := so.svc.Store().ListTransmissions(ctx, sender.ListParams{State: sender.State(f.State), Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("listing transmissions: %w", err)
	}
	out := make([]Transmission, 0, len(ts))
	for _, t := range ts {
		out = append(out, so.view(t))
	}
	return out, nil
}

// GetTransmission implements Outbox.
func (so *SenderOutbox) GetTransmission(ctx context.Context, senderODS, id string) (Transmission, error) {
	if !so.mine(senderODS) || id == "" {
		return Transmission{}, fmt.Errorf("transmission: %w", ErrNotFound)
	}
	t, err := so.svc.Store().GetTransmission(ctx, id)
	if err != nil {
		return Transmission{}, mapSenderErr(err)
	}
	v := so.view(t)
	evs, err := so.svc.Store().Events(ctx, id)
	if err != nil {
		return Transmission{}, mapSenderErr(err)
	}
	for _, e := range evs {
		v.Timeline = append(v.Timeline, TransmissionEvent{At: e.At, State: string(e.To), Detail: e.Note})
	}
	return v, nil
}

func mapSenderErr(err error) error {
	switch {
	case errors.Is(err, sender.ErrNotFound):
		return fmt.Errorf("transmission: %w", ErrNotFound)
	case errors.Is(err, sender.ErrInvalid):
		return fmt.Errorf("transmission: %w: %w", ErrConflict, err)
	}
	return err
}

// ListAlerts implements Outbox.
func (so *SenderOutbox) ListAlerts(ctx context.Context, senderODS string) ([]Alert, error) {
	if !so.mine(senderODS) {
		return nil, nil
	}
	as, err := so.svc.Store().ListAlerts(ctx, sender.AlertFilter{Limit: 100})
	if err != nil {
		return nil, fmt.Errorf("listing alerts: %w", err)
	}
	out := make([]Alert, 0, len(as))
	for _, a := range as {
		reason := a.Message
		if reason == "" {
			reason = string(a.Reason)
		}
		if a.Code != "" {
			reason += " (code " + a.Code + ")"
		}
		out = append(out, Alert{ID: strconv.FormatInt(a.ID, 10), TransmissionID: a.TransmissionID, RaisedAt: a.CreatedAt, Reason: reason})
	}
	return out, nil
}

// Resend implements Outbox: only a failed or overdue transmission may be
// sent again (ErrConflict otherwise).
func (so *SenderOutbox) Resend(ctx context.Context, senderODS, id, _ string) error {
	t, err := so.GetTransmission(ctx, senderODS, id)
	if err != nil {
		return err
	}
	if !t.Failed {
		return fmt.Errorf("resend of a %s transmission: %w", t.State, ErrConflict)
	}
	if _, err := so.svc.Resend(ctx, id); err != nil {
		return mapSenderErr(err)
	}
	return nil
}

// complete fills the organisation's own details into in.
func (so *SenderOutbox) complete(in senddoc.Input) senddoc.Input {
	in.SenderMailbox = so.cfg.Mailbox
	in.Author = so.cfg.Author
	if in.Generation == 0 {
		in.Generation = so.cfg.Generation
	}
	// The sender checks the input as given (senddoc.Input.Validate) before
	// building it, so the defaults Build would apply are made explicit.
	if in.UseCase == "" {
		in.UseCase = senddoc.UseCaseConsultation
	}
	if in.DocumentType == nil {
		switch in.UseCase {
		case senddoc.UseCaseConsultation:
			c := senddoc.TypeConsultationReport
			in.DocumentType = &c
		case senddoc.UseCaseOnline:
			c := senddoc.TypeOnlineConsultation
			in.DocumentType = &c
		}
	}
	if in.Title == "" {
		switch in.UseCase {
		case senddoc.UseCaseConsultation:
			in.Title = "Consultation report"
		case senddoc.UseCaseOnline:
			in.Title = "Online consultation report"
		}
	}
	return in
}

// CheckReport implements ReportSender: it builds the message and runs the
// validator on it. Bad input is a *senddoc.InputError.
func (so *SenderOutbox) CheckReport(ctx context.Context, senderODS string, in senddoc.Input) (senddoc.Report, error) {
	if !so.mine(senderODS) {
		return senddoc.Report{}, fmt.Errorf("sender: %w", ErrNotFound)
	}
	in = so.complete(in)
	// Build applies the input's defaults, then checks it (*InputError).
	b, err := senddoc.Build(in, senddoc.BuildOptions{RenderPDF: so.cfg.RenderPDF, Now: time.Now})
	if err != nil {
		return senddoc.Report{}, asInputError(err)
	}
	xml, err := b.XML()
	if err != nil {
		return senddoc.Report{}, fmt.Errorf("writing message: %w", err)
	}
	env := b.Envelope
	rep, err := senddoc.ValidateBytes(ctx, xml, senddoc.Options{
		AllowTestNHSNumbers: so.cfg.AllowTestNHSNumbers,
		Mesh:                &senddoc.MeshMetadata{Transport: "api", WorkflowID: env.WorkflowID, Subject: env.Subject, LocalID: env.LocalID, From: env.From, To: env.To},
	})
	if err != nil {
		return senddoc.Report{}, fmt.Errorf("validating message: %w", err)
	}
	return rep, nil
}

// asInputError turns an input problem into a *senddoc.InputError; other
// errors pass through.
func asInputError(err error) error {
	if ie, ok := errors.AsType[*senddoc.InputError](err); ok {
		return ie
	}
	if errors.Is(err, senddoc.ErrInput) {
		return &senddoc.InputError{Problems: []string{err.Error()}}
	}
	return err
}

// SendReport implements ReportSender: the sender validates again and
// queues the report; a refusal is a *senddoc.InputError listing why.
func (so *SenderOutbox) SendReport(ctx context.Context, senderODS string, in senddoc.Input, _ string) (string, error) {
	if !so.mine(senderODS) {
		return "", fmt.Errorf("sender: %w", ErrNotFound)
	}
	in = so.complete(in)
	t, _, err := so.svc.Submit(ctx, sender.Submission{Input: &in})
	if ie, ok := errors.AsType[*sender.InvalidError](err); ok {
		probs := append([]string(nil), ie.Problems...)
		for _, f := range ie.Findings {
			probs = append(probs, f.Message)
		}
		return "", &senddoc.InputError{Problems: probs}
	}
	if ie, ok := asInputError(err).(*senddoc.InputError); ok {
		return "", ie
	}
	if err != nil {
		return "", fmt.Errorf("submitting report: %w", err)
	}
	return t.ID, nil
}

// WatchOutbox returns a Watcher that publishes a "transmission" event on
// OutboxTopic(organisation) when a transmission or alert changes.
func (so *SenderOutbox) WatchOutbox(pub func(Event), every time.Duration) *Watcher {
	st := so.svc.Store()
	return &Watcher{pub: pub, topic: OutboxTopic(so.cfg.Author.ODSCode), name: "transmission", every: every,
		print: func(ctx context.Context) (string, error) {
			ts, err := st.ListTransmissions(ctx, sender.ListParams{Limit: 200})
			if err != nil {
				return "", err
			}
			as, err := st.ListAlerts(ctx, sender.AlertFilter{Limit: 1})
			if err != nil {
				return "", err
			}
			var b strings.Builder
			first := ""
			for i, t := range ts {
				if i == 0 {
					first = t.ID
				}
				fmt.Fprintf(&b, "%s:%s:%d;", t.ID, t.State, t.UpdatedAt.UnixNano())
			}
			for _, a := range as {
				fmt.Fprintf(&b, "a%d", a.ID)
			}
			return first + "|" + b.String(), nil
		}}
}
