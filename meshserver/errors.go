package meshserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Error is a failure the client sees: an HTTP status plus the MESH error
// event, code and description rendered in the v1 or v2 JSON shape.
// Descriptions never carry patient data.
type Error struct {
	Status      int
	Event       string
	Code        string
	Description string
	// MessageID is included in the body when the failure concerns a message.
	MessageID string
	// Empty sends the status with no body.
	Empty bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("mesh %d %s/%s: %s", e.Status, e.Event, e.Code, e.Description)
}

func errf(status int, event, code, format string, args ...any) *Error {
	return &Error{Status: status, Event: event, Code: code, Description: fmt.Sprintf(format, args...)}
}

func (e *Error) withID(id string) *Error { c := *e; c.MessageID = id; return &c }

// Errors shared by several handlers; wording as the live service where known.
var (
	errAuth            = errf(http.StatusForbidden, "", "", "Invalid Authentication Token")
	errNoMessage       = errf(http.StatusNotFound, "RECEIVE", "20", "Message does not exist")
	errNotYours        = errf(http.StatusForbidden, "RECEIVE", "", "Message does not belong to this mailbox")
	errGone            = errf(http.StatusGone, "RECEIVE", "", "Message no longer available for download")
	errUnregistered    = errf(http.StatusExpectationFailed, "SEND", "12", "Unregistered to address")
	errEmptyBody       = errf(http.StatusExpectationFailed, "COLLECT", "02", "Data file is missing or inaccessible")
	errBadChunkRange   = errf(http.StatusExpectationFailed, "SEND", "InvalidHeaderChunks", "Invalid chunk values sent in mex-Chunk-Range header")
	errEncodingChanged = errf(http.StatusExpectationFailed, "SEND", "InvalidHeaderChunks", "cannot change content encoding between chunks")
	errBadEncoding     = errf(http.StatusUnprocessableEntity, "SEND", "UnsupportedContentEncoding", "Unsupported content encoding")
	errFinalised       = errf(http.StatusLocked, "SEND", "", "Message already finalised, no more chunks accepted")
	errBadAccept       = errf(http.StatusBadRequest, "", "", "Accept header api format incorrect")
	errInternal        = errf(http.StatusInternalServerError, "", "", "An internal error occurred.\n\nPlease contact support.")
)

// writeError renders err for a client speaking API version v. Anything that
// is not an *Error is logged and becomes a 500 without details.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, v int, err error) {
	var me *Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &me):
	case errors.As(err, &mbe):
		me = errf(http.StatusRequestEntityTooLarge, "SEND", "", "request body larger than %d bytes", mbe.Limit)
	default:
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", r.Pattern, "err", err)
		me = errInternal
	}
	if me.Status >= 500 && me != errInternal {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", r.Pattern, "status", me.Status, "err", err)
	}
	if me.Empty {
		w.WriteHeader(me.Status)
		return
	}
	var body any
	if v >= 2 {
		b := map[string]any{"detail": []map[string]string{{"event": me.Event, "code": me.Code, "msg": me.Description}}}
		if me.MessageID != "" {
			b["message_id"] = me.MessageID
		}
		body = b
	} else {
		b := map[string]any{"errorEvent": me.Event, "errorCode": me.Code, "errorDescription": me.Description}
		if me.MessageID != "" {
			b["messageID"] = me.MessageID
		}
		body = b
	}
	writeJSON(w, v, me.Status, body)
}

func writeJSON(w http.ResponseWriter, v, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		b = []byte(`{}`)
	}
	h := w.Header()
	if v >= 2 {
		h["content-type"] = []string{mediaTypeV2}
	} else {
		h["content-type"] = []string{"application/json"}
	}
	h["content-length"] = []string{fmt.Sprint(len(b))}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// logAttr keeps request logging free of patient data: only ids and routes.
func logAttr(c *call) slog.Attr {
	if c == nil || c.mailbox.ID == "" {
		return slog.String("mailbox", "")
	}
	return slog.String("mailbox", c.mailbox.ID)
}
