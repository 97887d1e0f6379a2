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
	writeRaw(w, v, me.Status, me.Body(v))
}

func writeJSON(w http.ResponseWriter, v, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		b = []byte(`{}`)
	}
	writeRaw(w, v, status, b)
}

// writeRaw writes a JSON body with lower-case header names, as live MESH.
func writeRaw(w http.ResponseWriter, v, status int, b []byte) {
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
