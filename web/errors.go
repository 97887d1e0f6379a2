package web

import (
	"errors"
	"net/http"
)

// ErrNotFound is returned by back ends for a record that does not exist or
// that the asking practice or organisation may not see; the UI answers 404
// either way so that other organisations' records cannot be probed.
var ErrNotFound = errors.New("web: not found")

// ErrConflict is returned by back ends when an action does not fit the
// record's state (for example filing a rejected document).
var ErrConflict = errors.New("web: conflict")

// RefusedError is returned by back ends when an action is refused for a
// reason the user can act on (for example a patient who left the practice
// chosen for a manual match). Reason is shown to the user, so it carries no
// internal detail.
type RefusedError struct {
	Reason string
}

func (e *RefusedError) Error() string { return "web: refused: " + e.Reason }

// httpError is an error the user sees with its status; Err, if any, is logged
// (for 5xx) and never shown.
type httpError struct {
	Status  int
	Message string
	Err     error
}

func (e *httpError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *httpError) Unwrap() error { return e.Err }

var (
	errNotFound  = &httpError{Status: http.StatusNotFound, Message: "Page not found"}
	errForbidden = &httpError{Status: http.StatusForbidden, Message: "You do not have access to this page"}
	errCSRF      = &httpError{Status: http.StatusForbidden, Message: "Your form has expired or did not come from this service. Go back, reload the page and try again"}
	// errCrossOrigin refuses a form another site's page posted.
	errCrossOrigin = &httpError{Status: http.StatusForbidden, Message: "This form did not come from this service. Open the service's own page and try again"}
)

func badRequest(msg string) error {
	return &httpError{Status: http.StatusBadRequest, Message: msg}
}

// serveError renders err in the one place errors become HTTP: back-end
// not-found and conflict errors map to 404 and 409, httpError to its status,
// anything else to 500. 5xx are logged at error; refused forms (CSRF,
// cross-origin) and 429s at warn; other 4xx at info; with the path only
// (never the query or form, which may carry patient data).
func (s *Server) serveError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	switch {
	case errors.As(err, &he):
	case errors.Is(err, ErrNotFound):
		he = &httpError{Status: http.StatusNotFound, Message: "Page not found", Err: err}
	case errors.Is(err, ErrConflict):
		he = &httpError{Status: http.StatusConflict, Message: "That action is not possible for this record in its current state", Err: err}
	default:
		he = &httpError{Status: http.StatusInternalServerError, Message: "Sorry, there is a problem with the service", Err: err}
	}
	switch {
	case he.Status >= 500:
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", he.Status, "err", err)
	case he == errCSRF || he == errCrossOrigin || he.Status == http.StatusTooManyRequests:
		// A forged or stale form, another site's post, a flood: worth a look.
		s.log.WarnContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "status", he.Status)
	default:
		s.log.InfoContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "status", he.Status)
	}
	data := s.newPage(r, "Error")
	data.Data = he
	if rerr := s.render(w, r, he.Status, "error", data); rerr != nil {
		s.log.ErrorContext(r.Context(), "rendering error page", "err", rerr)
		http.Error(w, he.Message, he.Status)
	}
}
