package mesh

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is a MESH failure as both sides see it: the HTTP status and, when
// the server gave one, the MESH event, code and description, and the ID of
// the message concerned. The client returns *Error for every non-success
// response (use errors.As); a server renders one with [WriteError].
// Descriptions are MESH's own texts, never payload or subject content.
type Error struct {
	Status      int    // HTTP status, e.g. 417
	Event       string // e.g. EventSend
	Code        string // e.g. CodeUnregisteredRecipient
	Description string // e.g. "Unregistered to address"
	MessageID   string // message concerned, if any

	retryAfter time.Duration // from a Retry-After header, client side only
}

// NewError returns an *Error with the standard description of code.
func NewError(status int, event, code string) *Error {
	return &Error{Status: status, Event: event, Code: code, Description: CodeDescription(code)}
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("mesh: ")
	b.WriteString(strconv.Itoa(e.Status))
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Code != "" || e.Event != "" {
		fmt.Fprintf(&b, " (%s %s)", e.Event, e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.MessageID != "" {
		b.WriteString(" [message " + e.MessageID + "]")
	}
	return b.String()
}

// Is lets errors.Is(err, ErrNotFound) and friends match by status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrGone:
		return e.Status == http.StatusGone
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	}
	return false
}

// Temporary reports whether the status is one a client retries
// (408, 425, 429, 5xx).
func (e *Error) Temporary() bool { return RetryableStatus(e.Status) }

// Sentinels matched by *Error through errors.Is.
var (
	ErrNotFound  = errors.New("mesh: not found") // 404
	ErrGone      = errors.New("mesh: gone")      // 410
	ErrForbidden = errors.New("mesh: forbidden") // 403: authentication or permission
)

// RetryableStatus reports whether an HTTP status is transient.
func RetryableStatus(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return status >= 500 && status <= 599
}

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

// ParseErrorBody builds an *Error from a non-success status and its body,
// accepting the v2 and v1 shapes and anything else (a 5xx may be XML or
// empty). It never fails: an unreadable body leaves only the status.
func ParseErrorBody(status int, body []byte) *Error {
	e := &Error{Status: status}
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return e
	}
	str := func(k string) string {
		var s string
		if v, ok := raw[k]; ok && json.Unmarshal(v, &s) == nil {
			return s
		}
		return ""
	}
	e.MessageID = str("message_id")
	if e.MessageID == "" {
		e.MessageID = str("messageID")
	}
	if v, ok := raw["detail"]; ok {
		var ds []map[string]any
		if json.Unmarshal(v, &ds) == nil && len(ds) > 0 {
			d := ds[0]
			e.Event, _ = d["event"].(string)
			e.Code, _ = d["code"].(string)
			e.Description, _ = d["msg"].(string)
		} else {
			var s string
			if json.Unmarshal(v, &s) == nil {
				e.Description = s
			}
		}
	}
	if e.Code == "" && e.Description == "" {
		e.Event = str("errorEvent")
		e.Code = str("errorCode")
		e.Description = str("errorDescription")
	}
	if e.Description == "" {
		e.Description = str("message")
	}
	e.Description = clip(e.Description, 300)
	e.Event = clip(e.Event, 40)
	e.Code = clip(e.Code, 40)
	e.MessageID = clip(e.MessageID, 100)
	return e
}

func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Body returns the JSON error body for API version v (1 or 2).
func (e *Error) Body(v int) []byte {
	var b []byte
	if v >= 2 {
		b, _ = json.Marshal(ErrorResponse{MessageID: e.MessageID, Detail: []ErrorDetail{{Event: e.Event, Code: e.Code, Msg: e.Description}}})
	} else {
		b, _ = json.Marshal(ErrorResponseV1{MessageID: e.MessageID, ErrorEvent: e.Event, ErrorCode: e.Code, ErrorDescription: e.Description})
	}
	return b
}

// WriteError writes e as an HTTP response in the shape of API version v.
func WriteError(w http.ResponseWriter, v int, e *Error) {
	ct := MediaTypeJSON
	if v >= 2 {
		ct = MediaTypeV2
	}
	w.Header().Set(HeaderContentType, ct)
	w.WriteHeader(e.Status)
	_, _ = w.Write(e.Body(v))
}
