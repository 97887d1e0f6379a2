package meshserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gpcm/gpcm/mesh"
)

// Error is a failure the client sees: the shared MESH error type, rendered
// in the v1 or v2 JSON shape. Descriptions never carry patient data.
type Error = mesh.Error

func errf(status int, event, code, format string, args ...any) *Error {
	return &Error{Status: status, Event: event, Code: code, Description: fmt.Sprintf(format, args...)}
}

// withID copies e with the message id set.
func withID(e *Error, id string) *Error {
	return &Error{Status: e.Status, Event: e.Event, Code: e.Code, Description: e.Description, MessageID: id}
}

// Errors shared by several handlers; wording as the live service where known.
var (
	errAuth            = errf(http.StatusForbidden, "", "", "Invalid Authentication Token")
	errNoMessage       = errf(http.StatusNotFound, mesh.EventReceive, mesh.CodeMessageDoesNotExist, "Message does not exist")
	errNotYours        = errf(http.StatusForbidden, "RECEIVE", "", "Message does not belong to this mailbox")
	errGone            = errf(http.StatusGone, "RECEIVE", "", "Message no longer available for download")
	errSenderWorkflow  = errf(http.StatusExpectationFailed, "SEND", "16", "Sender is not allowed to send messages of this type")
	errUnregistered    = errf(http.StatusExpectationFailed, mesh.EventSend, mesh.CodeUnregisteredRecipient, "Unregistered to address")
	errEmptyBody       = errf(http.StatusExpectationFailed, mesh.EventCollect, mesh.CodeMissingData, "Data file is missing or inaccessible")
	errBadChunkRange   = errf(http.StatusExpectationFailed, mesh.EventSend, mesh.CodeInvalidHeaderChunks, "Invalid chunk values sent in mex-Chunk-Range header")
	errEncodingChanged = errf(http.StatusExpectationFailed, mesh.EventSend, mesh.CodeInvalidHeaderChunks, "cannot change content encoding between chunks")
	errBadEncoding     = errf(http.StatusUnprocessableEntity, mesh.EventSend, mesh.CodeUnsupportedEncoding, "Unsupported content encoding")
	errFinalised       = errf(http.StatusLocked, "SEND", "", "Message already finalised, no more chunks accepted")
	errBadAccept       = invalid(errf(http.StatusBadRequest, "", "", "Accept header api format incorrect"), field{"header", "accept"})
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
	if r.Method == http.MethodHead {
		// No body, so no JSON type either (a HEAD may leave out what
		// only the body determines, RFC 9110 section 9.3.2).
		writeEmpty(w, me.Status)
		return
	}
	var bad *invalidError
	if v >= 2 && errors.As(err, &bad) {
		writeBody(w, me.Status, mesh.MediaTypeJSON, bad.body())
		return
	}
	writeBody(w, me.Status, jsonType(v), me.Body(v))
}

// field names what a 400 is about: where it is (header, query, path) and
// its name.
type field struct{ in, name string }

// invalidError is a 400 for a request that fails validation. The
// specification gives every 400 of every operation one body, FastAPI's
// HTTPValidationError ({"detail": [{"loc", "msg", "type"}]}) as
// application/json, whichever version was asked for — unlike every other
// v2 response (the v2 media type, MESH's own error shape). The schema wins:
// a v2 client gets it, one detail item per field, with the MESH event and
// code beside msg, where v2 clients read them. A v1 client keeps the v1
// body (errorEvent, errorCode, errorDescription), which the schema allows.
type invalidError struct {
	err     *Error
	fields  []field
	missing bool
}

func (e *invalidError) Error() string { return e.err.Error() }
func (e *invalidError) Unwrap() error { return e.err }

// invalid is a 400 about fields: e.Status should be 400.
func invalid(e *Error, fields ...field) error { return &invalidError{err: e, fields: fields} }

// missingFields is a 400 about required fields that are absent.
func missingFields(e *Error, fields ...field) error {
	return &invalidError{err: e, fields: fields, missing: true}
}

type validationItem struct {
	Loc   []string `json:"loc"`
	Msg   string   `json:"msg"`
	Type  string   `json:"type"`
	Event string   `json:"event"`
	Code  string   `json:"code"`
}

func (e *invalidError) body() []byte {
	typ := "value_error"
	if e.missing {
		typ = "value_error.missing"
	}
	fields := e.fields
	if len(fields) == 0 {
		fields = []field{{"request", ""}}
	}
	items := make([]validationItem, len(fields))
	for i, f := range fields {
		loc := []string{f.in}
		if f.name != "" {
			loc = append(loc, f.name)
		}
		items[i] = validationItem{Loc: loc, Msg: e.err.Description, Type: typ, Event: e.err.Event, Code: e.err.Code}
	}
	b, _ := json.Marshal(struct {
		MessageID string           `json:"message_id,omitempty"`
		Detail    []validationItem `json:"detail"`
	}{e.err.MessageID, items})
	return b
}
