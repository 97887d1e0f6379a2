package fhir

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonScanner is a streaming JSON tokenizer over an inbuf: whitespace is
// consumed as it streams past, and only one string or number at a time
// is held in the buffer.
type jsonScanner struct {
	inbuf
	scratch []byte // long strings
	escBuf  []byte // decoded escapes
}

func newJSONScanner(r io.Reader, max int64) *jsonScanner {
	s := &jsonScanner{inbuf: newInbuf(r, max)}
	s.format = "json"
	return s
}

func (s *jsonScanner) errorf(format string, args ...any) error {
	return &SyntaxError{Format: "json", Line: s.line(), Offset: s.offset(), Msg: fmt.Sprintf(format, args...)}
}

// peek skips whitespace and returns the next byte, or 0 at end of input
// (check s.rerr through atEnd).
func (s *jsonScanner) peek() (byte, error) {
	for {
		for s.pos < s.end {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, nil
			}
		}
		if !s.fill() {
			if s.rerr != nil {
				return 0, s.readErr("")
			}
			return 0, nil
		}
	}
}

// expect consumes the byte c after optional whitespace.
func (s *jsonScanner) expect(c byte, what string) error {
	got, err := s.peek()
	if err != nil {
		return err
	}
	if got != c {
		return s.errorf("expected %s, found %s", what, describeByte(got))
	}
	s.pos++
	return nil
}

func describeByte(c byte) string {
	switch {
	case c == 0:
		return "end of input"
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	case c >= 0x20 && c < 0x7f:
		return fmt.Sprintf("'%c'", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// str reads a string; the next non-space byte must be '"'.
func (s *jsonScanner) str() (string, error) {
	if err := s.expect('"', "a string"); err != nil {
		return "", err
	}
	// Fast path: the whole string is in the buffer and is valid. Anything
	// else goes to longStr, which also reports the first of several errors
	// in input order, however the input was split into reads.
	start := s.pos // first byte after the quote
	escaped := false
	for i := start; i < s.end; i++ {
		c := s.buf[i]
		if c == '"' {
			var v string
			if escaped {
				b, err := s.unescape(s.buf[start:i])
				if err != nil {
					return s.longStr()
				}
				v = string(b)
			} else {
				if !utf8.Valid(s.buf[start:i]) {
					return s.longStr()
				}
				v = string(s.buf[start:i])
			}
			s.pos = i + 1
			return v, nil
		}
		if c == '\\' {
			escaped = true
			i++ // skip the escaped byte; \u digits are plain bytes
			continue
		}
		if c < 0x20 {
			break
		}
	}
	return s.longStr()
}

// longStr reads the rest of a string that goes on past the buffer,
// decoding as it streams: into scratch, or a bigValue once longer than
// bigValueBytes, so the buffer never grows to hold it.
func (s *jsonScanner) longStr() (string, error) {
	// Errors about the string's content name where it starts, as the fast
	// path's do, however the input was split into reads.
	at := &SyntaxError{Format: "json", Line: s.line(), Offset: s.offset()}
	contentErr := func(err error) error {
		var se *SyntaxError
		if errors.As(err, &se) {
			at.Msg = se.Msg
			return at
		}
		return err
	}
	out := s.scratch[:0]
	var big *bigValue
	emit := func(p []byte) {
		if big != nil {
			big.write(p)
			return
		}
		out = append(out, p...)
		if len(out) > bigValueBytes {
			big = &bigValue{}
			big.write(out)
			out = out[:0]
		}
	}
	for {
		i := s.pos
		for i < s.end {
			if c := s.buf[i]; c == '"' || c == '\\' || c < 0x20 {
				break
			}
			i++
		}
		emit(s.buf[s.pos:i])
		s.pos = i
		if i == s.end {
			if !s.fill() {
				return "", s.readErr("in string")
			}
			continue
		}
		switch c := s.buf[i]; {
		case c == '"':
			s.pos++
			var v string
			if big != nil {
				v = big.String()
			} else {
				v = string(out)
				s.scratch = out
			}
			if !utf8.ValidString(v) {
				at.Msg = "invalid UTF-8 in string"
				return "", at
			}
			return v, nil
		case c == '\\':
			s.need(12) // a surrogate pair \uXXXX\uXXXX
			esc := s.buf[s.pos:min(s.end, s.pos+12)]
			n := 2
			if len(esc) > 1 && esc[1] == 'u' {
				n = 6
				if len(esc) >= 12 && esc[6] == '\\' && esc[7] == 'u' {
					if r, ok := hex4(esc[2:]); ok && utf16.IsSurrogate(r) {
						n = 12
					}
				}
			}
			b, err := s.unescape(esc[:min(n, len(esc))])
			if err != nil {
				return "", contentErr(err)
			}
			emit(b)
			s.pos += min(n, len(esc))
		default:
			return "", s.errorf("control character in string")
		}
	}
}

// unescape decodes the escapes of a JSON string's content into scratch
// (which longStr also uses: callers copy the result before the next call).
func (s *jsonScanner) unescape(b []byte) ([]byte, error) {
	out := s.escBuf[:0]
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(b) {
			return nil, s.errorf("bad escape in string")
		}
		switch b[i] {
		case '"', '\\', '/':
			out = append(out, b[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b[i+1:])
			if !ok {
				return nil, s.errorf("bad \\u escape in string")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					r2, ok = hex4(b[i+3:])
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, s.errorf("bad escape \\%c in string", b[i])
		}
	}
	s.escBuf = out
	if !utf8.Valid(out) {
		return nil, s.errorf("invalid UTF-8 in string")
	}
	return out, nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n), err == nil
}

// scalar reads a number, true, false or null and returns its text.
func (s *jsonScanner) scalar() (string, error) {
	c, err := s.peek()
	if err != nil {
		return "", err
	}
	i := s.pos
	for {
		for i < s.end {
			c := s.buf[i]
			if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E' {
				i++
				continue
			}
			goto done
		}
		rel := i - s.pos
		if !s.fill() {
			if s.rerr != nil {
				return "", s.readErr("")
			}
			i = s.pos + rel
			goto done
		}
		i = s.pos + rel
	}
done:
	tok := string(s.buf[s.pos:i])
	switch {
	case tok == "true" || tok == "false" || tok == "null":
	case c == '-' || c >= '0' && c <= '9':
		if !validNumber(tok, false) {
			return "", s.errorf("malformed number")
		}
	default:
		return "", s.errorf("expected a value, found %s", describeByte(c))
	}
	s.pos = i
	return tok, nil
}

// skip consumes one value of any kind, at most depth levels deep.
func (s *jsonScanner) skip(depth int) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch c {
	case '"':
		_, err := s.str()
		return err
	case '{', '[':
		if depth <= 0 {
			return s.errorf("nesting too deep")
		}
		s.pos++
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		if n, err := s.peek(); err != nil {
			return err
		} else if n == close {
			s.pos++
			return nil
		}
		for {
			if c == '{' {
				if _, err := s.str(); err != nil {
					return err
				}
				if err := s.expect(':', "':'"); err != nil {
					return err
				}
			}
			if err := s.skip(depth - 1); err != nil {
				return err
			}
			n, err := s.peek()
			if err != nil {
				return err
			}
			s.pos++
			if n == close {
				return nil
			}
			if n != ',' {
				s.pos--
				return s.errorf("expected ',' or '%c', found %s", close, describeByte(n))
			}
		}
	}
	_, err = s.scalar()
	return err
}
