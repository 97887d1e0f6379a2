package meshserver

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

// parseWorkflowFilter reads the six live forms: WF, !WF, WF*, !WF*, *WF*, !*WF*.
func parseWorkflowFilter(v string) (WorkflowFilter, error) {
	if v == "" {
		return WorkflowFilter{}, nil
	}
	if len(v) < 2 || len(v) > 255 {
		return WorkflowFilter{}, invalid(errf(http.StatusBadRequest, "", "", "workflow_filter must be 2 to 255 characters"), field{"query", "workflow_filter"})
	}
	f := WorkflowFilter{Op: FilterEquals}
	if rest, ok := strings.CutPrefix(v, "!"); ok {
		f.Negate, v = true, rest
	}
	switch {
	case len(v) >= 2 && strings.HasPrefix(v, "*") && strings.HasSuffix(v, "*"):
		f.Op, v = FilterContains, v[1:len(v)-1]
	case strings.HasSuffix(v, "*"):
		f.Op, v = FilterPrefix, v[:len(v)-1]
	}
	if v == "" || strings.Contains(v, "*") {
		return WorkflowFilter{}, invalid(errf(http.StatusBadRequest, "", "", "workflow_filter has an unsupported form"), field{"query", "workflow_filter"})
	}
	f.Value = v
	return f, nil
}

func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

// decodeCursor accepts a v2 opaque token or a v1 raw message id.
func decodeCursor(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if len(v) < 24 || len(v) > 1000 {
		return "", invalid(errf(http.StatusBadRequest, "", "", "continue_from must be 24 to 1000 characters"), field{"query", "continue_from"})
	}
	if b, err := base64.RawURLEncoding.DecodeString(v); err == nil && validID(string(b)) {
		return string(b), nil
	}
	if validID(strings.ToUpper(v)) {
		return strings.ToUpper(v), nil
	}
	return "", invalid(errf(http.StatusBadRequest, "", "", "continue_from is not a valid position"), field{"query", "continue_from"})
}

func validID(s string) bool {
	return s != "" && len(s) <= 100 && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	})
}

func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalid(errf(http.StatusBadRequest, "", "", "%s must be a whole number from %d to %d", name, lo, hi), field{"query", name})
	}
	return n, nil
}

// listInbox lists message ids ready to download (E2), oldest first.
func (s *Server) listInbox(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	limit, err := intParam(q, "max_results", 500, 10, 5000)
	if err != nil {
		return err
	}
	after, err := decodeCursor(q.Get("continue_from"))
	if err != nil {
		return err
	}
	filter, err := parseWorkflowFilter(q.Get("workflow_filter"))
	if err != nil {
		return err
	}
	page, err := withToken(s, r, c, func(tok *Token) (InboxPage, error) {
		return s.store.InboxPage(r.Context(), InboxPageParams{Token: tok, Mailbox: c.mailbox.ID, After: after,
			Limit: limit + 1, Filter: filter, Count: c.version >= 2})
	})
	if err != nil {
		return err
	}
	ids, count := page.IDs, page.Count
	if ids == nil {
		ids = []string{} // JSON [] rather than null
	}
	more := len(ids) > limit
	if more {
		ids = ids[:limit]
	}
	if c.version < 2 {
		writeJSON(w, c.version, http.StatusOK, map[string]any{"messages": ids})
		return nil
	}
	links := map[string]string{"self": r.URL.RequestURI()}
	if more {
		nq := url.Values{}
		nq.Set("max_results", strconv.Itoa(limit))
		nq.Set("continue_from", encodeCursor(ids[len(ids)-1]))
		if wf := q.Get("workflow_filter"); wf != "" {
			nq.Set("workflow_filter", wf)
		}
		links["next"] = "/messageexchange/" + url.PathEscape(c.mailbox.ID) + "/inbox?" + nq.Encode()
	}
	writeJSON(w, c.version, http.StatusOK, map[string]any{"messages": ids, "links": links, "approx_inbox_count": count})
	return nil
}

// count is the deprecated inbox count (D1).
func (s *Server) count(w http.ResponseWriter, r *http.Request, c *call) error {
	n, err := s.store.CountInbox(r.Context(), c.mailbox.ID)
	if err != nil {
		return err
	}
	if c.version >= 2 {
		writeJSON(w, c.version, http.StatusOK, map[string]int{"count": n})
		return nil
	}
	writeJSON(w, c.version, http.StatusOK, map[string]any{"count": n, "internalID": s.newMessageID(), "allResultsIncluded": true})
	return nil
}

func (s *Server) richInbox(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.rich(w, r, c, ListMessagesParams{Recipient: c.mailbox.ID}, 2000)
}

func (s *Server) richOutbox(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.rich(w, r, c, ListMessagesParams{Sender: c.mailbox.ID}, 100)
}

// rich lists messages in any status, newest first (S1, S2).
func (s *Server) rich(w http.ResponseWriter, r *http.Request, c *call, p ListMessagesParams, maxLimit int) error {
	q := r.URL.Query()
	limit, err := intParam(q, "max_results", 100, 1, 2000)
	if err != nil {
		return err
	}
	limit = min(limit, maxLimit)
	now := s.now()
	p.Since = now.Add(-30 * 24 * time.Hour)
	if st := q.Get("start_time"); st != "" {
		t, err := time.Parse(time.RFC3339, st)
		if err != nil {
			if t, err = time.Parse("2006-01-02T15:04:05", st); err != nil {
				return invalid(errf(http.StatusBadRequest, "", "", "start_time must be an ISO 8601 date-time"), field{"query", "start_time"})
			}
		}
		p.Since = t
	}
	if p.Before, err = decodeCursor(q.Get("continue_from")); err != nil {
		return err
	}
	p.Limit = limit + 1
	msgs, err := withToken(s, r, c, func(tok *Token) ([]Message, error) {
		return s.store.Rich(r.Context(), RichParams{Token: tok, ListMessagesParams: p})
	})
	if err != nil {
		return err
	}
	more := len(msgs) > limit
	if more {
		msgs = msgs[:limit]
	}
	out := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		out[i] = map[string]any{
			"message_id": m.ID, "expiry_timestamp": isoOrNil(m.ExpiresAt), "local_id": m.LocalID,
			"message_type": m.MessageType, "recipient": m.Recipient, "recipient_name": "", "sender": m.Sender,
			"sender_name": "", "sent_date": isoOrNil(m.CreatedAt), "status": m.Status, "status_code": m.StatusCode,
			"workflow_id": m.WorkflowID, "total_chunks": m.TotalChunks,
		}
	}
	links := map[string]string{"self": r.URL.RequestURI()}
	if more {
		nq := url.Values{}
		nq.Set("max_results", strconv.Itoa(limit))
		nq.Set("continue_from", encodeCursor(msgs[len(msgs)-1].ID))
		links["next"] = r.URL.Path + "?" + nq.Encode()
	}
	writeJSON(w, 2, http.StatusOK, map[string]any{"valid_at": now.Format(time.RFC3339), "messages": out, "links": links})
	return nil
}

func isoOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") || strings.TrimSpace(name) == "*" {
			p := strings.ReplaceAll(strings.ToLower(params), " ", "")
			return p != "q=0" && p != "q=0.0" && p != "q=0.00" && p != "q=0.000"
		}
	}
	return false
}

// download serves a message or one of its chunks (E3, E4, E5).
func (s *Server) download(w http.ResponseWriter, r *http.Request, c *call) error {
	id := strings.ToUpper(r.PathValue("id"))
	n := 1
	if ns := r.PathValue("n"); ns != "" {
		var err error
		if n, err = strconv.Atoi(ns); err != nil {
			return withID(errNoMessage, id)
		}
	}
	// Message, chunk record and, when the store keeps it inline, the
	// body come in one read.
	rd, err := withToken(s, r, c, func(tok *Token) (Download, error) {
		return s.store.Download(r.Context(), DownloadParams{Token: tok, ID: id, Chunk: n})
	})
	if errors.Is(err, ErrNotFound) {
		return withID(errNoMessage, id)
	}
	if err != nil {
		return err
	}
	m := rd.Message
	if m.Recipient != c.mailbox.ID {
		return withID(errNotYours, id)
	}
	if m.Status != StatusAccepted {
		return withID(errGone, id)
	}
	if n < 1 || n > m.TotalChunks {
		return withID(errNoMessage, id)
	}
	var body io.ReadCloser
	size := int64(0)
	if m.MessageType == TypeData {
		if !rd.HasChunk {
			return withID(errNoMessage, id)
		}
		size = rd.Chunk.Size
		switch {
		case r.Method == http.MethodHead:
		case rd.Inline:
			body = io.NopCloser(bytes.NewReader(rd.Body))
		default:
			if body, err = s.blobs.Open(r.Context(), rd.Chunk.BlobKey, 0); err != nil {
				return fmt.Errorf("open chunk %d of %s: %w", n, id, err)
			}
			defer body.Close()
		}
	}
	h := w.Header()
	setMessageHeaders(h, m, n)
	sum := sha1.Sum([]byte(fmt.Sprintf("%s/%d/%d", m.ID, n, size)))
	h.Set(mesh.HeaderETag, `"`+hex.EncodeToString(sum[:])+`"`)
	h.Set("Last-Modified", m.StatusAt.UTC().Format(http.TimeFormat))
	status := http.StatusOK
	if n < m.TotalChunks && r.Method != http.MethodHead {
		// 206 tells a client more chunks follow. A HEAD answers 200,
		// the one success the specification gives it; mex-chunk-range
		// says "1:N" all the same.
		status = http.StatusPartialContent
	}
	gunzip := m.ContentEncoding == "gzip" && !acceptsGzip(r)
	if m.ContentEncoding == "gzip" && !gunzip {
		h.Set(mesh.HeaderContentEncoding, "gzip")
	}
	if !gunzip {
		// Gunzipped on the fly, the length is not known: net/http sends
		// the body chunked (HTTP/1.1) or in frames (HTTP/2).
		h.Set(mesh.HeaderContentLength, strconv.FormatInt(size, 10))
	}
	w.WriteHeader(status)
	if body == nil {
		return nil
	}
	var src io.Reader = body
	if gunzip {
		zr, err := gzip.NewReader(body)
		if err != nil {
			s.log.ErrorContext(r.Context(), "stored chunk is not gzip", "message_id", id, "chunk", n)
			return nil
		}
		defer zr.Close()
		src = zr
	}
	written, err := io.Copy(w, src)
	s.metrics.bytesOut(written)
	if err != nil {
		s.log.InfoContext(r.Context(), "download interrupted", "message_id", id, "chunk", n, "bytes", written)
	}
	return nil
}

// setMessageHeaders writes the live download headers: the mex-* ones
// lower-case, as live MESH; Content-Type canonical (see writeBody).
func setMessageHeaders(h http.Header, m Message, n int) {
	set := func(k, v string) {
		if v != "" {
			h[k] = []string{v}
		}
	}
	set("mex-messageid", m.ID)
	set("mex-messagetype", m.MessageType)
	set("mex-from", m.Sender)
	set("mex-to", m.Recipient)
	set("mex-workflowid", m.WorkflowID)
	set("mex-subject", m.Subject)
	set("mex-localid", m.LocalID)
	set("mex-partnerid", m.PartnerID)
	set("mex-filename", m.FileName)
	set("mex-content-checksum", m.Checksum)
	set("mex-content-type", m.ContentType)
	set("mex-content-encrypted", m.Encrypted)
	set("mex-content-compressed", m.Compressed)
	set("mex-linkedmsgid", m.LinkedMsgID)
	set("mex-chunk-range", fmt.Sprintf("%d:%d", n, m.TotalChunks))
	set("mex-total-chunks", strconv.Itoa(m.TotalChunks))
	set("mex-addresstype", "ALL")
	set("mex-version", "1.0")
	ts := m.StatusAt.UTC().Format("20060102150405")
	if m.MessageType == TypeReport {
		set("mex-statuscode", m.StatusCode)
		set("mex-statusevent", m.StatusEvent)
		set("mex-statusdescription", m.StatusDescription)
		set("mex-statussuccess", "ERROR")
	} else {
		set("mex-statuscode", "00")
		set("mex-statusevent", "TRANSFER")
		set("mex-statusdescription", "Transferred to recipient mailbox")
		set("mex-statussuccess", "SUCCESS")
	}
	set("mex-statustimestamp", ts)
	// The body is always application/octet-stream, the one media type the
	// specification gives a download (200 and 206; its examples agree);
	// the sender's type travels in mex-content-type. (The NHS sandbox
	// sends the sender's type for a one-chunk message instead.)
	h.Set(mesh.HeaderContentType, mesh.MediaTypeOctetStream)
}

// acknowledge closes the transaction for a message (E6); a second ack of
// the same message succeeds again.
func (s *Server) acknowledge(w http.ResponseWriter, r *http.Request, c *call) error {
	id := strings.ToUpper(r.PathValue("id"))
	got, err := withToken(s, r, c, func(tok *Token) (Acknowledged, error) {
		return s.store.Acknowledge(r.Context(), AcknowledgeParams{Token: tok, Mailbox: c.mailbox.ID, ID: id,
			Code: "00", Event: "ACK", Description: "Message acknowledged", At: s.now()})
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return withID(errNoMessage, id)
	case err != nil:
		return err
	case got.Message.Recipient != c.mailbox.ID:
		return withID(errNotYours, id)
	case !got.Moved && got.Message.Status != StatusAcknowledged:
		return withID(errGone, id)
	}
	return acknowledged(w, c, id)
}

// acknowledged writes the answer to an acknowledgement.
func acknowledged(w http.ResponseWriter, c *call, id string) error {
	if c.version >= 2 {
		writeEmpty(w, http.StatusOK)
		return nil
	}
	writeJSON(w, c.version, http.StatusOK, map[string]string{"messageId": id})
	return nil
}
