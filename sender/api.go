package sender

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/gpcm/gpcm/senddoc"
)

// Handler serves the sender's JSON API, health and metrics:
//
//	POST /api/transmissions               submit (senddoc input JSON or ITK3 message; ?to= &subject= &localId= &key=
//	                                      &editedAt=RFC3339 &sendNow=true)
//	                                      (every POST takes ?by=NAME, who acts, recorded on the event; default "API")
//	GET  /api/transmissions?state=&limit= list, newest first
//	GET  /api/transmissions/{id}          one transmission with its events and alerts
//	POST /api/transmissions/{id}/resend   send a failed or overdue report again
//	POST /api/transmissions/{id}/replace  send a corrected version (senddoc input JSON)
//	POST /api/transmissions/{id}/send-now send a report waiting for its edit window at once
//	POST /api/transmissions/{id}/cancel   withdraw a report not yet sent
//	GET  /api/alerts?limit=               alerts, newest first
//	GET  /healthz, GET /metrics           (no token)
//
// Every /api/ request needs "Authorization: Bearer <token>"; an empty token
// refuses them all.
func (s *Service) Handler(token string) http.Handler {
	mux := http.NewServeMux()
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			got, ok := bearer(r)
			if token == "" || !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gpcm-sender"`)
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong bearer token"})
				return
			}
			if err := h(w, r); err != nil {
				s.serveError(w, err)
			}
		})
	}
	api("POST /api/transmissions", s.apiSubmit)
	api("GET /api/transmissions", func(w http.ResponseWriter, r *http.Request) error {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		ts, err := s.List(r.Context(), ListParams{State: State(r.URL.Query().Get("state")), Limit: limit})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"transmissions": nonNilSlice(ts)})
		return nil
	})
	api("GET /api/transmissions/{id}", func(w http.ResponseWriter, r *http.Request) error {
		d, err := s.Detail(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, d)
		return nil
	})
	api("POST /api/transmissions/{id}/resend", func(w http.ResponseWriter, r *http.Request) error {
		t, err := s.Resend(r.Context(), r.PathValue("id"), apiActor(r))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, t)
		return nil
	})
	api("POST /api/transmissions/{id}/replace", func(w http.ResponseWriter, r *http.Request) error {
		in, err := senddoc.ReadInput(http.MaxBytesReader(w, r.Body, s.cfg.MaxPayload))
		if err != nil {
			var ie *senddoc.InputError
			if errors.As(err, &ie) {
				return &InvalidError{Problems: ie.Problems}
			}
			return refused(err.Error())
		}
		t, err := s.Replace(r.Context(), r.PathValue("id"), in, apiActor(r))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, t)
		return nil
	})
	for path, act := range map[string]func(context.Context, string, string) (Transmission, error){"send-now": s.SendNow, "cancel": s.Cancel} {
		api("POST /api/transmissions/{id}/"+path, func(w http.ResponseWriter, r *http.Request) error {
			t, err := act(r.Context(), r.PathValue("id"), apiActor(r))
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, t)
			return nil
		})
	}
	api("GET /api/alerts", func(w http.ResponseWriter, r *http.Request) error {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		as, err := s.Alerts(r.Context(), AlertFilter{Limit: limit, TransmissionID: r.URL.Query().Get("transmission")})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"alerts": nonNilSlice(as)})
		return nil
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.cfg.Store.CountByState(r.Context()); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	return mux
}

func (s *Service) apiSubmit(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxPayload))
	if err != nil {
		return refused("the request body could not be read: " + err.Error())
	}
	sub, err := ParseSubmission(body)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	sub.Key, sub.RecipientODS, sub.By = q.Get("key"), q.Get("recipientOds"), apiActor(r)
	if v := q.Get("editedAt"); v != "" {
		if sub.EditedAt, err = time.Parse(time.RFC3339, v); err != nil {
			return refused("editedAt must be an RFC 3339 time, e.g. 2026-11-24T09:30:00Z")
		}
	}
	if v := q.Get("sendNow"); v != "" {
		if sub.SendNow, err = strconv.ParseBool(v); err != nil {
			return refused("sendNow must be true or false")
		}
	}
	if sub.Message != nil {
		sub.Envelope = &senddoc.Envelope{To: q.Get("to"), Subject: q.Get("subject"), LocalID: q.Get("localId"), WorkflowID: q.Get("workflowId")}
	}
	t, created, err := s.Submit(r.Context(), sub)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, t)
	return nil
}

// serveError maps errors to HTTP in one place; details of 5xx are logged,
// not shown.
func (s *Service) serveError(w http.ResponseWriter, err error) {
	var ie *InvalidError
	switch {
	case errors.As(err, &ie):
		probs := make([]string, len(ie.Problems))
		for i, p := range ie.Problems {
			probs[i] = p.Message
		}
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "report refused", "problems": probs,
			"fields": nonNilSlice(ie.Problems), "findings": ie.Findings})
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	case errors.Is(err, ErrConflict), errors.Is(err, ErrStale):
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
	default:
		s.log.Error("API request failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	}
}

func (s *Service) serveMetrics(w http.ResponseWriter, r *http.Request) {
	counts, err := s.cfg.Store.CountByState(r.Context())
	if err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, "# HELP gpcm_sender_transmissions Transmissions by state.")
	fmt.Fprintln(w, "# TYPE gpcm_sender_transmissions gauge")
	states := States()
	sort.Slice(states, func(i, j int) bool { return states[i] < states[j] })
	for _, st := range states {
		fmt.Fprintf(w, "gpcm_sender_transmissions{state=%q} %d\n", st, counts[st])
	}
	m := &s.metrics
	for _, c := range []struct {
		name, help string
		v          int64
	}{
		{"gpcm_sender_submitted_total", "Reports accepted into the outbox.", m.submitted.Load()},
		{"gpcm_sender_sent_total", "Reports MESH accepted.", m.sent.Load()},
		{"gpcm_sender_send_errors_total", "Send attempts that failed.", m.sendErrors.Load()},
		{"gpcm_sender_send_unknown_total", "Send attempts with an unknown outcome.", m.unknown.Load()},
		{"gpcm_sender_responses_total", "ITK3 responses processed.", m.responses.Load()},
		{"gpcm_sender_reports_total", "MESH REPORTs processed.", m.reports.Load()},
		{"gpcm_sender_alerts_delivered_total", "Alerts the hook took.", m.alertsDelivered.Load()},
		{"gpcm_sender_alert_errors_total", "Failed alert hook calls.", m.alertErrors.Load()},
		{"gpcm_sender_poll_errors_total", "Inbox processing errors.", m.pollErrors.Load()},
		{"gpcm_sender_mesh_handshakes_total", "MESH handshakes made (at start and every --handshake-interval).", m.handshakes.Load()},
		{"gpcm_sender_mesh_handshake_errors_total", "MESH handshakes that failed.", m.handshakeErrors.Load()},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", c.name, c.help, c.name, c.name, c.v)
	}
}

// apiActor is who an API request acts for, recorded on the events it
// causes: ?by= if given, else "API".
func apiActor(r *http.Request) string {
	if by := r.URL.Query().Get("by"); by != "" {
		return by
	}
	return "API"
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	if len(h) <= len(p) || !equalFoldASCII(h[:len(p)], p) {
		return "", false
	}
	return h[len(p):], true
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
