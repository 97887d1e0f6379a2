package mesh

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Head returns a message's metadata without its body.
func (c *Client) Head(ctx context.Context, messageID string) (Message, error) {
	if !ValidMessageID(messageID) {
		return Message{}, fmt.Errorf("mesh head: %q is not a message ID", clip(messageID, 100))
	}
	resp, err := c.do(ctx, call{op: "head", method: http.MethodHead, path: c.mailboxPath("inbox", url.PathEscape(messageID)), retry: true,
		ok: []int{http.StatusOK, http.StatusPartialContent}})
	if err != nil {
		return Message{}, err
	}
	resp.Body.Close()
	m, err := ParseMessageHeaders(resp.Header)
	if err != nil {
		return m, fmt.Errorf("mesh head %s: %w", messageID, err)
	}
	if m.ID == "" {
		m.ID = messageID
	}
	return m, nil
}

// Download is an open message: its metadata and a reader over the payload
// of chunks 1..N, fetched as the reader advances and gunzipped chunk by chunk
// when the server sends them gzip-encoded. A chunk whose transfer breaks is
// fetched again and the bytes already delivered are skipped. Close it.
type Download struct {
	Message Message

	c       *Client
	ctx     context.Context
	id      string
	chunk   int   // current chunk number
	total   int   // number of chunks
	done    int64 // decoded bytes of the current chunk already returned
	resp    *http.Response
	r       io.Reader // decoded current chunk
	gz      *gzip.Reader
	br      *bufio.Reader
	read    int64 // decoded bytes returned in all
	max     int64 // DownloadOptions.MaxBytes (0: no bound)
	retries int
	err     error
}

// DownloadOptions tune [Client.Download].
type DownloadOptions struct {
	// MaxBytes bounds the payload as the reader returns it, after
	// decompression: a reader that would go beyond it returns the first
	// MaxBytes bytes and then a *TooLargeError, and stops fetching and
	// decompressing. 0 means no bound.
	MaxBytes int64
}

// TooLargeError is returned by a Download's Read when the payload is
// longer than DownloadOptions.MaxBytes; errors.Is(err, ErrTooLarge) matches
// it. The bytes before the bound have been returned.
type TooLargeError struct {
	MessageID string
	MaxBytes  int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("mesh get %s: the payload is larger than %d bytes once decompressed", e.MessageID, e.MaxBytes)
}

// Is makes errors.Is(err, ErrTooLarge) match.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// ErrTooLarge is matched (errors.Is) by every *TooLargeError.
var ErrTooLarge = errors.New("mesh: payload larger than the download limit")

// Get opens a message for reading with no bound on its size: Download
// with zero options.
func (c *Client) Get(ctx context.Context, messageID string) (*Download, error) {
	return c.Download(ctx, messageID, DownloadOptions{})
}

// Download opens a message for reading. For a REPORT the body is usually
// empty; check Download.Message.Report(). With opts.MaxBytes the reader
// never returns, nor decompresses, more than that many bytes (a gzip bomb
// costs its compressed size on the wire and MaxBytes of decoding).
func (c *Client) Download(ctx context.Context, messageID string, opts DownloadOptions) (*Download, error) {
	if !ValidMessageID(messageID) {
		return nil, fmt.Errorf("mesh get: %q is not a message ID", clip(messageID, 100))
	}
	if opts.MaxBytes < 0 {
		return nil, fmt.Errorf("mesh get %s: MaxBytes %d is negative", messageID, opts.MaxBytes)
	}
	d := &Download{c: c, ctx: ctx, id: messageID, chunk: 1, total: 1, max: opts.MaxBytes}
	resp, err := d.fetch(1)
	if err != nil {
		return nil, err
	}
	m, err := ParseMessageHeaders(resp.Header)
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("mesh get %s: %w", messageID, err)
	}
	if m.ID == "" {
		m.ID = messageID
	}
	d.Message = m
	d.total = max(m.Chunk.Total, 1)
	if err := d.open(resp); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Download) fetch(n int) (*http.Response, error) {
	path := d.c.mailboxPath("inbox", url.PathEscape(d.id))
	if n > 1 {
		path += "/" + strconv.Itoa(n)
	}
	h := http.Header{}
	h.Set(HeaderAcceptEncoding, "gzip")
	return d.c.do(d.ctx, call{op: "download", method: http.MethodGet, path: path, header: h, retry: true,
		ok: []int{http.StatusOK, http.StatusPartialContent}})
}

// open starts decoding resp as the current chunk.
func (d *Download) open(resp *http.Response) error {
	d.resp = resp
	enc := resp.Header.Get(HeaderContentEncoding)
	switch enc {
	case "", "identity":
		d.r = resp.Body
	case "gzip":
		if d.br == nil {
			d.br = bufio.NewReaderSize(resp.Body, 64<<10)
		} else {
			d.br.Reset(resp.Body)
		}
		var err error
		if d.gz == nil {
			d.gz, err = gzip.NewReader(d.br)
		} else {
			err = d.gz.Reset(d.br)
		}
		if err != nil {
			resp.Body.Close()
			if errors.Is(err, io.EOF) { // empty gzip body: nothing to decode
				d.r = eofReader{}
				return nil
			}
			return fmt.Errorf("mesh get %s chunk %d: %w", d.id, d.chunk, err)
		}
		d.r = d.gz
	default:
		resp.Body.Close()
		return fmt.Errorf("mesh get %s chunk %d: unsupported Content-Encoding %q", d.id, d.chunk, enc)
	}
	if got := resp.Header.Get(HeaderChunkRange); got != "" && d.chunk > 1 {
		r, err := ParseChunkRange(got)
		if err != nil || r.N != d.chunk || r.Total != d.total {
			resp.Body.Close()
			return fmt.Errorf("mesh get %s: asked for chunk %d of %d, server sent %q", d.id, d.chunk, d.total, clip(got, 40))
		}
	}
	return nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Read implements io.Reader.
func (d *Download) Read(p []byte) (int, error) {
	if d.max > 0 && d.err == nil {
		// Ask for one byte beyond the bound at most: getting it proves the
		// payload too large without decoding further.
		if room := d.max - d.read + 1; int64(len(p)) > room {
			p = p[:room]
		}
	}
	for d.err == nil {
		n, err := d.r.Read(p)
		if d.max > 0 && d.read+int64(n) > d.max {
			n = int(d.max - d.read)
			d.resp.Body.Close()
			d.err = &TooLargeError{MessageID: d.id, MaxBytes: d.max}
			d.done += int64(n)
			d.read += int64(n)
			return n, d.err
		}
		d.done += int64(n)
		d.read += int64(n)
		if n > 0 {
			return n, nil
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF):
			d.resp.Body.Close()
			if d.chunk >= d.total {
				d.err = io.EOF
				break
			}
			d.chunk++
			d.done = 0
			d.err = d.reopen()
		default:
			d.resp.Body.Close()
			if d.ctx.Err() != nil {
				d.err = fmt.Errorf("mesh get %s: %w", d.id, context.Cause(d.ctx))
				break
			}
			d.err = d.resume(err)
		}
	}
	return 0, d.err
}

// reopen fetches the current chunk (again) and skips d.done bytes of it.
func (d *Download) reopen() error {
	resp, err := d.fetch(d.chunk)
	if err != nil {
		return fmt.Errorf("mesh get %s chunk %d of %d: %w", d.id, d.chunk, d.total, err)
	}
	if err := d.open(resp); err != nil {
		return err
	}
	if d.done > 0 {
		if _, err := io.CopyN(io.Discard, d.r, d.done); err != nil {
			d.resp.Body.Close()
			return fmt.Errorf("mesh get %s chunk %d: skipping %d bytes already read: %w", d.id, d.chunk, d.done, err)
		}
	}
	return nil
}

// resume handles a broken chunk transfer: retry under the policy.
func (d *Download) resume(cause error) error {
	d.retries++
	wait, ok := d.c.cfg.Retry.Delay(d.retries)
	if !ok {
		return fmt.Errorf("mesh get %s chunk %d of %d: %w", d.id, d.chunk, d.total, cause)
	}
	d.c.log.Warn("download broke; fetching the chunk again", "message_id", d.id, "chunk", d.chunk, "err", cause)
	if err := sleep(d.ctx, wait); err != nil {
		return fmt.Errorf("mesh get %s: %w", d.id, err)
	}
	return d.reopen()
}

// Chunks returns the number of chunks of the message.
func (d *Download) Chunks() int { return d.total }

// BytesRead returns the payload bytes returned so far.
func (d *Download) BytesRead() int64 { return d.read }

// Close releases the connection. It does not acknowledge the message.
func (d *Download) Close() error {
	if d.resp != nil {
		d.resp.Body.Close()
	}
	if d.err == nil {
		d.err = errors.New("mesh: download closed")
	}
	return nil
}
