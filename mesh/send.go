package mesh

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// SendRequest is one message to send. Only To, WorkflowID and Body are
// required.
type SendRequest struct {
	To         string // recipient mailbox ID (or GPPROVIDER_… on routed workflows)
	WorkflowID string
	Subject    string // may carry patient data: never logged
	LocalID    string // your reference; lets the client reconcile an ambiguous send
	Filename   string
	// ContentType is the payload's media type (sent as Mex-Content-Type, and
	// as Content-Type when the message is one chunk); default
	// application/octet-stream.
	ContentType string
	// Compress gzips each chunk (Content-Encoding: gzip); receivers get the
	// original bytes back transparently.
	Compress bool
	// Checksum is passed through as Mex-Content-Checksum (e.g. "sha256:…").
	Checksum  string
	PartnerID string
	// Encrypted and Compressed describe the payload itself
	// (Mex-Content-Encrypted / Mex-Content-Compressed).
	Encrypted, PayloadCompressed bool
	// From is sent as Mex-From when set (it must be the client's mailbox).
	From string
	// Body is read once, one chunk at a time.
	Body io.Reader
	// Size is the exact number of bytes Body holds; 0 means unknown: the
	// size is taken from a file or seeker, or else Body is spooled to a
	// temporary file first.
	Size int64
	// Resume continues an interrupted chunked send (see *IncompleteSendError):
	// chunks before Resume.NextChunk are skipped in Body, not sent.
	Resume *Resume
	// Progress, if set, is called after each chunk with the payload bytes
	// sent so far and the total.
	Progress func(sent, total int64)
}

// Resume names where to continue an interrupted chunked send.
type Resume struct {
	MessageID string
	NextChunk int
}

// SendResult describes a message MESH accepted.
type SendResult struct {
	MessageID string
	Chunks    int
	Bytes     int64 // payload bytes before compression
	// Reconciled is true when the first POST failed ambiguously and the
	// message was then found by its local ID.
	Reconciled bool
}

// OutcomeUnknownError means the first POST of a message may or may not have
// created it, and the client could not find out. Do not resend blindly:
// check the outbox (tracking, rich outbox) for LocalID first.
type OutcomeUnknownError struct {
	LocalID  string
	Evidence []string // what the client tried and saw, in order
	Err      error    // the failure of the POST
}

func (e *OutcomeUnknownError) Error() string {
	id := "no local ID"
	if e.LocalID != "" {
		id = "local ID " + e.LocalID
	}
	return fmt.Sprintf("mesh send: outcome unknown (%s), check the outbox before sending again: %v; %s", id, e.Err, strings.Join(e.Evidence, "; "))
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// IncompleteSendError means MESH holds the message with chunks
// 1..NextChunk-1 but a later chunk could not be uploaded. Send again with the
// same body and options and Resume: &Resume{MessageID, NextChunk}.
type IncompleteSendError struct {
	MessageID   string
	NextChunk   int
	TotalChunks int
	Err         error
}

func (e *IncompleteSendError) Error() string {
	return fmt.Sprintf("mesh send: message %s is incomplete: chunk %d of %d failed: %v", e.MessageID, e.NextChunk, e.TotalChunks, e.Err)
}

func (e *IncompleteSendError) Unwrap() error { return e.Err }

// Send sends a message, in chunks of Config.ChunkSize payload bytes when it
// is larger, and returns its MESH message ID. Memory use is one chunk.
//
// The first POST is not retried unless the server provably did not act on it
// (connection refused, 425, 429). After an ambiguous failure (broken
// connection, timeout, 5xx) the client looks the message up by LocalID: if
// MESH has it the send continues; otherwise *OutcomeUnknownError. Later
// chunks are retried under the retry policy; if they still fail the error is
// *IncompleteSendError. MESH rejections are *Error (e.g. 417 code 12).
func (c *Client) Send(ctx context.Context, req SendRequest) (SendResult, error) {
	if err := req.validate(); err != nil {
		return SendResult{}, err
	}
	size := req.Size
	body := req.Body
	if size <= 0 {
		var cleanup func()
		var err error
		body, size, cleanup, err = c.sized(req.Body)
		if err != nil {
			return SendResult{}, err
		}
		defer cleanup()
	}
	cs := c.cfg.ChunkSize
	total := int((size + cs - 1) / cs)
	total = max(total, 1)
	s := &sender{c: c, req: req, body: body, size: size, total: total}
	return s.run(ctx)
}

func (r SendRequest) validate() error {
	var errs []error
	if strings.TrimSpace(r.To) == "" {
		//lint:ignore ST1005 the text starts with the field's name, as its siblings' do (WorkflowID, Body, Resume)
		errs = append(errs, errors.New("To (recipient mailbox) is empty"))
	}
	if strings.TrimSpace(r.WorkflowID) == "" {
		errs = append(errs, errors.New("WorkflowID is empty"))
	}
	if r.Body == nil {
		errs = append(errs, errors.New("Body is nil"))
	}
	for name, v := range map[string]string{"To": r.To, "WorkflowID": r.WorkflowID, "Subject": r.Subject, "LocalID": r.LocalID,
		"Filename": r.Filename, "ContentType": r.ContentType, "Checksum": r.Checksum, "PartnerID": r.PartnerID, "From": r.From} {
		if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			errs = append(errs, fmt.Errorf("%s has a control character", name))
		}
	}
	if r.Resume != nil && (r.Resume.MessageID == "" || r.Resume.NextChunk < 2) {
		errs = append(errs, errors.New("Resume needs a MessageID and a NextChunk ≥ 2"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mesh send: %w", err)
	}
	return nil
}

// sized returns body with its size: from a file's Stat, a Seeker, or a
// spool file. cleanup removes any spool file.
func (c *Client) sized(body io.Reader) (io.Reader, int64, func(), error) {
	nop := func() {}
	if f, ok := body.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			if off, err := f.Seek(0, io.SeekCurrent); err == nil {
				return body, fi.Size() - off, nop, nil
			}
		}
	} else if sk, ok := body.(io.Seeker); ok {
		cur, err1 := sk.Seek(0, io.SeekCurrent)
		end, err2 := sk.Seek(0, io.SeekEnd)
		_, err3 := sk.Seek(cur, io.SeekStart)
		if err1 == nil && err2 == nil && err3 == nil {
			return body, end - cur, nop, nil
		}
	}
	f, err := os.CreateTemp(c.cfg.TempDir, "gpcm-mesh-spool-*")
	if err != nil {
		return nil, 0, nop, fmt.Errorf("mesh send: spooling a body of unknown size: %w", err)
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	n, err := io.Copy(f, body)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		cleanup()
		return nil, 0, nop, fmt.Errorf("mesh send: spooling body: %w", err)
	}
	return f, n, cleanup, nil
}

type sender struct {
	c     *Client
	req   SendRequest
	body  io.Reader
	size  int64
	total int
	buf   bytes.Buffer // gzipped chunk
	raw   []byte       // plain chunk
	data  []byte       // the current chunk as sent: buf or raw
	gz    *gzip.Writer
	sent  int64
}

// next reads chunk n's payload into s.buf (gzipped if asked).
func (s *sender) next(n int) error {
	want := min(s.c.cfg.ChunkSize, s.size-int64(n-1)*s.c.cfg.ChunkSize)
	want = max(want, 0)
	s.buf.Reset()
	if s.req.Compress {
		s.buf.Grow(int(want) + int(want)/100 + 1024)
		if s.gz == nil {
			s.gz = gzip.NewWriter(&s.buf)
		} else {
			s.gz.Reset(&s.buf)
		}
		m, err := io.CopyN(s.gz, s.body, want)
		if err != nil {
			return fmt.Errorf("mesh send: reading chunk %d of the body (%d of %d bytes): %w", n, m, want, noEOF(err))
		}
		if err := s.gz.Close(); err != nil {
			return err
		}
		if s.buf.Len() > MaxRequestBytes {
			return fmt.Errorf("mesh send: chunk %d is %d bytes compressed, more than MESH's %d", n, s.buf.Len(), MaxRequestBytes)
		}
		s.data = s.buf.Bytes()
	} else {
		if int64(cap(s.raw)) < want {
			s.raw = make([]byte, want)
		}
		m, err := io.ReadFull(s.body, s.raw[:want])
		if err != nil {
			return fmt.Errorf("mesh send: reading chunk %d of the body (%d of %d bytes): %w", n, m, want, noEOF(err))
		}
		s.data = s.raw[:want]
	}
	s.sent += want
	return nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (s *sender) headers(n int) http.Header {
	h := http.Header{}
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	ct := s.req.ContentType
	if ct == "" {
		ct = MediaTypeOctetStream
	}
	if s.req.Compress {
		h.Set(HeaderContentEncoding, "gzip")
	}
	h.Set(HeaderChunkRange, ChunkRange{N: n, Total: s.total}.String())
	if n > 1 {
		h.Set(HeaderContentType, MediaTypeOctetStream)
		return h
	}
	if s.total > 1 {
		h.Set(HeaderContentType, MediaTypeOctetStream)
	} else {
		h.Set(HeaderContentType, ct)
	}
	set(HeaderMexContentType, ct)
	set(HeaderTo, strings.TrimSpace(s.req.To))
	set(HeaderWorkflowID, strings.TrimSpace(s.req.WorkflowID))
	set(HeaderSubject, s.req.Subject)
	set(HeaderLocalID, s.req.LocalID)
	set(HeaderFileName, s.req.Filename)
	set(HeaderContentChecksum, s.req.Checksum)
	set(HeaderPartnerID, s.req.PartnerID)
	set(HeaderFrom, s.req.From)
	h.Set(HeaderContentEncrypted, FormatFlag(s.req.Encrypted))
	h.Set(HeaderContentCompressed, FormatFlag(s.req.PayloadCompressed))
	return h
}

func (s *sender) progress() {
	if s.req.Progress != nil {
		s.req.Progress(s.sent, s.size)
	}
}

func (s *sender) run(ctx context.Context) (SendResult, error) {
	res := SendResult{Chunks: s.total, Bytes: s.size}
	first := 1
	if r := s.req.Resume; r != nil {
		res.MessageID = r.MessageID
		first = r.NextChunk
		skip := min(int64(first-1)*s.c.cfg.ChunkSize, s.size)
		if sk, ok := s.body.(io.Seeker); ok {
			if _, err := sk.Seek(skip, io.SeekCurrent); err != nil {
				return res, fmt.Errorf("mesh send: resuming: %w", err)
			}
		} else if _, err := io.CopyN(io.Discard, s.body, skip); err != nil {
			return res, fmt.Errorf("mesh send: resuming: skipping %d bytes: %w", skip, noEOF(err))
		}
		s.sent = skip
	} else {
		if err := s.next(1); err != nil {
			return res, err
		}
		id, reconciled, err := s.postFirst(ctx)
		if err != nil {
			return res, err
		}
		res.MessageID, res.Reconciled = id, reconciled
		s.progress()
		first = 2
	}
	for n := first; n <= s.total; n++ {
		if err := s.next(n); err != nil {
			return res, &IncompleteSendError{MessageID: res.MessageID, NextChunk: n, TotalChunks: s.total, Err: err}
		}
		path := s.c.mailboxPath("outbox", url.PathEscape(res.MessageID), strconv.Itoa(n))
		resp, err := s.c.do(ctx, call{op: "send chunk", method: http.MethodPost, path: path, header: s.headers(n),
			body: s.data, retry: true, ok: []int{http.StatusAccepted, http.StatusOK}})
		if err != nil {
			return res, &IncompleteSendError{MessageID: res.MessageID, NextChunk: n, TotalChunks: s.total, Err: err}
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		s.progress()
	}
	s.c.log.Debug("sent", "message_id", res.MessageID, "chunks", s.total, "bytes", s.size)
	return res, nil
}

// postFirst POSTs chunk 1 (already in s.buf) and returns the message ID.
func (s *sender) postFirst(ctx context.Context) (id string, reconciled bool, err error) {
	cl := call{op: "send", method: http.MethodPost, path: s.c.mailboxPath("outbox"), header: s.headers(1), body: s.data,
		ok: []int{http.StatusAccepted, http.StatusOK}, retryOnlyUnsent: true}
	started := s.c.cfg.Now()
	for attempt := 1; ; attempt++ {
		resp, aerr := s.c.attempt(ctx, cl, attempt)
		if aerr == nil {
			defer resp.Body.Close()
			var r struct {
				V2 string `json:"message_id"`
				V1 string `json:"messageID"`
			}
			if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&r); err != nil || (r.V2 == "" && r.V1 == "") {
				// Accepted, but we cannot tell the ID: same as ambiguous.
				return s.reconcile(ctx, started, fmt.Errorf("mesh send: 202 without a readable message_id"))
			}
			if r.V2 == "" {
				r.V2 = r.V1
			}
			return r.V2, false, nil
		}
		var me *Error
		isHTTP := errors.As(aerr.err, &me)
		if ctx.Err() != nil {
			// Cancelled mid-request: the server may have acted on it.
			return "", false, &OutcomeUnknownError{LocalID: s.req.LocalID, Err: aerr.err,
				Evidence: []string{"the context ended while the POST was in flight; nothing was checked"}}
		}
		if aerr.unsent {
			d, ok := s.c.cfg.Retry.Delay(attempt)
			if ok {
				if isHTTP && me.retryAfter > d {
					d = min(me.retryAfter, time.Minute)
				}
				s.c.log.Warn("send not accepted; retrying", "attempt", attempt, "wait", d, "err", aerr.err)
				if err := sleep(ctx, d); err != nil {
					return "", false, fmt.Errorf("mesh send: %w", err)
				}
				continue
			}
			return "", false, aerr.err
		}
		if isHTTP && !RetryableStatus(me.Status) {
			return "", false, aerr.err // a clear rejection: nothing was created
		}
		return s.reconcile(ctx, started, aerr.err)
	}
}

// reconcile looks for the message by local ID after an ambiguous first POST.
func (s *sender) reconcile(ctx context.Context, started time.Time, cause error) (string, bool, error) {
	ou := &OutcomeUnknownError{LocalID: s.req.LocalID, Err: cause}
	if s.req.LocalID == "" {
		ou.Evidence = append(ou.Evidence, "no local ID was given, so the outbox cannot be searched")
		return "", false, ou
	}
	s.c.log.Warn("first POST failed ambiguously; checking tracking by local ID", "err", cause)
	var t Tracking
	var err error
	for attempt := 1; ; attempt++ {
		t, err = s.c.TrackLocalID(ctx, s.req.LocalID)
		var me *Error
		if err == nil || errors.As(err, &me) && (me.Status == http.StatusNotFound || me.Status == http.StatusMultipleChoices) {
			break
		}
		d, ok := s.c.cfg.Retry.Delay(attempt)
		if !ok || sleep(ctx, d) != nil {
			break
		}
	}
	if err != nil {
		var me *Error
		switch {
		case errors.As(err, &me) && me.Status == http.StatusNotFound:
			ou.Evidence = append(ou.Evidence, "tracking by local ID found no message (the POST was probably not accepted, but it may still be in flight)")
		case errors.As(err, &me) && me.Status == http.StatusMultipleChoices:
			ou.Evidence = append(ou.Evidence, "tracking by local ID matched more than one message (local ID not unique)")
		default:
			ou.Evidence = append(ou.Evidence, fmt.Sprintf("tracking by local ID failed: %v", err))
		}
		return "", false, ou
	}
	if t.MessageID == "" {
		ou.Evidence = append(ou.Evidence, "tracking by local ID returned a record without a message ID")
		return "", false, ou
	}
	if ts, ok := MessageIDTime(t.MessageID); ok && ts.Before(started.Add(-10*time.Minute)) {
		ou.Evidence = append(ou.Evidence, fmt.Sprintf("tracking by local ID found message %s created before this send started (an older message with the same local ID)", t.MessageID))
		return "", false, ou
	}
	status := strings.ToLower(t.Status)
	if s.total > 1 && status != "" && status != StatusUploading {
		ou.Evidence = append(ou.Evidence, fmt.Sprintf("found message %s with status %q, but a chunked send needs it uploading", t.MessageID, t.Status))
		return "", false, ou
	}
	s.c.log.Info("ambiguous send reconciled by local ID", "message_id", t.MessageID, "status", status)
	return t.MessageID, true, nil
}
