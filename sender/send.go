package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

// SendDue claims due transmissions and sends (or reconciles) each one. It
// returns how many it handled.
func (s *Service) SendDue(ctx context.Context) (int, error) {
	if s.cfg.Mesh == nil {
		return 0, errors.New("sender: sending needs Config.Mesh")
	}
	n := 0
	for {
		now := s.cfg.Now()
		claimed, err := s.cfg.Store.ClaimSend(ctx, ClaimParams{Owner: s.cfg.Owner, Now: now, LeaseUntil: now.Add(s.cfg.Lease), Limit: 10})
		if err != nil {
			return n, err
		}
		if len(claimed) == 0 {
			return n, nil
		}
		var errs []error
		for _, t := range claimed {
			var err error
			if t.State == StateSendUnknown {
				err = s.recheck(ctx, t)
			} else {
				err = s.sendOne(ctx, t)
			}
			if err != nil {
				errs = append(errs, err)
			}
			n++
		}
		if err := errors.Join(errs...); err != nil {
			return n, err
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
}

// sendOne makes one attempt. The attempt (its number and Mex-FileName) is
// committed before the POST so that after a crash or an ambiguous failure
// the outbox can be searched for exactly this attempt.
func (s *Service) sendOne(ctx context.Context, t Transmission) error {
	payload, _, err := s.cfg.Store.Payload(ctx, t.ID)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	if mb := s.cfg.Mesh.Mailbox(); t.From != "" && !strings.EqualFold(t.From, mb) {
		msg := fmt.Sprintf("the report names sender mailbox %s but this sender uses %s; acknowledgements would not come back, so it was not sent", t.From, mb)
		_, err := s.cfg.Store.Transition(ctx, TransitionParams{ID: t.ID, From: []State{StateQueued}, To: StateFailed, At: now, ReleaseLease: true,
			Note: msg, Set: Changes{LastError: &msg}, Alert: s.alert(ReasonRejected, "", fmt.Sprintf("Transmission %s: %s.", t.ID, msg), "")})
		return err
	}
	resume := t.MeshMessageID != "" && t.NextChunk > 1
	attempt, file := t.Attempts, t.AttemptFile
	if !resume {
		attempt++
		file = fmt.Sprintf("%s-%d.xml", t.ID, attempt)
	}
	if t.AttemptFile != "" && !resume {
		// A previous attempt was recorded but never concluded (crash between
		// record and outcome): find out whether MESH has it first.
		return s.markUnknown(ctx, t, now, "an earlier attempt was interrupted before its outcome was recorded")
	}
	var late *NewAlert
	if !t.SendBy.IsZero() && now.After(t.SendBy) {
		// Still sent (nothing accepted is lost), but a person should know.
		late = s.alert(ReasonSendLate, "", fmt.Sprintf("Transmission %s: sent %s after its send window closed; a consultation report goes within %s of the consultation's last update (GPCM-SD-CS-075).",
			t.ID, now.Sub(t.SendBy).Round(time.Minute), s.cfg.SendWindow), "")
	}
	t, err = s.cfg.Store.Transition(ctx, TransitionParams{ID: t.ID, From: []State{StateQueued}, At: now,
		Note: fmt.Sprintf("sending attempt %d", attempt), Alert: late,
		Set: Changes{Attempts: &attempt, AttemptFile: &file, AttemptStartedAt: &now}})
	if err != nil {
		return err
	}
	req := mesh.SendRequest{To: t.To, WorkflowID: t.WorkflowID, Subject: t.Subject, LocalID: t.LocalID, Filename: file,
		ContentType: t.ContentType, Body: bytes.NewReader(payload), Size: int64(len(payload))}
	if resume {
		req.Resume = &mesh.Resume{MessageID: t.MeshMessageID, NextChunk: t.NextChunk}
	}
	res, err := s.cfg.Mesh.Send(ctx, req)
	if err == nil && res.Reconciled {
		// The client found "a" message by local ID; our local ID is the ODS
		// code (GPCM-SD-CS-080), so prove it is this attempt by file name.
		if tr, terr := s.cfg.Mesh.Track(ctx, res.MessageID); terr != nil || tr.Filename != file {
			err = &mesh.OutcomeUnknownError{LocalID: t.LocalID, Evidence: []string{"the message found by local ID is not this attempt"}}
		}
	}
	now = s.cfg.Now()
	var ou *mesh.OutcomeUnknownError
	var inc *mesh.IncompleteSendError
	var me *mesh.Error
	switch {
	case err == nil:
		return s.markSent(ctx, t, res.MessageID, now, StateQueued, fmt.Sprintf("accepted by MESH as %s", res.MessageID))
	case errors.As(err, &ou):
		s.metrics.unknown.Add(1)
		return s.markUnknown(ctx, t, now, strings.Join(ou.Evidence, "; "))
	case errors.As(err, &inc):
		s.metrics.sendErrors.Add(1)
		_, terr := s.cfg.Store.Transition(ctx, TransitionParams{ID: t.ID, At: now, ReleaseLease: true,
			Note: fmt.Sprintf("MESH holds %d of %d chunks; will resume", inc.NextChunk-1, inc.TotalChunks),
			Set:  Changes{MeshMessageID: &inc.MessageID, NextChunk: &inc.NextChunk, NextAttemptAt: ptr(now.Add(s.delay(attempt))), LastError: ptr(inc.Error())}})
		return terr
	case errors.As(err, &me) && !me.Temporary() && me.Status != http.StatusForbidden && me.Status != http.StatusUnauthorized:
		s.metrics.sendErrors.Add(1)
		msg := fmt.Sprintf("MESH refused the report (HTTP %d, code %s: %s); nothing was sent", me.Status, me.Code, me.Description)
		_, terr := s.cfg.Store.Transition(ctx, TransitionParams{ID: t.ID, From: []State{StateQueued}, To: StateFailed, At: now, ReleaseLease: true,
			Note: msg, Set: Changes{LastError: &msg, MeshMessageID: ptr(me.MessageID)},
			Alert: s.alert(ReasonRejected, me.Code, fmt.Sprintf("Transmission %s: %s.", t.ID, msg), me.MessageID)})
		return terr
	default:
		// Not accepted, and the client proved the POST had no effect (or
		// it is an authentication problem): retry later.
		s.metrics.sendErrors.Add(1)
		msg := err.Error()
		next := now.Add(s.delay(attempt))
		s.log.Warn("send failed; will retry", "transmission", t.ID, "attempt", attempt, "next", next, "err", err)
		_, terr := s.cfg.Store.Transition(ctx, TransitionParams{ID: t.ID, At: now, ReleaseLease: true,
			Set: Changes{AttemptFile: ptr(""), NextAttemptAt: &next, LastError: &msg}})
		return terr
	}
}

func (s *Service) delay(attempt int) time.Duration {
	d := s.cfg.Backoff.Initial
	for i := 1; i < attempt && d < s.cfg.Backoff.Max; i++ {
		d *= 2
	}
	return min(d, max(s.cfg.Backoff.Max, s.cfg.Backoff.Initial))
}

func (s *Service) markSent(ctx context.Context, t Transmission, id string, now time.Time, from State, note string) error {
	due := now.Add(s.cfg.InfAckWithin)
	_, err := s.cfg.Store.Transition(ctx, TransitionParams{ID: t.ID, From: []State{from}, To: StateSent, At: now, ReleaseLease: true, Note: note,
		Set: Changes{MeshMessageID: &id, SentAt: &now, InfAckDue: &due, NextChunk: ptr(0), LastError: ptr("")}})
	if err == nil {
		s.metrics.sent.Add(1)
		s.log.Info("report sent", "transmission", t.ID, "mesh_message_id", id)
	}
	return err
}

func (s *Service) markUnknown(ctx context.Context, t Transmission, now time.Time, evidence string) error {
	next := now.Add(s.cfg.RecheckAfter)
	s.log.Warn("send outcome unknown; will check the MESH outbox before sending again", "transmission", t.ID, "recheck", next)
	_, err := s.cfg.Store.Transition(ctx, TransitionParams{ID: t.ID, From: []State{StateQueued}, To: StateSendUnknown, At: now, ReleaseLease: true,
		Note: "outcome unknown: " + evidence, Set: Changes{NextAttemptAt: &next, LastError: &evidence}})
	return err
}

// recheck searches the MESH outbox for the recorded attempt of a
// send_unknown transmission: found → sent; provably absent → queued again.
func (s *Service) recheck(ctx context.Context, t Transmission) error {
	now := s.cfg.Now()
	since := t.AttemptStartedAt.Add(-5 * time.Minute)
	msgs, err := s.cfg.Mesh.RichOutbox(ctx, mesh.RichInboxOptions{StartTime: since})
	if err == nil {
		for _, m := range msgs {
			if !strings.EqualFold(m.WorkflowID, t.WorkflowID) || (m.LocalID != "" && m.LocalID != t.LocalID) {
				continue
			}
			// Messages already linked to a transmission are not this attempt.
			known, ferr := s.cfg.Store.FindTransmissions(ctx, RefMeshMessageID, m.MessageID)
			if ferr != nil {
				return ferr
			}
			if len(known) > 0 {
				continue
			}
			tr, terr := s.cfg.Mesh.Track(ctx, m.MessageID)
			if terr != nil {
				err = terr
				break
			}
			if tr.Filename == t.AttemptFile {
				return s.markSent(ctx, t, m.MessageID, now, StateSendUnknown,
					fmt.Sprintf("outbox check: MESH holds attempt %d as %s", t.Attempts, m.MessageID))
			}
		}
	}
	if err != nil {
		next := now.Add(s.cfg.RecheckAfter)
		msg := "outbox check failed: " + err.Error()
		_, terr := s.cfg.Store.Transition(ctx, TransitionParams{ID: t.ID, At: now, ReleaseLease: true,
			Set: Changes{NextAttemptAt: &next, LastError: &msg}})
		return errors.Join(err, terr)
	}
	_, err = s.cfg.Store.Transition(ctx, TransitionParams{ID: t.ID, From: []State{StateSendUnknown}, To: StateQueued, At: now, ReleaseLease: true,
		Note: fmt.Sprintf("outbox check: MESH does not hold attempt %d; sending again", t.Attempts),
		Set:  Changes{AttemptFile: ptr(""), NextAttemptAt: &now}})
	if err == nil {
		s.wake()
	}
	return err
}

// alert builds the alert for a transition; without a hook it is recorded
// as visible in the API only.
func (s *Service) alert(r Reason, code, msg, meshID string) *NewAlert {
	d := DeliveryPending
	if s.cfg.Hook == nil {
		d = DeliveryNoHook
	}
	return &NewAlert{Reason: r, Code: code, Message: msg, MeshMessageID: meshID, Delivery: d}
}
