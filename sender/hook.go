package sender

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// DeliverAlerts hands pending alerts to the hook, at least once each: an
// alert is marked delivered only after the hook succeeded, and a failure is
// retried with backoff. It returns how many were delivered.
func (s *Service) DeliverAlerts(ctx context.Context) (int, error) {
	if s.cfg.Hook == nil {
		return 0, nil
	}
	n := 0
	for {
		now := s.cfg.Now()
		alerts, err := s.cfg.Store.ClaimAlerts(ctx, ClaimParams{Owner: s.cfg.Owner, Now: now, LeaseUntil: now.Add(s.cfg.Lease), Limit: 20})
		if err != nil || len(alerts) == 0 {
			return n, err
		}
		var errs []error
		for _, a := range alerts {
			hctx, cancel := context.WithTimeout(ctx, time.Minute)
			herr := s.cfg.Hook.Deliver(hctx, a)
			cancel()
			p := AlertDeliveryParams{ID: a.ID, At: s.cfg.Now(), Delivered: herr == nil}
			if herr != nil {
				s.metrics.alertErrors.Add(1)
				p.Error = herr.Error()
				p.NextAttemptAt = p.At.Add(s.delay(a.Attempts + 1))
				s.log.Warn("alert hook failed; will retry", "alert", a.ID, "err", herr)
				errs = append(errs, fmt.Errorf("alert %d: %w", a.ID, herr))
			} else {
				s.metrics.alertsDelivered.Add(1)
				n++
			}
			if err := s.cfg.Store.RecordAlertDelivery(ctx, p); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return n, errors.Join(errs...)
		}
	}
}

// CommandHook runs a program for each alert with the alert as JSON on its
// standard input; exit status 0 means delivered.
type CommandHook struct {
	Path string
	Args []string
}

// Deliver implements Hook.
func (h CommandHook) Deliver(ctx context.Context, a Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, h.Path, h.Args...)
	cmd.Stdin = bytes.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return fmt.Errorf("alert command %s: %w: %s", h.Path, err, msg)
	}
	return nil
}

// WebhookHook POSTs each alert as JSON to URL; a 2xx answer means delivered.
type WebhookHook struct {
	URL string
	// Token, if set, is sent as "Authorization: Bearer <Token>".
	Token  string
	Client *http.Client
}

// Deliver implements Hook.
func (h WebhookHook) Deliver(ctx context.Context, a Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("alert webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", fmt.Sprintf("gpcm-alert-%d", a.ID))
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("alert webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("alert webhook: HTTP %d", resp.StatusCode)
	}
	return nil
}
