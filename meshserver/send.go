package meshserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/mesh"
)

// handshake validates the mailbox (E1). Mex-ClientVersion, Mex-OSName and
// Mex-OSVersion are required on POST.
func (s *Server) handshake(w http.ResponseWriter, r *http.Request, c *call) error {
	if r.Method == http.MethodPost {
		var missing []string
		var fields []field
		for _, h := range []string{"Mex-ClientVersion", "Mex-OSName", "Mex-OSVersion"} {
			if r.Header.Get(h) == "" {
				missing = append(missing, h)
				fields = append(fields, field{"header", strings.ToLower(h)})
			}
		}
		if len(missing) > 0 {
			return missingFields(errf(http.StatusBadRequest, "", "", "missing required header(s): %s", strings.Join(missing, ", ")), fields...)
		}
	}
	if c.version >= 2 {
		writeEmpty(w, http.StatusOK)
		return nil
	}
	writeJSON(w, c.version, http.StatusOK, map[string]string{"mailboxId": c.mailbox.ID})
	return nil
}

// mexLimits are the maximum lengths of request metadata headers.
var mexLimits = map[string]int{
	"Mex-To": 100, "Mex-From": 100, "Mex-Workflowid": 300, "Mex-Chunk-Range": 20, "Mex-Subject": 500,
	"Mex-Localid": 300, "Mex-Partnerid": 500, "Mex-Filename": 300, "Mex-Content-Checksum": 100,
	"Mex-Content-Type": 100, "Mex-Content-Encrypted": 20, "Mex-Content-Compressed": 20,
}

// checkMexHeaders rejects control characters, over-long values and URL-like
// addresses in Mex-* headers (400, code 06), naming the fields only.
func checkMexHeaders(h http.Header) error {
	var bad []string
	for k, vs := range h {
		if !strings.HasPrefix(strings.ToLower(k), "mex-") {
			continue
		}
		ck := http.CanonicalHeaderKey(k)
		for _, v := range vs {
			switch {
			case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
				bad = append(bad, ck)
			case mexLimits[ck] > 0 && len(v) > mexLimits[ck]:
				bad = append(bad, ck)
			case (ck == "Mex-To" || ck == "Mex-Workflowid" || ck == "Mex-Content-Checksum") &&
				(strings.HasPrefix(strings.ToLower(v), "http://") || strings.HasPrefix(strings.ToLower(v), "https://")):
				bad = append(bad, ck)
			}
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		bad = slices.Compact(bad)
		fields := make([]field, len(bad))
		for i, k := range bad {
			fields[i] = field{"header", strings.ToLower(k)}
		}
		return invalid(errf(http.StatusBadRequest, "TRANSFER", "06", "MalformedControlFile: %s", strings.Join(bad, ", ")), fields...)
	}
	if cs := h.Get("Mex-Content-Checksum"); strings.ContainsFunc(cs, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ' || r == '\t' || r == ':' || r == '-' || r == '/')
	}) {
		return invalid(errf(http.StatusBadRequest, "SEND", "Invalid checksum", "Invalid checksum"), field{"header", "mex-content-checksum"})
	}
	return nil
}

// parseChunkRange parses "n:N" (mesh.ParseChunkRange); an empty header
// means 1:1. Totals above 100 000 are refused.
func parseChunkRange(v string) (n, total int, err error) {
	cr, err := mesh.ParseChunkRange(v)
	if err != nil || cr.Total > 100000 {
		return 0, 0, errBadChunkRange
	}
	return cr.N, cr.Total, nil
}

func contentEncoding(r *http.Request) (string, error) {
	ce := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch ce {
	case "", "identity":
		return "", nil
	case "gzip":
		return "gzip", nil
	}
	return "", errBadEncoding
}

func allowsWorkflow(mb Mailbox, wf string) bool {
	return len(mb.Workflows) == 0 || slices.Contains(mb.Workflows, wf)
}

func (s *Server) bodyReader(w http.ResponseWriter, r *http.Request) (io.Reader, error) {
	if r.ContentLength > s.cfg.MaxRequestBytes {
		return nil, errf(http.StatusRequestEntityTooLarge, "SEND", "", "request body larger than %d bytes", s.cfg.MaxRequestBytes)
	}
	return http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBytes), nil
}

// chunkKey names a chunk's blob: one directory per hour of message ids (so
// directories are rarely created), and a random part so that a re-sent
// chunk never overwrites the blob a committed row points at.
func chunkKey(id string, n int, nonce string) string {
	bucket := "other"
	if len(id) >= 10 && strings.Trim(id[:10], "0123456789") == "" {
		bucket = id[:10]
	}
	return fmt.Sprintf("mesh/%s/%s-%d-%s", bucket, id, n, nonce)
}

// storeChunk writes the body durably to blob storage and returns its key and
// size. An empty body is rejected before anything is kept.
func (s *Server) storeChunk(w http.ResponseWriter, r *http.Request, id string, n int) (string, int64, error) {
	key, size, _, err := s.readChunk(w, r, id, n, 0)
	return key, size, err
}

// readChunk reads the request body of chunk n. A body of at most inlineMax
// bytes (when inlineMax > 0) is returned whole, for the caller to store
// with the message row; a larger one is written durably to blob storage.
// It returns the blob key and size either way. An empty body is rejected
// before anything is kept.
func (s *Server) readChunk(w http.ResponseWriter, r *http.Request, id string, n int, inlineMax int64) (key string, size int64, inline []byte, err error) {
	body, err := s.bodyReader(w, r)
	if err != nil {
		return "", 0, nil, err
	}
	// Read ahead (at least one byte, so that an empty body is refused
	// without a blob), sized by Content-Length when it is given.
	limit := max(inlineMax+1, 1)
	var buf bytes.Buffer
	if cl := r.ContentLength; cl > 0 && cl < limit {
		buf.Grow(int(cl) + 1)
	}
	if _, err := io.CopyN(&buf, body, limit); err != nil && !errors.Is(err, io.EOF) {
		return "", 0, nil, slowBody(err)
	}
	head := buf.Bytes()
	k := len(head)
	if k == 0 {
		return "", 0, nil, withID(errEmptyBody, id)
	}
	key = chunkKey(id, n, randHex())
	if inlineMax > 0 && int64(k) <= inlineMax {
		s.metrics.bytesIn(int64(k))
		return key, int64(k), head, nil
	}
	// The length is known when the client gave Content-Length (net/http
	// then fails a body of any other length).
	size, err = blob.PutSized(r.Context(), s.blobs, key, io.MultiReader(bytes.NewReader(head), body), r.ContentLength)
	if err != nil {
		_ = s.blobs.Delete(context.WithoutCancel(r.Context()), key)
		return "", 0, nil, slowBody(err)
	}
	s.metrics.bytesIn(size)
	return key, size, nil, nil
}

// slowBody turns a body read cut by the connection's deadline (the client
// sent too slowly; see package httptimeout) into a 408, which is the
// client's doing, not the server's.
func slowBody(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errf(http.StatusRequestTimeout, "SEND", "", "request body not received in time")
	}
	return err
}

func flag(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "y", "yes", "t", "true", "on", "1":
		return "Y"
	case "n", "no", "f", "false", "off", "0":
		return "N"
	}
	return ""
}

// send accepts a message or the first chunk of one (E7).
func (s *Server) send(w http.ResponseWriter, r *http.Request, c *call) error {
	h := r.Header
	if err := checkMexHeaders(h); err != nil {
		return err
	}
	enc, err := contentEncoding(r)
	if err != nil {
		return err
	}
	n, total, err := parseChunkRange(h.Get("Mex-Chunk-Range"))
	if err != nil {
		return err
	}
	if n != 1 {
		return errBadChunkRange
	}
	to := strings.ToUpper(strings.TrimSpace(h.Get("Mex-To")))
	wf := strings.TrimSpace(h.Get("Mex-WorkflowID"))
	if to == "" {
		return errf(http.StatusExpectationFailed, "SEND", "08", "TO_DTS missing")
	}
	if wf == "" {
		return missingFields(errf(http.StatusBadRequest, "TRANSFER", "06", "MalformedControlFile: Mex-Workflowid"), field{"header", "mex-workflowid"})
	}
	if from := strings.TrimSpace(h.Get("Mex-From")); from != "" && !strings.EqualFold(from, c.mailbox.ID) {
		return errf(http.StatusExpectationFailed, "SEND", "07", "Invalid From Address")
	}
	if !allowsWorkflow(c.mailbox, wf) {
		// A caller seen earlier may have been given the workflow since.
		if err := s.spend(r, c); err != nil {
			return err
		}
		if !allowsWorkflow(c.mailbox, wf) {
			return errSenderWorkflow
		}
	}
	id := s.newMessageID()
	now := s.now()
	m := Message{
		ID: id, MessageType: TypeData, Sender: c.mailbox.ID, Recipient: to, WorkflowID: wf,
		Subject: h.Get("Mex-Subject"), LocalID: h.Get("Mex-LocalID"), PartnerID: h.Get("Mex-PartnerID"),
		FileName: h.Get("Mex-FileName"), Checksum: h.Get("Mex-Content-Checksum"),
		ContentType: h.Get("Mex-Content-Type"), ContentEncoding: enc,
		Encrypted: flag(h.Get("Mex-Content-Encrypted")), Compressed: flag(h.Get("Mex-Content-Compressed")),
		Status: StatusAccepted, TotalChunks: total, CreatedAt: now, StatusAt: now,
	}
	if m.ContentType == "" {
		m.ContentType = h.Get("Content-Type")
	}
	if m.FileName == "" {
		m.FileName = id + ".dat"
	}
	var route *routeFailure
	routed := strings.HasPrefix(to, "GPPROVIDER_") && slices.Contains(s.cfg.GPProviderWorkflows, wf)
	if routed {
		rcpt, fail, err := s.routeGPProvider(r, strings.TrimSpace(h.Get("Mex-To")), wf)
		if err != nil {
			return err
		}
		m.Recipient, route = rcpt, fail
	}
	// A body that may be larger than the store keeps inline is read only
	// once the recipient is known to take it and the token is recorded (a
	// replay must not cost an upload); a small one is read first and
	// stored with the token, the recipient check and the message in one
	// store call.
	inlineMax := s.store.InlineMax()
	small := r.ContentLength >= 0 && r.ContentLength <= inlineMax
	if !small {
		if !routed {
			if err := s.checkRecipient(r, to, wf, id); err != nil {
				return err
			}
		}
		if err := s.spend(r, c); err != nil {
			return err
		}
	}
	// Limits known before the body is read: its Content-Length against
	// the message's size limit and the recipient's quota.
	cl := max(r.ContentLength, 0)
	if err := s.checkSize(0, cl, 1, total); err != nil {
		return errWithID(err, id)
	}
	if route == nil {
		if err := s.takeQuota(r.Context(), m.Recipient, 1, cl); err != nil {
			return errWithID(err, id)
		}
	}
	key, size, inline, err := s.readChunk(w, r, id, 1, inlineMax)
	if err != nil {
		return err
	}
	// dropBody deletes the body stored in blob storage for a message
	// that is not stored after all.
	dropBody := func() {
		if inline == nil {
			_ = s.blobs.Delete(context.WithoutCancel(r.Context()), key)
		}
	}
	if r.ContentLength < 0 {
		// A body of unknown length is checked once it is read.
		err := s.checkSize(0, size, 1, total)
		if err == nil && route == nil {
			err = s.takeQuota(r.Context(), m.Recipient, 0, size)
		}
		if err != nil {
			dropBody()
			return errWithID(err, id)
		}
	}
	m.Size = size
	var rep *Message
	switch {
	case route != nil:
		m.Recipient = ""
		m.Status, m.StatusCode, m.StatusEvent, m.StatusDescription = StatusError, route.code, "SEND", route.desc
		report := s.report(m, route.code, "SEND", route.desc, s.now())
		rep = &report
	case total > 1:
		// An upload never completed expires like an unread message.
		m.Status, m.ExpiresAt = StatusUploading, now.Add(s.cfg.Expiry)
	default:
		m.ExpiresAt = now.Add(s.cfg.Expiry)
	}
	first := Chunk{MessageID: id, Number: 1, Size: size, BlobKey: key}
	_, err = withToken(s, r, c, func(tok *Token) (struct{}, error) {
		// After a changed mailbox the caller is as stored now: it may
		// have lost the workflow.
		if !allowsWorkflow(c.mailbox, wf) {
			return struct{}{}, errSenderWorkflow
		}
		return struct{}{}, s.store.Send(r.Context(), SendParams{Token: tok, Message: m, Chunk: first, Body: inline, Report: rep})
	})
	if errors.Is(err, ErrRecipient) {
		// The recipient cannot take the message (the store checked it
		// with the insert): read it to answer why.
		dropBody()
		if err := s.checkRecipient(r, m.Recipient, wf, id); err != nil {
			return err
		}
		return withID(errUnregistered, id)
	}
	if err != nil {
		dropBody()
		return err
	}
	if rep != nil {
		s.log.InfoContext(r.Context(), "report queued", "message_id", rep.ID, "linked_message_id", id, "code", route.code)
	}
	s.log.InfoContext(r.Context(), "message accepted", "message_id", id, "sender", c.mailbox.ID, "workflow", wf, "chunks", total, "bytes", size)
	return writeAccepted(w, c.version, id, 0)
}

// checkRecipient reads the recipient mailbox and returns the live error
// if it cannot take workflow wf.
func (s *Server) checkRecipient(r *http.Request, to, wf, id string) error {
	rcpt, err := s.store.GetMailbox(r.Context(), to)
	if errors.Is(err, ErrNotFound) || (err == nil && !rcpt.Active) {
		return withID(errUnregistered, id)
	}
	if err != nil {
		return err
	}
	if !allowsWorkflow(rcpt, wf) {
		return withID(errf(http.StatusExpectationFailed, "SEND", "17", "Workflow ID not registered for mailbox"), id)
	}
	return nil
}

func writeAccepted(w http.ResponseWriter, v int, id string, block int) error {
	if v >= 2 {
		writeJSON(w, v, http.StatusAccepted, map[string]string{"message_id": id})
		return nil
	}
	if block > 0 {
		writeJSON(w, v, http.StatusAccepted, map[string]any{"messageID": id, "blockID": block})
		return nil
	}
	writeJSON(w, v, http.StatusAccepted, map[string]string{"messageID": id})
	return nil
}

// sendChunk accepts chunk n of an uploading message (E8).
func (s *Server) sendChunk(w http.ResponseWriter, r *http.Request, c *call) error {
	id := strings.ToUpper(r.PathValue("id"))
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		return withID(errBadChunkRange, id)
	}
	if err := checkMexHeaders(r.Header); err != nil {
		return err
	}
	rn, rtotal, err := parseChunkRange(r.Header.Get("Mex-Chunk-Range"))
	if err != nil || r.Header.Get("Mex-Chunk-Range") == "" || rn != n {
		return withID(errBadChunkRange, id)
	}
	m, err := s.store.GetMessage(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		return withID(errf(http.StatusNotFound, "SEND", "20", "Message does not exist"), id)
	}
	if err != nil {
		return err
	}
	if m.Sender != c.mailbox.ID || m.MessageType != TypeData {
		return errf(http.StatusForbidden, "SEND", "", "Message does not belong to this mailbox")
	}
	if m.Status == StatusError && strings.HasPrefix(m.StatusCode, "EPL-") && n > 1 && n <= m.TotalChunks {
		// Routing failed and was reported; the sender may still be
		// uploading the rest. Accept and drop the chunks.
		body, err := s.bodyReader(w, r)
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return err
		}
		return writeAccepted(w, c.version, id, n)
	}
	if m.Status != StatusUploading {
		return withID(errFinalised, id)
	}
	if rtotal != m.TotalChunks {
		return withID(errBadChunkRange, id)
	}
	enc, err := contentEncoding(r)
	if err != nil {
		return err
	}
	if enc != m.ContentEncoding {
		return withID(errEncodingChanged, id)
	}
	old, oldErr := s.store.GetChunk(r.Context(), id, n)
	stored := m.Size
	if oldErr == nil {
		stored -= old.Size // a re-sent chunk replaces it
	}
	cl := max(r.ContentLength, 0)
	if err := s.checkSize(stored, cl, n, m.TotalChunks); err != nil {
		return errWithID(err, id)
	}
	if err := s.takeQuota(r.Context(), m.Recipient, 0, cl); err != nil {
		return errWithID(err, id)
	}
	key, size, err := s.storeChunk(w, r, id, n)
	if err != nil {
		return err
	}
	if r.ContentLength < 0 {
		err := s.checkSize(stored, size, n, m.TotalChunks)
		if err == nil {
			err = s.takeQuota(r.Context(), m.Recipient, 0, size)
		}
		if err != nil {
			_ = s.blobs.Delete(context.WithoutCancel(r.Context()), key)
			return errWithID(err, id)
		}
	}
	now := s.now()
	res, err := s.store.UploadChunk(r.Context(), UploadChunkParams{Sender: c.mailbox.ID,
		Chunk: Chunk{MessageID: id, Number: n, Size: size, BlobKey: key}, Now: now, ExpiresAt: now.Add(s.cfg.Expiry)})
	if err != nil {
		_ = s.blobs.Delete(r.Context(), key)
		if errors.Is(err, ErrConflict) {
			return withID(errFinalised, id)
		}
		return err
	}
	if res.Replaced != "" {
		_ = s.blobs.Delete(r.Context(), res.Replaced)
	}
	got := res.Message
	if got.Status == StatusAccepted {
		s.log.InfoContext(r.Context(), "chunked message complete", "message_id", id, "chunks", got.TotalChunks, "bytes", got.Size)
	}
	return writeAccepted(w, c.version, id, n)
}

// report builds a REPORT about orig for its sender.
func (s *Server) report(orig Message, code, event, desc string, at time.Time) Message {
	return Message{
		ID: s.newMessageID(), MessageType: TypeReport, Sender: "", Recipient: orig.Sender,
		WorkflowID: orig.WorkflowID, Subject: orig.Subject, LocalID: orig.LocalID, FileName: orig.FileName,
		PartnerID: orig.PartnerID, LinkedMsgID: orig.ID, Status: StatusAccepted, StatusCode: code,
		StatusEvent: event, StatusDescription: desc, TotalChunks: 1, CreatedAt: at, StatusAt: at,
	}
}

func randHex() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
