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
	_ Outbox         = (*SenderOutbox)(nil)
	_ ReportSender   = (*SenderOutbox)(nil)
	_ ReportReplacer = (*SenderOutbox)(nil)
	_ HoldControl    = (*SenderOutbox)(nil)
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
		Replacement: t.ReplacesID != "", Replaces: t.ReplacesID, HoldUntil: waitingUntil(t),
	}
}

// waitingUntil is when a report waiting for its edit window goes out: zero
// unless it is queued, no attempt has started and the window is still open.
func waitingUntil(t sender.Transmission) time.Time {
	if t.State != sender.StateQueued || t.Attempts > 0 || t.AttemptFile != "" || !t.HoldUntil.After(time.Now()) {
		return time.Time{}
	}
	return t.HoldUntil
}

// SendNow implements HoldControl.
func (so *SenderOutbox) SendNow(ctx context.Context, senderODS, id, user string) error {
	return so.hold(ctx, senderODS, id, user, so.svc.SendNow)
}

// Cancel implements HoldControl.
func (so *SenderOutbox) Cancel(ctx context.Context, senderODS, id, user string) error {
	return so.hold(ctx, senderODS, id, user, so.svc.Cancel)
}

func (so *SenderOutbox) hold(ctx context.Context, senderODS, id, user string, act func(context.Context, string, string) (sender.Transmission, error)) error {
	if _, err := so.GetTransmission(ctx, senderODS, id); err != nil {
		return err
	}
	if _, err := act(ctx, id, user); err != nil {
		if errors.Is(err, sender.ErrConflict) {
			return fmt.Errorf("the report is no longer waiting to be sent: %w", ErrConflict)
		}
		return mapSenderErr(err)
	}
	return nil
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
	ts, err := so.svc.List(ctx, sender.ListParams{State: sender.State(f.State), Limit: limit})
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
	d, err := so.svc.Detail(ctx, id)
	if err != nil {
		return Transmission{}, mapSenderErr(err)
	}
	t := d.Transmission
	v := so.view(t)
	v.ReplacedBy = d.ReplacedBy
	v.CanReplace = d.CanReplace && t.Source == sender.SourceInput
	if d.CanReplace && t.Source != sender.SourceInput {
		v.ReplaceNote = "it was submitted as a ready-made message, so there is no form to correct; submit the corrected message through the API"
	}
	for _, e := range d.Events {
		v.Timeline = append(v.Timeline, TransmissionEvent{At: e.At, State: string(e.To), Detail: e.Note, By: e.Actor})
	}
	return v, nil
}

func mapSenderErr(err error) error {
	switch {
	case errors.Is(err, sender.ErrNotFound):
		return fmt.Errorf("transmission: %w", ErrNotFound)
	case errors.Is(err, sender.ErrInvalid), errors.Is(err, sender.ErrConflict):
		return fmt.Errorf("transmission: %w: %w", ErrConflict, err)
	}
	return err
}

// ListAlerts implements Outbox.
func (so *SenderOutbox) ListAlerts(ctx context.Context, senderODS string) ([]Alert, error) {
	if !so.mine(senderODS) {
		return nil, nil
	}
	as, err := so.svc.Alerts(ctx, sender.AlertFilter{Limit: 100})
	if err != nil {
		return nil, fmt.Errorf("listing alerts: %w", err)
	}
	out := make([]Alert, 0, len(as))
	for _, a := range as {
		// The page names the transmission once, beside the alert.
		reason := strings.TrimPrefix(a.Message, "Transmission "+a.TransmissionID+": ")
		if reason == "" {
			reason = string(a.Reason)
		}
		if reason != "" {
			reason = strings.ToUpper(reason[:1]) + reason[1:]
		}
		if a.Code != "" && !strings.Contains(reason, a.Code) {
			reason += " (code " + a.Code + ")"
		}
		out = append(out, Alert{ID: strconv.FormatInt(a.ID, 10), TransmissionID: a.TransmissionID, RaisedAt: a.CreatedAt,
			Title: alertTitles[a.Reason], Reason: reason})
	}
	return out, nil
}

// alertTitles name each kind of alert in a few words.
var alertTitles = map[sender.Reason]string{
	sender.ReasonNegativeInfAck:  "The practice's system refused the report",
	sender.ReasonNegativeBusAck:  "The practice could not file the report",
	sender.ReasonNoInfAck:        "No acknowledgement from the practice's system",
	sender.ReasonNoBusAck:        "No acknowledgement from the practice",
	sender.ReasonRouting:         "MESH could not route the report",
	sender.ReasonUndeliverable:   "MESH could not deliver the report",
	sender.ReasonMeshReport:      "MESH reported an error",
	sender.ReasonRejected:        "MESH refused the report",
	sender.ReasonUnmatched:       "A response matched no report",
	sender.ReasonReplacementVoid: "The replacement and the original are void",
	sender.ReasonSendLate:        "The report went after its 3-hour send window",
}

// Resend implements Outbox: only a failed or overdue transmission may be
// sent again (ErrConflict otherwise).
func (so *SenderOutbox) Resend(ctx context.Context, senderODS, id, user string) error {
	if _, err := so.GetTransmission(ctx, senderODS, id); err != nil {
		return err
	}
	if _, err := so.svc.Resend(ctx, id, user); err != nil {
		return mapSenderErr(err)
	}
	return nil
}

// complete fills the organisation's own details into in; the sender
// applies the other defaults.
func (so *SenderOutbox) complete(in senddoc.Input) senddoc.Input {
	in.SenderMailbox = so.cfg.Mailbox
	in.Author = so.cfg.Author
	if in.Generation == 0 {
		in.Generation = so.cfg.Generation
	}
	return in
}

// refusal is the sender's refusal as the form shows it: the validator's
// report when it found errors, else the input problems and the findings
// that refused the message.
func refusal(ie *sender.InvalidError) error {
	if ie.Report != nil && ie.Report.Errors() > 0 {
		return &ReportRefusedError{Report: *ie.Report}
	}
	probs := append([]senddoc.Problem(nil), ie.Problems...)
	for _, f := range ie.Findings {
		probs = append(probs, senddoc.Problem{Message: f.Message})
	}
	return &senddoc.InputError{Problems: probs}
}

// SendReport implements ReportSender: the sender builds, validates and
// queues the report once; a refusal is a *ReportRefusedError or a
// *senddoc.InputError listing why. The form's key is the submission's
// idempotency key: the same form sent again returns the first
// transmission.
func (so *SenderOutbox) SendReport(ctx context.Context, senderODS string, in senddoc.Input, user, key string) (string, error) {
	if !so.mine(senderODS) {
		return "", fmt.Errorf("sender: %w", ErrNotFound)
	}
	in = so.complete(in)
	sub := sender.Submission{Input: &in, By: user}
	if key != "" {
		sub.Key = "web:" + senderODS + ":" + key
	}
	t, _, err := so.svc.Submit(ctx, sub)
	if err != nil {
		return "", submitError(err)
	}
	return t.ID, nil
}

// submitError maps a refused submission or replacement to what the form
// shows.
func submitError(err error) error {
	if se, ok := errors.AsType[*sender.StaleError](err); ok {
		return &senddoc.InputError{Problems: []senddoc.Problem{{Message: fmt.Sprintf("a newer version (%d) of this consultation's report is already in the outbox (transmission %s); only the latest version is sent, so this one was not queued", se.Newer.Version, se.Newer.ID)}}}
	}
	if ie, ok := errors.AsType[*sender.InvalidError](err); ok {
		return refusal(ie)
	}
	if nr, ok := errors.AsType[*sender.NotReplaceableError](err); ok {
		return fmt.Errorf("%s: %w", nr.Why, ErrConflict)
	}
	return fmt.Errorf("submitting report: %w", mapSenderErr(err))
}

// OriginalReport implements ReportReplacer: the input the transmission was
// built from, naming the version that replaces it.
func (so *SenderOutbox) OriginalReport(ctx context.Context, senderODS, id string) (senddoc.Input, error) {
	if _, err := so.GetTransmission(ctx, senderODS, id); err != nil {
		return senddoc.Input{}, err
	}
	in, err := so.svc.ReplacementDraft(ctx, id)
	if nr, ok := errors.AsType[*sender.NotReplaceableError](err); ok {
		return senddoc.Input{}, fmt.Errorf("%s: %w", nr.Why, ErrConflict)
	}
	if err != nil {
		return senddoc.Input{}, mapSenderErr(err)
	}
	return in, nil
}

// ReplaceReport implements ReportReplacer with sender.Service.Replace.
func (so *SenderOutbox) ReplaceReport(ctx context.Context, senderODS, id string, in senddoc.Input, user string) (string, error) {
	if _, err := so.GetTransmission(ctx, senderODS, id); err != nil {
		return "", err
	}
	in = so.complete(in)
	t, err := so.svc.Replace(ctx, id, in, user)
	if err != nil {
		return "", submitError(err)
	}
	return t.ID, nil
}

// WatchOutbox returns a Watcher that publishes a "transmission" event on
// OutboxTopic(organisation) when a transmission or alert changes.
func (so *SenderOutbox) WatchOutbox(pub func(Event), every time.Duration) *Watcher {
	return &Watcher{pub: pub, topic: OutboxTopic(so.cfg.Author.ODSCode), name: "transmission", every: every,
		print: func(ctx context.Context) (string, error) {
			ts, err := so.svc.List(ctx, sender.ListParams{Limit: 200})
			if err != nil {
				return "", err
			}
			as, err := so.svc.Alerts(ctx, sender.AlertFilter{Limit: 1})
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
