package fhir

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// tokKind is the kind of an XML token.
type tokKind uint8

const (
	tokEOF tokKind = iota
	tokStart
	tokEnd
	tokText // character data or CDATA that is not only whitespace
)

type xmlAttr struct {
	name  []byte // qualified name
	value []byte // entity-decoded
}

// xmlScanner is a streaming tokenizer for the XML that FHIR uses. It reads
// through a byte limit into a buffer that only grows to hold one tag, skips
// comments, processing instructions and whitespace, rejects any DTD, checks
// that end tags match, and can capture the raw bytes of an element.
type xmlScanner struct {
	inbuf
	started bool

	// current token
	kind     tokKind
	name     []byte
	attrs    []xmlAttr
	selfEnd  bool
	tagStart int // buf index of '<' of the current start tag

	// open element names, for end tag matching
	stack []byte
	lens  []int
}

const scanChunk = 32 << 10

func (s *xmlScanner) errorf(format string, args ...any) error {
	return &SyntaxError{Format: "xml", Line: s.line(), Offset: s.offset(), Msg: fmt.Sprintf(format, args...)}
}

func newXMLScanner(r io.Reader, max int64) *xmlScanner {
	return &xmlScanner{inbuf: newInbuf(r, max)}
}

// skipUntil consumes input up to and including the delimiter.
func (s *xmlScanner) skipUntil(delim string, what string) error {
	for {
		if i := bytes.Index(s.buf[s.pos:s.end], []byte(delim)); i >= 0 {
			s.pos += i + len(delim)
			return nil
		}
		if s.end-s.pos >= len(delim) {
			s.pos = s.end - (len(delim) - 1)
		}
		if !s.fill() {
			return s.readErr("in " + what)
		}
	}
}

// next reads the next token. Whitespace, comments and processing
// instructions are skipped. Text is reported (without its content) unless
// it is only whitespace; in raw mode (capturing) all text is skipped.
func (s *xmlScanner) next(raw bool) (tokKind, error) {
	for {
		if s.pos >= s.end && !s.fill() {
			if s.rerr != nil {
				return tokEOF, s.readErr("")
			}
			if len(s.lens) > 0 {
				return tokEOF, s.errorf("unexpected end of input: element <%s> not closed", s.top())
			}
			s.kind = tokEOF
			return tokEOF, nil
		}
		c := s.buf[s.pos]
		if c != '<' {
			text, err := s.skipText(raw)
			if err != nil {
				return 0, err
			}
			if text {
				s.kind = tokText
				return tokText, nil
			}
			continue
		}
		if !s.need(2) {
			return 0, s.readErr("after '<'")
		}
		switch s.buf[s.pos+1] {
		case '?':
			if !s.started && s.need(6) && string(s.buf[s.pos:s.pos+6]) == "<?xml " {
				if err := s.checkDecl(); err != nil {
					return 0, err
				}
			}
			s.pos += 2
			if err := s.skipUntil("?>", "processing instruction"); err != nil {
				return 0, err
			}
			s.started = true
			continue
		case '!':
			s.need(9)
			rest := s.buf[s.pos:s.end]
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				s.pos += 4
				if err := s.skipUntil("-->", "comment"); err != nil {
					return 0, err
				}
				s.started = true
				continue
			case bytes.HasPrefix(rest, []byte("<![CDATA[")):
				if len(s.lens) == 0 {
					return 0, s.errorf("CDATA outside the root element")
				}
				s.pos += 9
				if err := s.skipUntil("]]>", "CDATA section"); err != nil {
					return 0, err
				}
				if raw {
					continue
				}
				s.kind = tokText
				return tokText, nil
			default:
				return 0, &SyntaxError{Format: "xml", Line: s.line(), Offset: s.offset(), Msg: "DOCTYPE/ENTITY declaration rejected: " + ErrDTD.Error(), Err: ErrDTD}
			}
		case '/':
			return s.endTag()
		default:
			return s.startTag()
		}
	}
}

func (s *xmlScanner) top() string {
	if len(s.lens) == 0 {
		return ""
	}
	return string(s.stack[len(s.stack)-s.lens[len(s.lens)-1]:])
}

func (s *xmlScanner) checkDecl() error {
	// the tag must be complete in the buffer to look at encoding
	for bytes.Index(s.buf[s.pos:s.end], []byte("?>")) < 0 {
		if !s.fill() {
			return s.readErr("in XML declaration")
		}
	}
	decl := s.buf[s.pos : s.pos+bytes.Index(s.buf[s.pos:s.end], []byte("?>"))]
	if i := bytes.Index(decl, []byte("encoding")); i >= 0 {
		v := bytes.ToLower(decl[i:])
		if !bytes.Contains(v, []byte("utf-8")) && !bytes.Contains(v, []byte("us-ascii")) {
			return s.errorf("only UTF-8 documents are supported")
		}
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// skipText consumes character data up to the next '<' and reports whether
// any of it was not whitespace.
func (s *xmlScanner) skipText(raw bool) (bool, error) {
	text := false
	for {
		i := s.pos
		for i < s.end && s.buf[i] != '<' {
			if !raw && !isSpace(s.buf[i]) {
				text = true
			}
			i++
		}
		s.pos = i
		if i < s.end {
			if len(s.lens) == 0 && (text || raw) {
				return false, s.errorf("text outside the root element")
			}
			return text, nil
		}
		if !s.fill() {
			if s.rerr != nil {
				return false, s.readErr("")
			}
			if len(s.lens) == 0 && !text {
				return false, nil
			}
			return false, s.errorf("unexpected end of input in text")
		}
	}
}

// tagEnd makes the whole tag starting at pos available and returns the
// index of its closing '>'.
func (s *xmlScanner) tagEnd() (int, error) {
	var quote byte
	i := s.pos + 1
	for {
		for ; i < s.end; i++ {
			c := s.buf[i]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '>':
				return i, nil
			case c == '<':
				return 0, s.errorf("'<' inside a tag")
			}
		}
		rel := i - s.pos
		if !s.fill() {
			return 0, s.readErr("inside a tag")
		}
		i = s.pos + rel
	}
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':' || c >= 0x80
}

func (s *xmlScanner) startTag() (tokKind, error) {
	gt, err := s.tagEnd()
	if err != nil {
		return 0, err
	}
	s.tagStart = s.pos
	tag := s.buf[s.pos+1 : gt]
	s.selfEnd = false
	if len(tag) > 0 && tag[len(tag)-1] == '/' {
		s.selfEnd = true
		tag = tag[:len(tag)-1]
	}
	i := 0
	for i < len(tag) && isNameByte(tag[i]) {
		i++
	}
	if i == 0 || tag[0] >= '0' && tag[0] <= '9' || tag[0] == '-' || tag[0] == '.' {
		return 0, s.errorf("malformed start tag")
	}
	s.name = tag[:i]
	s.attrs = s.attrs[:0]
	for {
		j := i
		for i < len(tag) && isSpace(tag[i]) {
			i++
		}
		if i == len(tag) {
			break
		}
		if i == j {
			return 0, s.errorf("malformed start tag <%s>: expected space before attribute", s.name)
		}
		ns := i
		for i < len(tag) && isNameByte(tag[i]) {
			i++
		}
		if i == ns {
			return 0, s.errorf("malformed attribute in <%s>", s.name)
		}
		an := tag[ns:i]
		for i < len(tag) && isSpace(tag[i]) {
			i++
		}
		if i == len(tag) || tag[i] != '=' {
			return 0, s.errorf("attribute %s in <%s> has no value", an, s.name)
		}
		i++
		for i < len(tag) && isSpace(tag[i]) {
			i++
		}
		if i == len(tag) || tag[i] != '"' && tag[i] != '\'' {
			return 0, s.errorf("attribute %s in <%s> is not quoted", an, s.name)
		}
		q := tag[i]
		i++
		vs := i
		for i < len(tag) && tag[i] != q {
			i++
		}
		if i == len(tag) {
			return 0, s.errorf("attribute %s in <%s> is not closed", an, s.name)
		}
		v, err := s.unescape(tag[vs:i])
		if err != nil {
			return 0, err
		}
		i++
		for _, a := range s.attrs {
			if bytes.Equal(a.name, an) {
				return 0, s.errorf("attribute %s repeated in <%s>", an, s.name)
			}
		}
		s.attrs = append(s.attrs, xmlAttr{name: an, value: v})
	}
	s.started = true
	s.pos = gt + 1
	if !s.selfEnd {
		s.stack = append(s.stack, s.name...)
		s.lens = append(s.lens, len(s.name))
	}
	s.kind = tokStart
	return tokStart, nil
}

func (s *xmlScanner) endTag() (tokKind, error) {
	gt, err := s.tagEnd()
	if err != nil {
		return 0, err
	}
	name := bytes.TrimRight(s.buf[s.pos+2:gt], " \t\r\n")
	if len(s.lens) == 0 {
		return 0, s.errorf("unexpected end tag </%s>", name)
	}
	n := s.lens[len(s.lens)-1]
	open := s.stack[len(s.stack)-n:]
	if !bytes.Equal(open, name) {
		return 0, s.errorf("end tag </%s> does not match <%s>", name, open)
	}
	s.stack = s.stack[:len(s.stack)-n]
	s.lens = s.lens[:len(s.lens)-1]
	s.name = open
	s.pos = gt + 1
	s.kind = tokEnd
	return tokEnd, nil
}

// unescape decodes character and predefined entity references and
// normalises line ends; it checks UTF-8. The result may alias b.
func (s *xmlScanner) unescape(b []byte) ([]byte, error) {
	if bytes.IndexByte(b, '&') < 0 && bytes.IndexByte(b, '\r') < 0 {
		if !utf8.Valid(b) {
			return nil, s.errorf("invalid UTF-8 in attribute value")
		}
		return b, nil
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch c {
		case '\r':
			out = append(out, '\n')
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
		case '&':
			j := bytes.IndexByte(b[i:], ';')
			if j < 0 {
				return nil, s.errorf("unterminated entity reference")
			}
			ent := string(b[i+1 : i+j])
			i += j
			switch ent {
			case "lt":
				out = append(out, '<')
			case "gt":
				out = append(out, '>')
			case "amp":
				out = append(out, '&')
			case "quot":
				out = append(out, '"')
			case "apos":
				out = append(out, '\'')
			default:
				r, ok := charRef(ent)
				if !ok {
					return nil, s.errorf("unknown entity &%s; (only the five XML entities and character references are allowed)", clip(ent))
				}
				out = utf8.AppendRune(out, r)
			}
		default:
			out = append(out, c)
		}
	}
	if !utf8.Valid(out) {
		return nil, s.errorf("invalid UTF-8 in attribute value")
	}
	return out, nil
}

func charRef(ent string) (rune, bool) {
	if len(ent) < 2 || ent[0] != '#' {
		return 0, false
	}
	base, digits := 10, ent[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	if digits == "" || len(digits) > 8 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(digits) {
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return 0, false
		}
		r = r*rune(base) + d
	}
	if r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
		return r, true
	}
	return 0, false
}

// beginCapture starts recording raw input from the current start tag.
func (s *xmlScanner) beginCapture() { s.beginCaptureAt(s.tagStart) }

// endCapture stops recording and returns the bytes up to pos.
func (s *inbuf) endCapture() []byte {
	s.capturing = false
	return append(s.capBuf, s.buf[s.capStart:s.pos]...)
}
