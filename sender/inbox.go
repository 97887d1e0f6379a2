package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/senddoc"
)

// Bounds of an ITK3 response. A real one is a few kilobytes (a
// MessageHeader and an OperationOutcome, depth about 10, under 200
// elements); these keep a broken or hostile one cheap to refuse.
const (
	maxResponseBytes    = 10 << 20
	maxResponseDepth    = 64
	maxResponseElements = 50_000
)

// AckWorkflows are the workflows of the ITK3 responses the sender reads:
// to Send Document v1 and v2, and to Update Record. A message of any other
// workflow in the mailbox (another product's, or a receiver's sharing the
// mailbox) is never downloaded or acknowledged by the sender.
var AckWorkflows = []string{senddoc.WorkflowV1Ack, senddoc.WorkflowV2Ack, "GPCONNECT_UPDATE_RECORD_ACK"}

// inboxFilters list the inbox once per acknowledgement workflow and the
// workflow it answers: "GPFED_CONSULT_REPORT*" is the responses and the
// REPORTs about reports the sender sent (a REPORT carries the workflow of
// the message it is about). Other workflows are not even listed.
func inboxFilters() []string {
	fs := make([]string, len(AckWorkflows))
	for i, wf := range AckWorkflows {
		fs[i] = strings.TrimSuffix(wf, "_ACK") + "*"
	}
	return fs
}

func isAckWorkflow(wf string) bool {
	for _, a := range AckWorkflows {
		if strings.EqualFold(wf, a) {
			return true
		}
	}
	return false
}

// inboxState remembers the messages a poll found to be someone else's
// (DATA of a sent workflow, for a receiver sharing the mailbox), so that
// later polls cost no request for them. It holds only what the last poll
// listed.
type inboxState struct {
	mu      sync.Mutex
	foreign map[string]bool
}

// PollInbox reads the sender's MESH inbox once: ITK3 responses of
// AckWorkflows and MESH REPORTs about the sender's messages are matched to
// transmissions, recorded, and only then acknowledged on MESH. It lists
// the inbox with workflow filters, so messages of other workflows cost
// nothing; other messages the filters let through are left alone. It
// returns how many messages it processed.
func (s *Service) PollInbox(ctx context.Context) (int, error) {
	if s.cfg.Mesh == nil {
		return 0, errors.New("sender: polling needs Config.Mesh")
	}
	s.inbox.mu.Lock()
	defer s.inbox.mu.Unlock()
	foreign := map[string]bool{}
	n := 0
	var errs []error
	for _, filter := range inboxFilters() {
		ids, err := s.cfg.Mesh.Inbox(ctx, mesh.InboxOptions{WorkflowFilter: filter})
		if err != nil {
			s.metrics.pollErrors.Add(1)
			errs = append(errs, fmt.Errorf("sender: list inbox (%s): %w", filter, err))
			continue
		}
		for _, id := range ids {
			if ctx.Err() != nil {
				break
			}
			if s.inbox.foreign[id] || foreign[id] {
				foreign[id] = true
				continue
			}
			done, err := s.processInbox(ctx, id)
			switch {
			case err != nil:
				s.metrics.pollErrors.Add(1)
				errs = append(errs, fmt.Errorf("inbox message %s: %w", id, err))
			case done:
				n++
			default:
				foreign[id] = true
			}
		}
	}
	s.inbox.foreign = foreign
	return n, errors.Join(errs...)
}

// processInbox handles one listed message; done is false when it is not
// the sender's to take (and was left alone).
func (s *Service) processInbox(ctx context.Context, id string) (done bool, err error) {
	seen, err := s.cfg.Store.InboxSeen(ctx, id)
	if err != nil {
		return false, err
	}
	if seen {
		// Recorded before, but the MESH acknowledgement was lost.
		return true, s.ack(ctx, id)
	}
	m, err := s.cfg.Mesh.Head(ctx, id)
	if err != nil {
		if errors.Is(err, mesh.ErrNotFound) || errors.Is(err, mesh.ErrGone) {
			return false, nil
		}
		return false, err
	}
	if rep, ok := m.Report(); ok {
		if isAckWorkflow(m.WorkflowID) {
			// About an acknowledgement someone in this mailbox sent (the
			// sender sends none): not ours.
			return false, nil
		}
		if rep.MessageID == "" {
			rep.MessageID = id
		}
		if err := s.handleReport(ctx, rep); err != nil {
			return false, err
		}
		return true, s.ack(ctx, id)
	}
	if !isAckWorkflow(m.WorkflowID) {
		return false, nil // not ours to take
	}
	resp, err := s.download(ctx, id)
	if err != nil {
		var pe *parseError
		if !errors.As(err, &pe) {
			return false, err
		}
		// An _ACK message we cannot read: record it and tell a person.
		rec := InboxRecord{MessageID: id, Kind: "response", Outcome: "unreadable", ReceivedAt: s.cfg.Now()}
		msg := fmt.Sprintf("An acknowledgement (MESH message %s) could not be read: %v. Check which report it answers.", id, pe.err)
		if err := s.cfg.Store.RecordInbox(ctx, rec, s.alert(ReasonUnmatched, "", msg, id)); err != nil && !errors.Is(err, ErrDuplicate) {
			return false, err
		}
		return true, s.ack(ctx, id)
	}
	if err := s.handleResponse(ctx, id, resp); err != nil {
		return false, err
	}
	return true, s.ack(ctx, id)
}

func (s *Service) ack(ctx context.Context, id string) error {
	err := s.cfg.Mesh.Ack(ctx, id)
	if err != nil && !errors.Is(err, mesh.ErrNotFound) && !errors.Is(err, mesh.ErrGone) {
		return fmt.Errorf("acknowledge: %w", err)
	}
	return nil
}

type parseError struct{ err error }

func (e *parseError) Error() string { return e.err.Error() }

func (s *Service) download(ctx context.Context, id string) (itk3.Response, error) {
	d, err := s.cfg.Mesh.Get(ctx, id)
	if err != nil {
		return itk3.Response{}, err
	}
	defer d.Close()
	body, err := io.ReadAll(io.LimitReader(d, maxResponseBytes+1))
	if err != nil {
		return itk3.Response{}, err
	}
	if len(body) > maxResponseBytes {
		return itk3.Response{}, &parseError{fmt.Errorf("larger than %d bytes", maxResponseBytes)}
	}
	return ParseResponse(body)
}

// ParseResponse reads an ITK3 response message (FHIR XML or JSON) of at
// most 10 MiB, nested at most 64 deep with at most 50 000 elements.
func ParseResponse(b []byte) (itk3.Response, error) {
	if len(b) > maxResponseBytes {
		return itk3.Response{}, &parseError{fmt.Errorf("larger than %d bytes", maxResponseBytes)}
	}
	trim := bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(trim) == 0 {
		return itk3.Response{}, &parseError{errors.New("empty body")}
	}
	// The whole body is in hand: the decoder's byte limit is its length,
	// so its read buffer is the body's size, not 32 KiB for every call.
	opts := &fhir.DecodeOptions{MaxBytes: int64(len(trim)), MaxDepth: maxResponseDepth, MaxElements: maxResponseElements}
	var res fhir.Resource
	var err error
	if trim[0] == '<' {
		res, _, err = fhir.DecodeXML(bytes.NewReader(trim), opts)
	} else {
		res, _, err = fhir.DecodeJSON(bytes.NewReader(trim), opts)
	}
	if err != nil {
		return itk3.Response{}, &parseError{err}
	}
	bundle, ok := res.(*fhir.Bundle)
	if !ok {
		return itk3.Response{}, &parseError{errors.New("not a FHIR Bundle")}
	}
	r, err := itk3.ReadResponse(bundle)
	if err != nil {
		return itk3.Response{}, &parseError{err}
	}
	return r, nil
}

// match finds the transmission a response answers (itk3.md §5.2): the
// original MessageHeader.id, else the Bundle id or identifier (responders
// that get it wrong), else the SenderReference (newest still waiting).
func (s *Service) match(ctx context.Context, r itk3.Response) (Transmission, string, error) {
	if r.RespondsTo != "" && r.RespondsTo != itk3.UnreadableIdentifier {
		for _, ref := range []Ref{RefHeaderID, RefBundleID, RefBundleIdentifier} {
			ts, err := s.cfg.Store.FindTransmissions(ctx, ref, r.RespondsTo)
			if err != nil {
				return Transmission{}, "", err
			}
			if len(ts) > 0 {
				return pickWaiting(ts), string(ref), nil
			}
		}
	}
	if r.SenderReference != "" && !strings.EqualFold(r.SenderReference, "None") {
		ts, err := s.cfg.Store.FindTransmissions(ctx, RefSenderReference, r.SenderReference)
		if err != nil {
			return Transmission{}, "", err
		}
		if len(ts) > 0 {
			return pickWaiting(ts), string(RefSenderReference), nil
		}
	}
	return Transmission{}, "", ErrNotFound
}

// pickWaiting returns the newest transmission still waiting, else the newest.
func pickWaiting(ts []Transmission) Transmission {
	for _, t := range ts {
		if !t.State.Terminal() {
			return t
		}
	}
	return ts[0]
}

var open = []State{StateQueued, StateSendUnknown, StateSent, StateDelivered, StateInfAck, StateOverdue}

func (s *Service) handleResponse(ctx context.Context, meshID string, r itk3.Response) error {
	s.metrics.responses.Add(1)
	code := r.Code
	for range 3 {
		now := s.cfg.Now()
		rec := &InboxRecord{MessageID: meshID, Kind: "response", Code: fmt.Sprint(int(code)), ReceivedAt: now}
		t, how, err := s.match(ctx, r)
		if errors.Is(err, ErrNotFound) || code.Class() == itk3.ClassUnknown {
			rec.Outcome = "unmatched"
			msg := fmt.Sprintf("An ITK3 response with code %d (MESH message %s) answers no report this sender sent (response to %q).", int(code), meshID, r.RespondsTo)
			if err == nil {
				rec.Outcome, rec.TransmissionID = "unknown code", t.ID
				msg = fmt.Sprintf("Transmission %s: a response carried an unknown ITK3 code %d (MESH message %s).", t.ID, int(code), meshID)
			}
			err := s.cfg.Store.RecordInbox(ctx, *rec, s.alert(ReasonUnmatched, fmt.Sprint(int(code)), msg, meshID))
			if errors.Is(err, ErrDuplicate) {
				return nil
			}
			return err
		}
		if err != nil {
			return err
		}
		rec.TransmissionID = t.ID
		p := TransitionParams{ID: t.ID, At: now, Inbox: rec}
		label := fmt.Sprintf("%d %s", int(code), code.Display())
		switch {
		case code.Class() == itk3.ClassInfAck && code.Positive():
			rec.Outcome = "infack positive"
			if t.State == StateInfAck || t.State.Terminal() {
				p.Note = "InfAck " + label + " received again (ignored)"
				break
			}
			p.From, p.To = open, StateInfAck
			p.Note = "InfAck " + label + " (matched by " + how + ")"
			p.Set = Changes{InfAckAt: &now, InfAckCode: ptr(int(code)), BusAckDue: ptr(now.Add(s.cfg.BusAckWithin))}
			if t.DeliveredAt.IsZero() {
				p.Set.DeliveredAt = &now
			}
		case code.Class() == itk3.ClassInfAck:
			rec.Outcome = "infack negative"
			if t.State.Terminal() {
				p.Note = "negative InfAck " + label + " after the report was " + string(t.State)
				break
			}
			p.From, p.To = open, StateFailed
			p.Note = "negative InfAck " + label
			p.Set = Changes{InfAckAt: &now, InfAckCode: ptr(int(code)), LastError: ptr(p.Note)}
			reason, extra := ReasonNegativeInfAck, ""
			if code == itk3.CodeReplacementFailed {
				reason, extra = ReasonReplacementVoid, " The original and the replacement are void (GPCM-SD-035)."
				if err := s.voidOriginal(ctx, t, now); err != nil {
					return err
				}
			}
			p.Alert = s.alert(reason, fmt.Sprint(int(code)), fmt.Sprintf("Transmission %s: the receiver refused the report: InfAck %s.%s", t.ID, label, extra), meshID)
		case code.Positive():
			rec.Outcome = "busack positive"
			if t.State.Terminal() {
				p.Note = "BusAck " + label + " after the report was " + string(t.State)
				break
			}
			p.From, p.To = open, StateComplete
			p.Note = "BusAck " + label
			p.Set = Changes{BusAckAt: &now, BusAckCode: ptr(int(code))}
		default:
			rec.Outcome = "busack negative"
			if t.State.Terminal() {
				p.Note = "negative BusAck " + label + " after the report was " + string(t.State)
				break
			}
			p.From, p.To = open, StateFailed
			p.Note = "negative BusAck " + label
			p.Set = Changes{BusAckAt: &now, BusAckCode: ptr(int(code)), LastError: ptr(p.Note)}
			p.Alert = s.alert(ReasonNegativeBusAck, fmt.Sprint(int(code)), fmt.Sprintf("Transmission %s: the practice did not take the report: BusAck %s.", t.ID, label), meshID)
		}
		_, err = s.cfg.Store.Transition(ctx, p)
		switch {
		case errors.Is(err, ErrConflict):
			continue // changed under us: match again
		case errors.Is(err, ErrDuplicate):
			return nil
		case err != nil:
			return err
		}
		// A negative acknowledgement is a failure someone must act on.
		s.log.Log(ctx, alertLevel(p.Alert), "acknowledgement recorded", "transmission", t.ID, "code", int(code), "outcome", rec.Outcome)
		return nil
	}
	return fmt.Errorf("sender: response %s: transmission kept changing", meshID)
}

// voidOriginal marks the transmission a refused replacement (20014)
// replaced void (GPCM-SD-035: the sender voids both; the replacement
// itself has failed). It runs before the response is recorded, so a crash
// between them repeats the note, never loses it.
func (s *Service) voidOriginal(ctx context.Context, repl Transmission, now time.Time) error {
	if repl.ReplacesID == "" {
		return nil
	}
	note := fmt.Sprintf("void: its replacement, transmission %s, was refused with 20014 (GPCM-SD-035)", repl.ID)
	_, err := s.cfg.Store.Transition(ctx, TransitionParams{ID: repl.ReplacesID, At: now, Note: note, Set: Changes{LastError: &note}})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sender: void transmission %s: %w", repl.ReplacesID, err)
	}
	s.log.Info("transmission void", "transmission", repl.ReplacesID, "replacement", repl.ID)
	return nil
}

func (s *Service) handleReport(ctx context.Context, r mesh.Report) error {
	s.metrics.reports.Add(1)
	for range 3 {
		now := s.cfg.Now()
		rec := &InboxRecord{MessageID: r.MessageID, Kind: "report", Code: r.StatusCode, ReceivedAt: now}
		ts, err := s.cfg.Store.FindTransmissions(ctx, RefMeshMessageID, r.LinkedMessageID)
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			rec.Outcome = "unmatched"
			msg := fmt.Sprintf("MESH REPORT %s (code %s: %s) is about message %s, which this sender did not record sending.", r.MessageID, r.StatusCode, r.StatusDescription, r.LinkedMessageID)
			err := s.cfg.Store.RecordInbox(ctx, *rec, s.alert(ReasonUnmatched, r.StatusCode, msg, r.MessageID))
			if errors.Is(err, ErrDuplicate) {
				return nil
			}
			return err
		}
		t := ts[0]
		rec.TransmissionID = t.ID
		reason, what := ReasonMeshReport, "MESH reported an error"
		switch r.Kind {
		case mesh.ReportRouting:
			reason, what = ReasonRouting, "MESH could not find the patient's registered practice (GPCM-SD-043); check NHS number, date of birth and surname"
		case mesh.ReportUndelivered:
			reason, what = ReasonUndeliverable, "MESH could not deliver the report: not collected in time or the recipient mailbox is closed"
		case mesh.ReportUnregistered:
			reason, what = ReasonMeshReport, "MESH does not know the recipient mailbox"
		}
		label := fmt.Sprintf("%s (%s)", r.StatusCode, r.StatusDescription)
		p := TransitionParams{ID: t.ID, At: now, Inbox: rec}
		if t.State.Terminal() {
			rec.Outcome = "recorded"
			p.Note = "MESH REPORT " + label + " after the report was " + string(t.State)
		} else {
			rec.Outcome = "failed"
			p.From, p.To = open, StateFailed
			p.Note = "MESH REPORT " + label
			p.Set = Changes{LastError: ptr(p.Note)}
			p.Alert = s.alert(reason, r.StatusCode, fmt.Sprintf("Transmission %s: %s: %s, MESH message %s.", t.ID, what, label, r.LinkedMessageID), r.MessageID)
		}
		_, err = s.cfg.Store.Transition(ctx, p)
		switch {
		case errors.Is(err, ErrConflict):
			continue
		case errors.Is(err, ErrDuplicate):
			return nil
		case err != nil:
			return err
		}
		s.log.Log(ctx, alertLevel(p.Alert), "MESH report recorded", "transmission", t.ID, "code", r.StatusCode)
		return nil
	}
	return fmt.Errorf("sender: report %s: transmission kept changing", r.MessageID)
}

// TrackSent asks MESH about sent transmissions not tracked for
// TrackInterval: acknowledged by the recipient → delivered; undeliverable
// or error → failed with an alert.
func (s *Service) TrackSent(ctx context.Context) error {
	if s.cfg.Mesh == nil {
		return nil
	}
	ts, err := s.cfg.Store.ListWaiting(ctx, []State{StateSent}, 10000)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range ts {
		now := s.cfg.Now()
		if t.MeshMessageID == "" || now.Sub(t.LastTrackedAt) < s.cfg.TrackInterval {
			continue
		}
		tr, err := s.cfg.Mesh.Track(ctx, t.MeshMessageID)
		if err != nil {
			errs = append(errs, fmt.Errorf("track %s: %w", t.ID, err))
			continue
		}
		p := TransitionParams{ID: t.ID, From: []State{StateSent}, At: now, Set: Changes{LastTrackedAt: &now}}
		switch strings.ToLower(tr.Status) {
		case mesh.StatusAcknowledged:
			p.To, p.Note = StateDelivered, "MESH: the recipient acknowledged the message"
			at := now
			if ts, err := mesh.ParseTimestamp(tr.StatusTimestamp); err == nil && !ts.IsZero() {
				at = ts
			}
			p.Set.DeliveredAt = &at
		case mesh.StatusUndeliverable, mesh.StatusError:
			p.To = StateFailed
			p.Note = fmt.Sprintf("MESH tracking: %s (code %s: %s)", tr.Status, tr.StatusCode, tr.StatusDescription)
			p.Set.LastError = ptr(p.Note)
			p.Alert = s.alert(ReasonUndeliverable, tr.StatusCode, fmt.Sprintf("Transmission %s: MESH could not deliver message %s: %s.", t.ID, t.MeshMessageID, p.Note), t.MeshMessageID)
		}
		if _, err := s.cfg.Store.Transition(ctx, p); err != nil && !errors.Is(err, ErrConflict) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CheckDeadlines marks transmissions whose acknowledgement is late as
// overdue, each with one alert (GPCM-SD-045).
func (s *Service) CheckDeadlines(ctx context.Context) error {
	ts, err := s.cfg.Store.ListWaiting(ctx, []State{StateSent, StateDelivered, StateInfAck}, 100000)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range ts {
		now := s.cfg.Now()
		p := TransitionParams{ID: t.ID, From: []State{t.State}, To: StateOverdue, At: now}
		switch {
		case t.State != StateInfAck && !t.InfAckDue.IsZero() && !now.Before(t.InfAckDue):
			p.Note = fmt.Sprintf("no InfAck by %s", t.InfAckDue.Format(time.RFC3339))
			p.Alert = s.alert(ReasonNoInfAck, "", fmt.Sprintf("Transmission %s: no infrastructure acknowledgement within %s of sending (due %s); the practice system may not have received the report.",
				t.ID, s.cfg.InfAckWithin, t.InfAckDue.Format(time.RFC3339)), t.MeshMessageID)
		case t.State == StateInfAck && !t.BusAckDue.IsZero() && !now.Before(t.BusAckDue):
			p.Note = fmt.Sprintf("no BusAck by %s", t.BusAckDue.Format(time.RFC3339))
			p.Alert = s.alert(ReasonNoBusAck, "", fmt.Sprintf("Transmission %s: no business acknowledgement within %s of the InfAck (due %s); the practice may not have filed the report.",
				t.ID, s.cfg.BusAckWithin, t.BusAckDue.Format(time.RFC3339)), t.MeshMessageID)
		default:
			continue
		}
		if _, err := s.cfg.Store.Transition(ctx, p); err != nil && !errors.Is(err, ErrConflict) {
			errs = append(errs, err)
		} else if err == nil {
			s.log.Warn("acknowledgement overdue", "transmission", t.ID, "note", p.Note)
		}
	}
	return errors.Join(errs...)
}

// alertLevel is the log level of a recorded outcome: a warning when it
// raised an alert (a failure a person must act on), else info.
func alertLevel(a *NewAlert) slog.Level {
	if a != nil {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
