package sender

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gpcm/gpcm/senddoc"
)

// NotReplaceableError refuses a corrected version of a transmission that
// may not be replaced. It matches ErrConflict.
type NotReplaceableError struct {
	ID  string // the transmission
	Why string // why not, for a person
}

func (e *NotReplaceableError) Error() string {
	return fmt.Sprintf("sender: transmission %s cannot be replaced: %s", e.ID, e.Why)
}

// Is matches ErrConflict.
func (e *NotReplaceableError) Is(target error) bool { return target == ErrConflict }

// canReplace is the rule for sending a corrected version of t
// (GPCM-SD-038/039): its document reached the practice, or the practice
// judged it (sent, delivered, acknowledged, complete, or failed with a
// business acknowledgement), and no other version replaces it already
// (replacedBy "").
func canReplace(t Transmission, replacedBy string) *NotReplaceableError {
	switch {
	case replacedBy != "":
		return &NotReplaceableError{ID: t.ID, Why: "transmission " + replacedBy + " already replaces it; correct that one instead"}
	case t.DocumentID == "":
		return &NotReplaceableError{ID: t.ID, Why: "it has no document identifier to replace"}
	}
	switch t.State {
	case StateSent, StateDelivered, StateInfAck, StateComplete:
		return nil
	case StateFailed:
		if t.BusAckCode != 0 {
			return nil
		}
		return &NotReplaceableError{ID: t.ID, Why: "it failed before the practice had its document: resend it instead"}
	}
	return &NotReplaceableError{ID: t.ID, Why: fmt.Sprintf("it is %s: only a report that was sent can be replaced", t.State)}
}

// replacedBy finds the transmission that replaces t: versions of a report
// share its sender reference.
func (s *Service) replacedBy(ctx context.Context, t Transmission) (string, error) {
	if t.SenderReference == "" {
		return "", nil
	}
	ts, err := s.cfg.Store.FindTransmissions(ctx, RefSenderReference, t.SenderReference)
	if err != nil {
		return "", fmt.Errorf("sender: finding replacements of %s: %w", t.ID, err)
	}
	for _, o := range ts {
		if o.ReplacesID == t.ID {
			return o.ID, nil
		}
	}
	return "", nil
}

// replaceable reads transmission id and refuses it with
// *NotReplaceableError unless a corrected version may be sent.
func (s *Service) replaceable(ctx context.Context, id string) (Transmission, error) {
	t, err := s.cfg.Store.GetTransmission(ctx, id)
	if err != nil {
		return Transmission{}, err
	}
	by, err := s.replacedBy(ctx, t)
	if err != nil {
		return Transmission{}, err
	}
	if err := canReplace(t, by); err != nil {
		return Transmission{}, err
	}
	return t, nil
}

// ReplacementDraft returns the input transmission id was built from, ready
// to correct: it replaces id's document, one version higher. Refused with
// *NotReplaceableError when id may not be replaced or was submitted as a
// ready-made message (there is no input to correct).
func (s *Service) ReplacementDraft(ctx context.Context, id string) (senddoc.Input, error) {
	t, err := s.replaceable(ctx, id)
	if err != nil {
		return senddoc.Input{}, err
	}
	if t.Source != SourceInput {
		return senddoc.Input{}, &NotReplaceableError{ID: id, Why: "it was submitted as a ready-made message, so there is no form to correct; submit the corrected message through the API"}
	}
	_, raw, err := s.cfg.Store.Payload(ctx, id)
	if err != nil {
		return senddoc.Input{}, err
	}
	var in senddoc.Input
	if err := json.Unmarshal(raw, &in); err != nil {
		return senddoc.Input{}, fmt.Errorf("sender: reading the input of transmission %s: %w", id, err)
	}
	in.Replaces = &senddoc.Replacement{DocumentID: t.DocumentID}
	in.Version = max(t.Version, in.Version, 1) + 1
	return in, nil
}

// Replace sends a corrected version of transmission id's document: in gets
// relatesTo replaces → the previous Composition.identifier (GPCM-SD-038/039),
// a version one higher unless given, and new message and document
// identifiers. in should keep the encounter, so SenderReference stays.
// A transmission that may not be replaced (see Detailed.CanReplace) is
// refused with *NotReplaceableError. by is who sends it.
func (s *Service) Replace(ctx context.Context, id string, in senddoc.Input, by string) (Transmission, error) {
	prev, err := s.replaceable(ctx, id)
	if err != nil {
		return Transmission{}, err
	}
	in.Replaces = &senddoc.Replacement{DocumentID: prev.DocumentID}
	if in.Version <= prev.Version {
		in.Version = prev.Version + 1
	}
	t, _, err := s.Submit(ctx, Submission{Input: &in, By: by, replacesID: prev.ID})
	return t, err
}
