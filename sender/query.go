package sender

import (
	"context"
	"fmt"
)

// List lists transmissions, newest first.
func (s *Service) List(ctx context.Context, p ListParams) ([]Transmission, error) {
	ts, err := s.cfg.Store.ListTransmissions(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("sender: listing transmissions: %w", err)
	}
	return ts, nil
}

// Unsent lists up to limit transmissions not yet handed to MESH (queued, or
// sent with an outcome still unknown), oldest first.
func (s *Service) Unsent(ctx context.Context, limit int) ([]Transmission, error) {
	ts, err := s.cfg.Store.ListWaiting(ctx, []State{StateQueued, StateSendUnknown}, limit)
	if err != nil {
		return nil, fmt.Errorf("sender: listing unsent transmissions: %w", err)
	}
	return ts, nil
}

// Alerts lists alerts, newest first.
func (s *Service) Alerts(ctx context.Context, f AlertFilter) ([]Alert, error) {
	as, err := s.cfg.Store.ListAlerts(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("sender: listing alerts: %w", err)
	}
	return as, nil
}

// CountByState counts transmissions per state.
func (s *Service) CountByState(ctx context.Context) (map[State]int, error) {
	return s.cfg.Store.CountByState(ctx)
}

// Detailed is one transmission with its history and alerts, and whether a
// corrected version of it may be sent.
type Detailed struct {
	Transmission Transmission `json:"transmission"`
	Events       []Event      `json:"events"`
	Alerts       []Alert      `json:"alerts"`
	// ReplacedBy is the transmission that replaces this one, if any.
	ReplacedBy string `json:"replacedBy,omitempty"`
	// CanReplace says whether Replace accepts a corrected version;
	// NotReplaceable says why not.
	CanReplace     bool   `json:"canReplace"`
	NotReplaceable string `json:"notReplaceable,omitempty"`
}

// Detail returns transmission id with its events and alerts (ErrNotFound
// when there is none).
func (s *Service) Detail(ctx context.Context, id string) (Detailed, error) {
	t, err := s.cfg.Store.GetTransmission(ctx, id)
	if err != nil {
		return Detailed{}, err
	}
	ev, err := s.cfg.Store.Events(ctx, id)
	if err != nil {
		return Detailed{}, err
	}
	as, err := s.cfg.Store.ListAlerts(ctx, AlertFilter{TransmissionID: id})
	if err != nil {
		return Detailed{}, err
	}
	by, err := s.replacedBy(ctx, t)
	if err != nil {
		return Detailed{}, err
	}
	d := Detailed{Transmission: t, Events: nonNilSlice(ev), Alerts: nonNilSlice(as), ReplacedBy: by, CanReplace: true}
	if err := canReplace(t, by); err != nil {
		d.CanReplace, d.NotReplaceable = false, err.Why
	}
	return d, nil
}
