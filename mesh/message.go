package mesh

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Message is the metadata of an inbox message, read from the Mex-* headers
// of a download or HEAD.
type Message struct {
	ID                string
	Type              string // MessageTypeData or MessageTypeReport
	From              string
	To                string
	WorkflowID        string
	Subject           string // may carry patient data: never log it
	LocalID           string
	PartnerID         string
	Filename          string
	Checksum          string
	ContentType       string // Mex-Content-Type, else Content-Type
	ContentEncoding   string // transport encoding of each chunk ("" or "gzip")
	Encrypted         bool
	Compressed        bool // the payload itself is compressed (not transport gzip)
	Chunk             ChunkRange
	ContentLength     int64 // of this chunk as sent, -1 if unknown
	LinkedMessageID   string
	StatusCode        string
	StatusEvent       string
	StatusDescription string
	StatusSuccess     string
	StatusTimestamp   time.Time
	ETag              string
}

// maxHeaderValue bounds any Mex-* value kept from a response.
const maxHeaderValue = 1000

// ParseMessageHeaders reads Message from response headers. It fails only on
// values that would make a download wrong (a bad chunk range or encoding);
// unknown or odd metadata is kept as text.
func ParseMessageHeaders(h http.Header) (Message, error) {
	get := func(k string) string { return clip(strings.TrimSpace(h.Get(k)), maxHeaderValue) }
	m := Message{
		ID:                get(HeaderMessageID),
		Type:              strings.ToUpper(get(HeaderMessageType)),
		From:              get(HeaderFrom),
		To:                get(HeaderTo),
		WorkflowID:        get(HeaderWorkflowID),
		Subject:           get(HeaderSubject),
		LocalID:           get(HeaderLocalID),
		PartnerID:         get(HeaderPartnerID),
		Filename:          get(HeaderFileName),
		Checksum:          get(HeaderContentChecksum),
		ContentType:       get(HeaderMexContentType),
		ContentEncoding:   strings.ToLower(get(HeaderContentEncoding)),
		LinkedMessageID:   get(HeaderLinkedMsgID),
		StatusCode:        get(HeaderStatusCode),
		StatusEvent:       get(HeaderStatusEvent),
		StatusDescription: get(HeaderStatusDescription),
		StatusSuccess:     strings.ToUpper(get(HeaderStatusSuccess)),
		ETag:              get(HeaderETag),
		ContentLength:     -1,
	}
	if m.Type == "" {
		m.Type = MessageTypeData
	}
	if m.ContentType == "" {
		m.ContentType = get(HeaderContentType)
	}
	m.Encrypted, _ = ParseFlag(get(HeaderContentEncrypted))
	m.Compressed, _ = ParseFlag(get(HeaderContentCompressed))
	if ts := get(HeaderStatusTimestamp); ts != "" {
		m.StatusTimestamp, _ = ParseTimestamp(ts)
	}
	if cl := get(HeaderContentLength); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			m.ContentLength = n
		}
	}
	switch m.ContentEncoding {
	case "", "identity":
		m.ContentEncoding = ""
	case "gzip":
	default:
		return m, fmt.Errorf("unsupported Content-Encoding %q", m.ContentEncoding)
	}
	cr := get(HeaderChunkRange)
	if cr == "1:0" && m.Type == MessageTypeReport { // sandbox reports
		cr = ""
	}
	r, err := ParseChunkRange(cr)
	if err != nil {
		return m, err
	}
	m.Chunk = r
	return m, nil
}

// IsReport reports whether the message is a MESH REPORT.
func (m Message) IsReport() bool { return m.Type == MessageTypeReport }

// ReportKind classifies a REPORT.
type ReportKind int

// Report kinds.
const (
	ReportOther        ReportKind = iota
	ReportUndelivered             // code 14: not collected in time or recipient deactivated
	ReportRouting                 // EPL-150..154: demographic (GPPROVIDER_…) routing failed
	ReportUnregistered            // code 12: unregistered recipient
)

func (k ReportKind) String() string {
	switch k {
	case ReportUndelivered:
		return "undelivered"
	case ReportRouting:
		return "routing-failed"
	case ReportUnregistered:
		return "unregistered-recipient"
	}
	return "other"
}

// Report is a parsed REPORT message: MESH telling the original sender that
// a message (LinkedMessageID) failed.
type Report struct {
	MessageID         string // the report's own ID (acknowledge this one)
	LinkedMessageID   string // the message the report is about
	Kind              ReportKind
	StatusCode        string // e.g. "14", "EPL-151"
	StatusEvent       string
	StatusDescription string
	StatusSuccess     bool // always false on a real report
	StatusTimestamp   time.Time
	WorkflowID        string
	LocalID           string
}

// Report returns the typed report when m is a REPORT, else ok=false.
func (m Message) Report() (r Report, ok bool) {
	if !m.IsReport() {
		return Report{}, false
	}
	r = Report{
		MessageID:         m.ID,
		LinkedMessageID:   m.LinkedMessageID,
		StatusCode:        m.StatusCode,
		StatusEvent:       m.StatusEvent,
		StatusDescription: m.StatusDescription,
		StatusSuccess:     m.StatusSuccess == StatusSuccessOK,
		StatusTimestamp:   m.StatusTimestamp,
		WorkflowID:        m.WorkflowID,
		LocalID:           m.LocalID,
	}
	switch {
	case m.StatusCode == CodeUndelivered:
		r.Kind = ReportUndelivered
	case strings.HasPrefix(m.StatusCode, "EPL-15"):
		r.Kind = ReportRouting
	case m.StatusCode == CodeUnregisteredRecipient:
		r.Kind = ReportUnregistered
	case m.StatusCode == "" && strings.Contains(strings.ToLower(m.StatusDescription), "not collected"):
		r.Kind = ReportUndelivered
	}
	return r, true
}

// WorkflowFilter is a parsed inbox workflow_filter: WF (equals), !WF,
// WF* (prefix), !WF*, *WF* (contains), !*WF*.
type WorkflowFilter struct {
	Not   bool
	Value string
	Kind  int // 0 equals, 1 prefix, 2 contains
}

// ParseWorkflowFilter parses a workflow_filter query value (2–255 chars).
func ParseWorkflowFilter(s string) (WorkflowFilter, error) {
	if len(s) < 2 || len(s) > 255 {
		return WorkflowFilter{}, fmt.Errorf("workflow_filter: want 2 to 255 characters, got %d", len(s))
	}
	var f WorkflowFilter
	v := s
	if rest, ok := strings.CutPrefix(v, "!"); ok {
		f.Not, v = true, rest
	}
	switch {
	case len(v) >= 2 && strings.HasPrefix(v, "*") && strings.HasSuffix(v, "*"):
		f.Kind, v = 2, v[1:len(v)-1]
	case strings.HasSuffix(v, "*"):
		f.Kind, v = 1, v[:len(v)-1]
	}
	if v == "" || strings.Contains(v, "*") {
		return WorkflowFilter{}, fmt.Errorf("workflow_filter %q: use WF, WF*, *WF* or their ! forms", s)
	}
	f.Value = v
	return f, nil
}

// Match reports whether workflow ID wf passes the filter.
func (f WorkflowFilter) Match(wf string) bool {
	var m bool
	switch f.Kind {
	case 1:
		m = strings.HasPrefix(wf, f.Value)
	case 2:
		m = strings.Contains(wf, f.Value)
	default:
		m = wf == f.Value
	}
	return m != f.Not
}
