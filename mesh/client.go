package mesh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client talks to one MESH mailbox. It is safe for concurrent use.
type Client struct {
	cfg    Config
	base   *url.URL
	http   *http.Client
	signer *Signer
	log    *slog.Logger
}

// NewClient checks cfg and returns a Client. It makes no request.
func NewClient(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	hc, err := cfg.httpClient()
	if err != nil {
		return nil, err
	}
	base, _ := url.Parse(strings.TrimRight(cfg.URL, "/"))
	return &Client{
		cfg:    cfg,
		base:   base,
		http:   hc,
		signer: NewSigner(cfg.Mailbox, cfg.Password, cfg.SharedKey),
		log:    cfg.Logger.WithGroup("mesh"),
	}, nil
}

// Mailbox returns the client's (upper-cased) mailbox ID.
func (c *Client) Mailbox() string { return c.cfg.Mailbox }

// ChunkSize returns the configured chunk size.
func (c *Client) ChunkSize() int64 { return c.cfg.ChunkSize }

// call is one logical API request; do sends it, once or with retries.
type call struct {
	op     string // for logs and errors, e.g. "inbox"
	method string
	path   string // escaped, relative to the base URL, may carry a query
	header http.Header
	body   []byte // request body (re-sent on retry); nil for none
	noAuth bool
	retry  bool  // idempotent: retry per policy
	ok     []int // success statuses; default 200
	// retryOnlyUnsent limits retries to failures where the request
	// provably never reached the server (dial errors, 425, 429).
	retryOnlyUnsent bool
}

// attemptError wraps a failure with whether the request may have reached
// the server.
type attemptError struct {
	err     error
	unsent  bool // the server cannot have acted on the request
	attempt int
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

func (c *Client) url(path string) string {
	if strings.HasPrefix(path, "/") && c.base.Path != "" && !strings.HasPrefix(path, c.base.Path+"/") {
		path = c.base.Path + path
	}
	return c.base.Scheme + "://" + c.base.Host + path
}

func (c *Client) mailboxPath(parts ...string) string {
	var b strings.Builder
	b.WriteString("/messageexchange/")
	b.WriteString(url.PathEscape(c.cfg.Mailbox))
	for _, p := range parts {
		b.WriteString("/")
		b.WriteString(p)
	}
	return b.String()
}

// do runs cl and returns the successful response (body open) or an error:
// *Error for an HTTP failure, or a transport error.
func (c *Client) do(ctx context.Context, cl call) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		resp, aerr := c.attempt(ctx, cl, attempt)
		if aerr == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("mesh %s: %w", cl.op, context.Cause(ctx))
		}
		retryable := cl.retry || (cl.retryOnlyUnsent && aerr.unsent)
		var me *Error
		if errors.As(aerr.err, &me) && !me.Temporary() {
			retryable = false
		}
		if !retryable {
			return nil, aerr
		}
		d, ok := c.cfg.Retry.Delay(attempt)
		if !ok {
			return nil, aerr
		}
		if me != nil && me.retryAfter > d {
			d = min(me.retryAfter, time.Minute)
		}
		c.log.Warn("retrying", "op", cl.op, "attempt", attempt, "wait", d.Round(time.Millisecond), "err", aerr.err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("mesh %s: %w", cl.op, context.Cause(ctx))
		case <-t.C:
		}
	}
}

func (c *Client) attempt(ctx context.Context, cl call, attempt int) (*http.Response, *attemptError) {
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.url(cl.path), body)
	if err != nil {
		return nil, &attemptError{err: fmt.Errorf("mesh %s: %w", cl.op, err), attempt: attempt}
	}
	if cl.body != nil {
		b := cl.body
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req.ContentLength = int64(len(b))
	}
	for k, v := range cl.header {
		req.Header[k] = v
	}
	req.Header.Set(HeaderAccept, MediaTypeV2)
	req.Header.Set(HeaderUserAgent, c.userAgent())
	if !cl.noAuth {
		req.Header.Set(HeaderAuthorization, c.signer.Token(c.cfg.Now()).String())
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.Debug("request failed", "op", cl.op, "method", cl.method, "attempt", attempt, "err", err)
		return nil, &attemptError{err: fmt.Errorf("mesh %s: %w", cl.op, err), unsent: isDialError(err), attempt: attempt}
	}
	c.log.Debug("request", "op", cl.op, "method", cl.method, "status", resp.StatusCode, "attempt", attempt, "took", time.Since(start).Round(time.Millisecond))
	ok := cl.ok
	if ok == nil {
		ok = []int{http.StatusOK}
	}
	for _, s := range ok {
		if resp.StatusCode == s {
			return resp, nil
		}
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	me := ParseErrorBody(resp.StatusCode, b)
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			me.retryAfter = time.Duration(s) * time.Second
		}
	}
	unsent := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusTooEarly
	return nil, &attemptError{err: fmt.Errorf("mesh %s: %w", cl.op, me), unsent: unsent, attempt: attempt}
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func (c *Client) userAgent() string {
	return "gpcm;" + c.cfg.ClientVersion + ";N/A;" + runtime.GOARCH + ";" + runtime.GOOS + ";" + osVersion()
}

// osVersion is read once: opening a file on every request cost about 5 %
// of the CPU of a receiver round (BenchmarkReceiver profile).
var osVersion = sync.OnceValue(func() string {
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		return strings.TrimSpace(string(b))
	}
	return "unknown"
})

// getJSON GETs path and decodes a JSON body (bounded) into v.
func (c *Client) getJSON(ctx context.Context, op, path string, noAuth bool, v any) error {
	resp, err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, retry: true, noAuth: noAuth})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v); err != nil {
		return fmt.Errorf("mesh %s: reading response: %w", op, err)
	}
	return nil
}

// Handshake validates the mailbox (POST /messageexchange/{mailbox}) and
// announces the client and OS. MESH asks for it at start-up and at most
// once a day.
func (c *Client) Handshake(ctx context.Context) error {
	h := http.Header{}
	h.Set(HeaderClientVersion, c.cfg.ClientVersion)
	h.Set(HeaderOSName, runtime.GOOS)
	h.Set(HeaderOSVersion, osVersion())
	h.Set(HeaderOSArchitecture, runtime.GOARCH)
	h.Set(HeaderJavaVersion, "N/A")
	resp, err := c.do(ctx, call{op: "handshake", method: http.MethodPost, path: c.mailboxPath(), header: h, body: []byte{}, retry: true})
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return nil
}

// InboxOptions filters and pages an inbox listing.
type InboxOptions struct {
	// WorkflowFilter is a workflow_filter: WF, !WF, WF*, !WF*, *WF*, !*WF*.
	WorkflowFilter string
	// MaxResults is the page size (10..5000); 0 means the server default (500).
	MaxResults int
}

func (o InboxOptions) query() (url.Values, error) {
	q := url.Values{}
	if o.MaxResults != 0 {
		if o.MaxResults < MinInboxPage || o.MaxResults > MaxInboxPage {
			return nil, fmt.Errorf("mesh inbox: MaxResults %d outside %d..%d", o.MaxResults, MinInboxPage, MaxInboxPage)
		}
		q.Set("max_results", strconv.Itoa(o.MaxResults))
	}
	if o.WorkflowFilter != "" {
		if _, err := ParseWorkflowFilter(o.WorkflowFilter); err != nil {
			return nil, fmt.Errorf("mesh inbox: %w", err)
		}
		q.Set("workflow_filter", o.WorkflowFilter)
	}
	return q, nil
}

// InboxPage fetches one page of the inbox. next is "" for the first page,
// else the Links.Next of the previous page.
func (c *Client) InboxPage(ctx context.Context, opts InboxOptions, next string) (InboxResponse, error) {
	path := next
	if path == "" {
		q, err := opts.query()
		if err != nil {
			return InboxResponse{}, err
		}
		path = c.mailboxPath("inbox")
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
	} else if err := c.checkLink(next); err != nil {
		return InboxResponse{}, err
	}
	var r InboxResponse
	err := c.getJSON(ctx, "inbox", path, false, &r)
	return r, err
}

// checkLink refuses a paging link that points off the server's API.
func (c *Client) checkLink(next string) error {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
		return fmt.Errorf("mesh inbox: server sent an unusable links.next %q", clip(next, 200))
	}
	return nil
}

// Inbox lists every message ID in the inbox, following links.next until the
// server sends none (pages may be empty when filtered). Each ID appears once
// even if the server repeats one across pages.
func (c *Client) Inbox(ctx context.Context, opts InboxOptions) ([]string, error) {
	var ids []string
	seen := map[string]bool{}
	next := ""
	for page := 1; ; page++ {
		r, err := c.InboxPage(ctx, opts, next)
		if err != nil {
			return ids, err
		}
		for _, id := range r.Messages {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		if r.Links.Next == "" {
			return ids, nil
		}
		if r.Links.Next == next {
			return ids, fmt.Errorf("mesh inbox: server repeated the paging link on page %d", page)
		}
		next = r.Links.Next
	}
}

// RichInboxOptions selects a rich inbox or outbox listing.
type RichInboxOptions struct {
	StartTime  time.Time // zero means the server default (30 days ago)
	MaxResults int       // 0 means the server default (100)
}

// RichInbox lists inbox messages with metadata (newest first, including
// acknowledged ones), following links.next to the end.
func (c *Client) RichInbox(ctx context.Context, opts RichInboxOptions) ([]RichMessage, error) {
	return c.rich(ctx, "inbox", opts)
}

// RichOutbox lists sent messages with metadata, like RichInbox.
func (c *Client) RichOutbox(ctx context.Context, opts RichInboxOptions) ([]RichMessage, error) {
	return c.rich(ctx, "outbox", opts)
}

func (c *Client) rich(ctx context.Context, box string, opts RichInboxOptions) ([]RichMessage, error) {
	q := url.Values{}
	if !opts.StartTime.IsZero() {
		q.Set("start_time", opts.StartTime.UTC().Format(time.RFC3339))
	}
	if opts.MaxResults > 0 {
		q.Set("max_results", strconv.Itoa(opts.MaxResults))
	}
	path := c.mailboxPath(box, "rich")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out []RichMessage
	for range 10000 {
		var r RichInboxResponse
		if err := c.getJSON(ctx, "rich "+box, path, false, &r); err != nil {
			return out, err
		}
		out = append(out, r.Messages...)
		if r.Links.Next == "" || r.Links.Next == path {
			return out, nil
		}
		if err := c.checkLink(r.Links.Next); err != nil {
			return out, err
		}
		path = r.Links.Next
	}
	return out, fmt.Errorf("mesh rich %s: too many pages", box)
}

// Count returns the (deprecated) inbox count.
func (c *Client) Count(ctx context.Context) (int, error) {
	var r CountResponse
	err := c.getJSON(ctx, "count", c.mailboxPath("count"), false, &r)
	return r.Count, err
}

// Track returns the tracking record of a message this mailbox sent.
func (c *Client) Track(ctx context.Context, messageID string) (Tracking, error) {
	var t Tracking
	err := c.getJSON(ctx, "track", c.mailboxPath("outbox", "tracking")+"?messageID="+url.QueryEscape(messageID), false, &t)
	return t, err
}

// TrackLocalID returns the tracking record of the message this mailbox sent
// with local ID localID (deprecated MESH endpoint; 300 if it is not unique,
// reported as *Error with Status 300).
func (c *Client) TrackLocalID(ctx context.Context, localID string) (Tracking, error) {
	var v1 TrackingV1
	if err := c.getJSON(ctx, "track local id", c.mailboxPath("outbox", "tracking", url.PathEscape(localID)), false, &v1); err != nil {
		return Tracking{}, err
	}
	return v1.v2(), nil
}

func (t TrackingV1) v2() Tracking {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	var ok *bool
	if t.StatusSuccess != nil {
		b := strings.EqualFold(*t.StatusSuccess, StatusSuccessOK)
		ok = &b
	}
	id := t.MessageID
	if id == "" {
		id = t.DTSID
	}
	return Tracking{
		MessageID: id, LocalID: s(t.LocalID), WorkflowID: s(t.WorkflowID), Filename: s(t.FileName),
		ExpiryTime: s(t.ExpiryTime), UploadTimestamp: s(t.UploadTimestamp), Recipient: t.Recipient,
		RecipientName: s(t.RecipientName), RecipientODSCode: s(t.MeshRecipientODSCode), RecipientOrgCode: s(t.RecipientOrgCode),
		RecipientOrgName: s(t.RecipientOrgName), StatusSuccess: ok, Status: strings.ToLower(t.Status),
		StatusEvent: s(t.StatusEvent), StatusTimestamp: s(t.StatusTimestamp), StatusDescription: s(t.StatusDescription),
		StatusCode: s(t.StatusCode),
	}
}

// Lookup finds the mailboxes registered for workflowID at an ODS code.
// It needs no mailbox credentials on the server side.
func (c *Client) Lookup(ctx context.Context, odsCode, workflowID string) ([]LookupResult, error) {
	if odsCode == "" || workflowID == "" {
		return nil, errors.New("mesh lookup: ODS code and workflow ID are both required")
	}
	var r LookupResponse
	err := c.getJSON(ctx, "lookup", "/messageexchange/endpointlookup/"+url.PathEscape(odsCode)+"/"+url.PathEscape(workflowID), true, &r)
	return r.Results, err
}

// WorkflowSearch finds the mailboxes registered to receive workflowID.
func (c *Client) WorkflowSearch(ctx context.Context, workflowID string) ([]LookupResult, error) {
	if workflowID == "" {
		return nil, errors.New("mesh workflow search: workflow ID is required")
	}
	var r LookupResponse
	err := c.getJSON(ctx, "workflow search", "/messageexchange/workflowsearch/"+url.PathEscape(workflowID), true, &r)
	return r.Results, err
}

// Ack acknowledges a downloaded message, removing it from the inbox. Do it
// only once the payload is stored durably. When a retry follows an
// ambiguous failure, 404 or 410 means the earlier attempt succeeded.
func (c *Client) Ack(ctx context.Context, messageID string) error {
	if !ValidMessageID(messageID) {
		return fmt.Errorf("mesh ack: %q is not a message ID", clip(messageID, 100))
	}
	path := c.mailboxPath("inbox", url.PathEscape(messageID), "status", "acknowledged")
	for attempt := 1; ; attempt++ {
		resp, aerr := c.attempt(ctx, call{op: "ack", method: http.MethodPut, path: path, body: []byte{}}, attempt)
		if aerr == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			return nil
		}
		var me *Error
		isHTTP := errors.As(aerr.err, &me)
		if attempt > 1 && isHTTP && (me.Status == http.StatusNotFound || me.Status == http.StatusGone) {
			c.log.Info("ack retry found the message already gone; treating as acknowledged", "message_id", messageID)
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("mesh ack: %w", context.Cause(ctx))
		}
		if isHTTP && !me.Temporary() {
			return aerr
		}
		d, ok := c.cfg.Retry.Delay(attempt)
		if !ok {
			return aerr
		}
		if err := sleep(ctx, d); err != nil {
			return fmt.Errorf("mesh ack: %w", err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
