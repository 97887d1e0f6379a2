package fhir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// inbuf reads input through a byte limit into a buffer that keeps only the
// unconsumed bytes (from pos) and grows only to hold one token, never
// past the limit. While capturing it also keeps the consumed bytes from
// capStart.
type inbuf struct {
	format   string // "xml" or "json", for errors
	r        io.Reader
	buf      []byte
	pos, end int
	base     int64 // input offset of buf[0]
	max      int64
	eof      bool
	rerr     error
	lines    int // newlines before buf[0]

	capturing bool
	capStart  int
	capBuf    []byte

	// ctx, when it can end, is checked before every read: each read is at
	// most one buffer, and the work per buffer is linear in its bytes.
	ctx     context.Context
	stopped bool
}

// watch makes fill stop once ctx ends.
func (s *inbuf) watch(ctx context.Context) {
	if ctx != nil && ctx.Done() != nil {
		s.ctx = ctx
	}
}

func newInbuf(r io.Reader, max int64) inbuf {
	return inbuf{format: "xml", r: r, buf: make([]byte, min(scanChunk, max+1)), max: max}
}

// skipBOM skips a UTF-8 byte order mark at the start of the input.
func (s *inbuf) skipBOM() {
	if s.need(3) && bytes.HasPrefix(s.buf[s.pos:s.end], []byte("\xEF\xBB\xBF")) {
		s.pos += 3
	}
}

func (s *inbuf) beginCaptureAt(i int) {
	s.capturing = true
	s.capStart = i
	s.capBuf = s.capBuf[:0]
}

func (s *inbuf) offset() int64 { return s.base + int64(s.pos) }

func (s *inbuf) line() int {
	return s.lines + bytes.Count(s.buf[:min(s.pos, s.end)], []byte{'\n'}) + 1
}

// fill reads more input, keeping buf[pos:end]. It reports false at end of
// input; s.rerr holds any read error (including a *LimitError).
func (s *inbuf) fill() bool {
	if s.eof {
		return false
	}
	if s.ctx != nil {
		select {
		case <-s.ctx.Done():
			s.eof, s.stopped = true, true
			s.rerr = fmt.Errorf("fhir: %s decoding stopped at byte %d: %w", s.format, s.offset(), context.Cause(s.ctx))
			return false
		default:
		}
	}
	keep := s.pos
	if s.capturing {
		s.capBuf = append(s.capBuf, s.buf[s.capStart:s.pos]...)
		s.capStart = 0
	}
	if keep > 0 {
		s.lines += bytes.Count(s.buf[:keep], []byte{'\n'})
		n := copy(s.buf, s.buf[keep:s.end])
		s.base += int64(keep)
		s.end = n
		s.pos = 0
	}
	if s.end == len(s.buf) {
		// one token fills the buffer: grow, but never past the byte limit
		n := min(int64(2*len(s.buf)), s.max+1)
		if n <= int64(len(s.buf)) {
			n = int64(len(s.buf)) + 1
		}
		nb := make([]byte, n)
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	room := int64(len(s.buf) - s.end)
	if left := s.max - (s.base + int64(s.end)) + 1; left < room {
		room = left
	}
	for {
		n, err := s.r.Read(s.buf[s.end : s.end+int(room)])
		s.end += n
		if s.base+int64(s.end) > s.max {
			s.eof = true
			s.rerr = &LimitError{Limit: "bytes", Max: s.max, Offset: s.max}
			return false
		}
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// need makes sure n bytes are available at pos.
func (s *inbuf) need(n int) bool {
	for s.end-s.pos < n {
		if !s.fill() {
			return s.end-s.pos >= n
		}
	}
	return true
}

func (s *inbuf) readErr(what string) error {
	if s.rerr != nil {
		var le *LimitError
		if errors.As(s.rerr, &le) {
			return le
		}
		if s.stopped {
			return s.rerr
		}
		return fmt.Errorf("fhir: reading %s: %w", s.format, s.rerr)
	}
	return &SyntaxError{Format: s.format, Line: s.line(), Offset: s.offset(), Msg: "unexpected end of input " + what}
}

// bigValueBytes is the length beyond which an attribute value or JSON
// string leaves the reader's buffers for a bigValue.
const bigValueBytes = 64 << 10

// bigValue accumulates one long value in chunks, so that it never needs a
// buffer that grows by copying: the value costs its length twice at most
// (chunks, then the string), and once when done.
type bigValue struct {
	chunks [][]byte
	n      int
	s      string
	done   bool
}

func (b *bigValue) write(p []byte) {
	for len(p) > 0 {
		if len(b.chunks) == 0 || len(b.chunks[len(b.chunks)-1]) == cap(b.chunks[len(b.chunks)-1]) {
			size := 2 * bigValueBytes << min(len(b.chunks), 6) // 128 KiB doubling to 8 MiB
			b.chunks = append(b.chunks, make([]byte, 0, size))
		}
		c := &b.chunks[len(b.chunks)-1]
		k := min(len(p), cap(*c)-len(*c))
		*c = append(*c, p[:k]...)
		p = p[k:]
		b.n += k
	}
}

// String returns the value; the first call releases the chunks.
func (b *bigValue) String() string {
	if b.done {
		return b.s
	}
	var sb strings.Builder
	sb.Grow(b.n)
	for i, c := range b.chunks {
		sb.Write(c)
		b.chunks[i] = nil
	}
	b.chunks = nil
	b.s, b.done = sb.String(), true
	return b.s
}

// endCapture stops recording and returns the bytes up to pos.
func (s *inbuf) endCapture() []byte {
	s.capturing = false
	return append(s.capBuf, s.buf[s.capStart:s.pos]...)
}
