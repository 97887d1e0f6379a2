package fhir

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of an XML token.
type tokKind uint8

const (
	tokEOF tokKind = iota
	tokStart
	tokEnd
	tokText // character data or CDATA (in text mode), or text that is not only whitespace
)

// Namespace names that XML and XML Namespaces reserve.
const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
)

// Fixed bounds of the tokenizer (the configurable ones are in DecodeOptions).
const (
	scanChunk    = 32 << 10 // read buffer; it never grows for XML
	maxNameBytes = 4096     // longest element or attribute name
	maxRefBytes  = 64       // longest character or entity reference
	maxDeclBytes = 512      // longest XML declaration
	textChunk    = 64 << 10 // most character data returned in one tokText
)

// xmlAttr is one attribute of a start tag (namespace declarations are not
// attributes here), its namespace resolved.
type xmlAttr struct {
	qname []byte // as written, for messages
	space string // namespace name; "" for an unprefixed attribute
	local []byte
	value []byte // normalised value; nil when big holds it
	big   *bigValue
}

// str returns the attribute's value as a new string.
func (a *xmlAttr) str() string {
	if a.big != nil {
		return a.big.String()
	}
	return string(a.value)
}

// rawAttr is an attribute while its tag is read: offsets into the arena.
type rawAttr struct {
	q0, q1 int // qualified name
	v0, v1 int // value, unless big
	big    *bigValue
	decl   bool // xmlns or xmlns:prefix
}

// nsBinding is one namespace declaration in scope; prev is the index of
// the binding of the same prefix it hides, or -1.
type nsBinding struct {
	prefix, uri string
	prev        int
}

// openElem is an element whose end tag is awaited.
type openElem struct {
	n    int // length of its qualified name at the end of stack
	mark int // len(binds) before its declarations
}

// xmlScanner is a streaming, namespace-aware tokenizer for XML 1.0 with
// Namespaces 1.0, without DTDs. It reads through a byte limit into a
// buffer of fixed size: names, attribute values and text are copied out as
// they stream past, and attribute values longer than bigValueBytes go to a
// chunked store, so no token needs the whole of itself in the buffer. It
// skips comments and processing instructions (checking their syntax),
// rejects any DTD, normalises line ends and attribute values (XML 1.0
// §2.11, §3.3.3), checks characters, names and the matching of end tags,
// resolves prefixes and refuses duplicate attributes by expanded name.
// Every step costs time linear in the bytes it consumes.
type xmlScanner struct {
	inbuf
	maxAttrs, maxNS int
	started         bool // markup seen: no XML declaration any more
	inCDATA         bool // text mode stopped inside a CDATA section

	// current token
	kind    tokKind
	name    []byte // qualified name of the start or end tag
	space   string // namespace of the start tag's element
	local   []byte
	attrs   []xmlAttr
	selfEnd bool
	text    []byte // character data of a tokText in text mode

	// the start tag being read
	arena    []byte
	raw      []rawAttr
	valStart int
	bigv     *bigValue
	refBuf   [8]byte

	// open elements and namespaces in scope
	stack    []byte
	open     []openElem
	binds    []nsBinding
	nsIdx    map[string]int
	defNS    string
	popSelf  bool // the current token is a self-closing tag whose declarations end with it
	selfMark int
}

func newXMLScanner(r io.Reader, l limits) *xmlScanner {
	return &xmlScanner{inbuf: newInbuf(r, l.bytes), maxAttrs: l.attrs, maxNS: l.nsDecls}
}

func (s *xmlScanner) errorf(format string, args ...any) error {
	return &SyntaxError{Format: "xml", Line: s.line(), Offset: s.offset(), Msg: fmt.Sprintf(format, args...)}
}

func (s *xmlScanner) limitErr(limit string, max int) error {
	return &LimitError{Limit: limit, Max: int64(max), Offset: s.offset()}
}

// Byte classes of the scanning loops: a byte not marked in a table is
// copied or skipped without a second look.
var (
	textStop    = byteSet("<&\r]", true)       // character data
	attrStop    = byteSet("<&\"'\t\n\r", true) // attribute values
	commentStop = byteSet("-", true)
	piStop      = byteSet("?", true)
	cdataStop   = byteSet("]\r", true)
	nameByte    = nameBytes()
)

// byteSet marks the bytes of s, and with ctl also the C0 controls and
// every byte of a multi-byte UTF-8 sequence (which need checking).
func byteSet(s string, ctl bool) *[256]bool {
	var t [256]bool
	for i := 0; i < len(s); i++ {
		t[s[i]] = true
	}
	if ctl {
		for c := 0; c < 0x20; c++ {
			if c != '\t' && c != '\n' {
				t[c] = true
			}
		}
		for c := 0x80; c < 0x100; c++ {
			t[c] = true
		}
	}
	return &t
}

func nameBytes() *[256]bool {
	var t [256]bool
	for c := 0; c < 0x80; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':'
	}
	return &t
}

// isNameStartRune and isNameRune are XML 1.0 (fifth edition) NameStartChar
// and NameChar beyond ASCII.
func isNameStartRune(r rune) bool {
	return r >= 0xC0 && r <= 0xD6 || r >= 0xD8 && r <= 0xF6 || r >= 0xF8 && r <= 0x2FF ||
		r >= 0x370 && r <= 0x37D || r >= 0x37F && r <= 0x1FFF || r >= 0x200C && r <= 0x200D ||
		r >= 0x2070 && r <= 0x218F || r >= 0x2C00 && r <= 0x2FEF || r >= 0x3001 && r <= 0xD7FF ||
		r >= 0xF900 && r <= 0xFDCF || r >= 0xFDF0 && r <= 0xFFFD || r >= 0x10000 && r <= 0xEFFFF
}

func isNameRune(r rune) bool {
	return isNameStartRune(r) || r == 0xB7 || r >= 0x300 && r <= 0x36F || r >= 0x203F && r <= 0x2040
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// next reads the next token. Comments and processing instructions are
// skipped. In text mode character data and CDATA are decoded into s.text
// (in pieces of at most textChunk bytes); otherwise whitespace is skipped
// and other text reported as tokText without its content.
func (s *xmlScanner) next(text bool) (tokKind, error) {
	if s.popSelf {
		s.popNS(s.selfMark)
		s.popSelf = false
	}
	if s.inCDATA {
		return s.charData()
	}
	for {
		if s.pos >= s.end && !s.fill() {
			if s.rerr != nil {
				return tokEOF, s.readErr("")
			}
			if len(s.open) > 0 {
				return tokEOF, s.errorf("unexpected end of input: element <%s> not closed", clip(s.top()))
			}
			s.kind = tokEOF
			return tokEOF, nil
		}
		c := s.buf[s.pos]
		if c != '<' {
			if len(s.open) == 0 {
				if err := s.spaceOutside(); err != nil {
					return 0, err
				}
				continue
			}
			if text {
				return s.charData()
			}
			only, err := s.skipSpace()
			if err != nil {
				return 0, err
			}
			if !only {
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
			if err := s.pi(); err != nil {
				return 0, err
			}
		case '!':
			s.need(9)
			rest := s.buf[s.pos:s.end]
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				if err := s.comment(); err != nil {
					return 0, err
				}
			case bytes.HasPrefix(rest, []byte("<![CDATA[")):
				if len(s.open) == 0 {
					return 0, s.errorf("CDATA outside the root element")
				}
				s.pos += 9
				if text {
					s.inCDATA = true
					return s.charData()
				}
				only, err := s.skipCDATA()
				if err != nil {
					return 0, err
				}
				if !only {
					s.kind = tokText
					return tokText, nil
				}
			case bytes.HasPrefix(rest, []byte("<!-")):
				return 0, s.errorf("malformed comment")
			default:
				return 0, &SyntaxError{Format: "xml", Line: s.line(), Offset: s.offset(), Msg: "DOCTYPE/ENTITY declaration rejected: " + ErrDTD.Error(), Err: ErrDTD}
			}
		case '/':
			return s.endTag()
		default:
			return s.startTag()
		}
		s.started = true
	}
}

func (s *xmlScanner) top() string {
	if len(s.open) == 0 {
		return ""
	}
	return string(s.stack[len(s.stack)-s.open[len(s.open)-1].n:])
}

// spaceOutside consumes whitespace before or after the root element.
func (s *xmlScanner) spaceOutside() error {
	only, err := s.skipSpace()
	if err != nil {
		return err
	}
	if !only {
		return s.errorf("text outside the root element")
	}
	return nil
}

// skipSpace consumes whitespace up to the next '<' or the end of input and
// reports false (consuming nothing more) at the first other byte.
func (s *xmlScanner) skipSpace() (bool, error) {
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			if c == '<' {
				return true, nil
			}
			if !isSpace(c) {
				return false, nil
			}
			s.pos++
		}
		if !s.fill() {
			if s.rerr != nil {
				return false, s.readErr("")
			}
			return true, nil
		}
	}
}

// skipS consumes XML whitespace (S) inside markup and reports whether
// there was any.
func (s *xmlScanner) skipS() bool {
	any := false
	for {
		for s.pos < s.end && isSpace(s.buf[s.pos]) {
			s.pos++
			any = true
		}
		if s.pos < s.end || !s.fill() {
			return any
		}
	}
}

// char checks the character at pos, which is a control or starts a
// multi-byte sequence, and returns its length in bytes.
func (s *xmlScanner) char() (int, error) {
	c := s.buf[s.pos]
	if c < 0x80 {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return 0, s.errorf("control character 0x%02X is not allowed in XML", c)
		}
		return 1, nil
	}
	s.need(utf8.UTFMax)
	r, n := utf8.DecodeRune(s.buf[s.pos:s.end])
	if r == utf8.RuneError && n <= 1 {
		return 0, s.errorf("invalid UTF-8")
	}
	if r == 0xFFFE || r == 0xFFFF {
		return 0, s.errorf("character U+%04X is not allowed in XML", r)
	}
	return n, nil
}

// charData decodes character data up to the next markup or, in a CDATA
// section, its content up to "]]>" into s.text, at most textChunk bytes
// at a time.
func (s *xmlScanner) charData() (tokKind, error) {
	cdata, stop := s.inCDATA, textStop
	if cdata {
		stop = cdataStop
	}
	s.text = s.text[:0]
	for len(s.text) < textChunk {
		i := s.pos
		for i < s.end && !stop[s.buf[i]] {
			i++
		}
		s.text = append(s.text, s.buf[s.pos:i]...)
		s.pos = i
		if i == s.end {
			if !s.fill() {
				if cdata {
					return 0, s.readErr("in a CDATA section")
				}
				break // the next call reports the end
			}
			continue
		}
		switch c := s.buf[i]; c {
		case '<':
			return s.textToken()
		case '&':
			var err error
			if s.text, err = s.reference(s.text); err != nil {
				return 0, err
			}
		case '\r':
			s.text = append(s.text, '\n')
			s.pos++
			if s.need(1) && s.buf[s.pos] == '\n' {
				s.pos++
			}
		case ']':
			if s.need(3) && s.buf[s.pos+1] == ']' && s.buf[s.pos+2] == '>' {
				if !cdata {
					return 0, s.errorf("']]>' is not allowed in text")
				}
				s.pos += 3
				s.inCDATA = false
				return s.textToken()
			}
			s.text = append(s.text, c)
			s.pos++
		default:
			n, err := s.char()
			if err != nil {
				return 0, err
			}
			s.text = append(s.text, s.buf[s.pos:s.pos+n]...)
			s.pos += n
		}
	}
	return s.textToken()
}

// textToken reports the text decoded so far, or the next token if there
// is none.
func (s *xmlScanner) textToken() (tokKind, error) {
	if len(s.text) == 0 {
		return s.next(true)
	}
	s.kind = tokText
	return tokText, nil
}

// reference decodes the character or entity reference at pos, appending
// it to dst.
func (s *xmlScanner) reference(dst []byte) ([]byte, error) {
	s.need(maxRefBytes)
	end := min(s.end, s.pos+maxRefBytes)
	j := bytes.IndexByte(s.buf[s.pos+1:end], ';')
	if j < 0 {
		return nil, s.errorf("unterminated entity reference")
	}
	ent := s.buf[s.pos+1 : s.pos+1+j]
	switch string(ent) {
	case "lt":
		dst = append(dst, '<')
	case "gt":
		dst = append(dst, '>')
	case "amp":
		dst = append(dst, '&')
	case "quot":
		dst = append(dst, '"')
	case "apos":
		dst = append(dst, '\'')
	default:
		r, ok := charRef(ent)
		if !ok {
			if len(ent) > 0 && ent[0] == '#' {
				return nil, s.errorf("character reference &%s; is not an XML character", clip(string(ent)))
			}
			return nil, s.errorf("unknown entity &%s; (only the five XML entities and character references are allowed)", clip(string(ent)))
		}
		dst = utf8.AppendRune(dst, r)
	}
	s.pos += j + 2
	return dst, nil
}

// charRef decodes the body of a character reference (#65, #x41) to an XML
// character.
func charRef(ent []byte) (rune, bool) {
	if len(ent) < 2 || ent[0] != '#' {
		return 0, false
	}
	base, digits := rune(10), ent[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	if len(digits) == 0 {
		return 0, false
	}
	var r rune
	for _, c := range digits {
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
		r = r*base + d
		if r > utf8.MaxRune {
			return 0, false
		}
	}
	if r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= utf8.MaxRune {
		return r, true
	}
	return 0, false
}

// skipCDATA consumes a CDATA section that holds only whitespace and
// reports true; at anything else it stops and reports false.
func (s *xmlScanner) skipCDATA() (bool, error) {
	for {
		for s.pos < s.end && isSpace(s.buf[s.pos]) {
			s.pos++
		}
		if s.pos < s.end {
			if !s.need(3) || !bytes.HasPrefix(s.buf[s.pos:s.end], []byte("]]>")) {
				return false, nil
			}
			s.pos += 3
			return true, nil
		}
		if !s.fill() {
			return false, s.readErr("in a CDATA section")
		}
	}
}

// skipMarkup consumes the content of a comment or processing instruction,
// checking its characters. At each delim byte (which stop marks, with the
// controls and non-ASCII bytes to check) it calls atDelim, with two bytes
// in the buffer: atDelim consumes what it looked at and reports whether
// the markup ended.
func (s *xmlScanner) skipMarkup(stop *[256]bool, delim byte, what string, atDelim func() (bool, error)) error {
	for {
		i := s.pos
		for i < s.end && !stop[s.buf[i]] {
			i++
		}
		s.pos = i
		if i == s.end {
			if !s.fill() {
				return s.readErr("in " + what)
			}
			continue
		}
		if s.buf[i] == delim {
			if !s.need(2) {
				return s.readErr("in " + what)
			}
			if done, err := atDelim(); done || err != nil {
				return err
			}
			continue
		}
		n, err := s.char()
		if err != nil {
			return err
		}
		s.pos += n
	}
}

// skipPI consumes the rest of a processing instruction up to and
// including "?>".
func (s *xmlScanner) skipPI() error {
	return s.skipMarkup(piStop, '?', "a processing instruction", func() (bool, error) {
		s.pos++
		if s.buf[s.pos] == '>' {
			s.pos++
			return true, nil
		}
		return false, nil
	})
}

// comment consumes a comment at pos ("<!--"), which must not hold "--".
func (s *xmlScanner) comment() error {
	s.pos += 4
	return s.skipMarkup(commentStop, '-', "a comment", func() (bool, error) {
		if s.buf[s.pos+1] != '-' {
			s.pos++
			return false, nil
		}
		if !s.need(3) || s.buf[s.pos+2] != '>' {
			return false, s.errorf("'--' inside a comment")
		}
		s.pos += 3
		return true, nil
	})
}

// pi consumes a processing instruction, or the XML declaration at the
// start of the document.
func (s *xmlScanner) pi() error {
	if !s.started && s.need(6) && string(s.buf[s.pos:s.pos+5]) == "<?xml" && isSpace(s.buf[s.pos+5]) {
		s.started = true
		return s.decl()
	}
	s.pos += 2
	s.arena = s.arena[:0]
	t0, t1, err := s.readName()
	if err != nil {
		return err
	}
	target := s.arena[t0:t1]
	switch {
	case t0 == t1:
		return s.errorf("malformed processing instruction")
	case len(target) == 3 && bytes.EqualFold(target, []byte("xml")):
		return s.errorf("the XML declaration is allowed only at the start of the document")
	case bytes.IndexByte(target, ':') >= 0:
		return s.errorf("processing instruction target %s contains a colon (XML Namespaces)", clip(string(target)))
	}
	if !s.need(1) {
		return s.readErr("in a processing instruction")
	}
	if c := s.buf[s.pos]; c != '?' && !isSpace(c) {
		return s.errorf("malformed processing instruction")
	}
	return s.skipPI()
}

// decl checks the XML declaration at pos: version 1.x, UTF-8 (or its
// subset US-ASCII), standalone yes or no.
func (s *xmlScanner) decl() error {
	s.need(maxDeclBytes)
	end := min(s.end, s.pos+maxDeclBytes)
	j := bytes.Index(s.buf[s.pos:end], []byte("?>"))
	if j < 0 {
		return s.errorf("malformed XML declaration")
	}
	d := s.buf[s.pos+5 : s.pos+j]
	bad := s.errorf("malformed XML declaration")
	want := []string{"version", "encoding", "standalone"}
	for first := true; ; first = false {
		n := len(d)
		d = bytes.TrimLeft(d, " \t\r\n")
		if len(d) == 0 {
			if first {
				return bad
			}
			break
		}
		if n == len(d) {
			return bad
		}
		eq := bytes.IndexByte(d, '=')
		if eq < 0 {
			return bad
		}
		name := string(bytes.TrimRight(d[:eq], " \t\r\n"))
		d = bytes.TrimLeft(d[eq+1:], " \t\r\n")
		if len(d) < 2 || d[0] != '"' && d[0] != '\'' {
			return bad
		}
		q := bytes.IndexByte(d[1:], d[0])
		if q < 0 {
			return bad
		}
		v := string(d[1 : 1+q])
		d = d[q+2:]
		i := 0
		for i < len(want) && want[i] != name {
			i++
		}
		if i == len(want) || first != (name == "version") {
			return bad
		}
		want = want[i+1:]
		switch name {
		case "version":
			if len(v) < 3 || v[:2] != "1." || strings.Trim(v[2:], "0123456789") != "" {
				return bad
			}
		case "encoding":
			if !strings.EqualFold(v, "utf-8") && !strings.EqualFold(v, "us-ascii") {
				return s.errorf("only UTF-8 documents are supported, not %s", clip(v))
			}
		case "standalone":
			if v != "yes" && v != "no" {
				return bad
			}
		}
	}
	s.pos += j + 2
	return nil
}

// readName reads an XML Name at pos into the arena and returns its bounds
// there; it returns an empty name (start == end) when pos holds no name.
func (s *xmlScanner) readName() (int, int, error) {
	start := len(s.arena)
	for {
		i := s.pos
		for i < s.end && nameByte[s.buf[i]] {
			i++
		}
		if len(s.arena)-start+i-s.pos > maxNameBytes {
			return 0, 0, s.limitErr("name", maxNameBytes)
		}
		s.arena = append(s.arena, s.buf[s.pos:i]...)
		s.pos = i
		if i == s.end {
			if !s.fill() {
				if s.rerr != nil {
					return 0, 0, s.readErr("")
				}
				break
			}
			continue
		}
		if s.buf[i] < 0x80 {
			break
		}
		s.need(utf8.UTFMax)
		r, n := utf8.DecodeRune(s.buf[s.pos:s.end])
		if r == utf8.RuneError && n <= 1 {
			return 0, 0, s.errorf("invalid UTF-8")
		}
		if !isNameRune(r) {
			break
		}
		s.arena = append(s.arena, s.buf[s.pos:s.pos+n]...)
		s.pos += n
	}
	end := len(s.arena)
	if end > start && !nameStarts(s.arena[start:end]) {
		return 0, 0, s.errorf("malformed name %s", clip(string(s.arena[start:end])))
	}
	return start, end, nil
}

// nameStarts reports whether b begins with a NameStartChar.
func nameStarts(b []byte) bool {
	c := b[0]
	if c < 0x80 {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':'
	}
	r, _ := utf8.DecodeRune(b)
	return isNameStartRune(r)
}

// isQName reports whether a Name is a QName of XML Namespaces: at most one
// colon, with a name on each side.
func isQName(b []byte) bool {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return true
	}
	return i > 0 && i < len(b)-1 && bytes.IndexByte(b[i+1:], ':') < 0 && nameStarts(b[i+1:])
}

// emitValue appends to the attribute value being read, moving it to a
// chunked store once it is longer than bigValueBytes.
func (s *xmlScanner) emitValue(p []byte) {
	if s.bigv != nil {
		s.bigv.write(p)
		return
	}
	s.arena = append(s.arena, p...)
	if len(s.arena)-s.valStart > bigValueBytes {
		s.bigv = &bigValue{}
		s.bigv.write(s.arena[s.valStart:])
		s.arena = s.arena[:s.valStart]
	}
}

// attrValue reads an attribute value up to the closing quote q,
// decoding references and normalising whitespace (XML 1.0 §3.3.3: every
// literal tab, newline and carriage return, a CR LF pair counting as one,
// becomes a space; characters given by reference are kept).
func (s *xmlScanner) attrValue(q byte) error {
	s.valStart, s.bigv = len(s.arena), nil
	for {
		i := s.pos
		for i < s.end && !attrStop[s.buf[i]] {
			i++
		}
		if i > s.pos {
			s.emitValue(s.buf[s.pos:i])
			s.pos = i
		}
		if i == s.end {
			if !s.fill() {
				return s.readErr("in an attribute value")
			}
			continue
		}
		switch c := s.buf[i]; c {
		case q:
			s.pos++
			return nil
		case '"', '\'':
			s.emitValue(s.buf[i : i+1])
			s.pos++
		case '&':
			ref, err := s.reference(s.refBuf[:0])
			if err != nil {
				return err
			}
			s.emitValue(ref)
		case '<':
			return s.errorf("'<' in an attribute value")
		case '\t', '\n':
			s.emitValue([]byte{' '})
			s.pos++
		case '\r':
			s.emitValue([]byte{' '})
			s.pos++
			if s.need(1) && s.buf[s.pos] == '\n' {
				s.pos++
			}
		default:
			n, err := s.char()
			if err != nil {
				return err
			}
			s.emitValue(s.buf[s.pos : s.pos+n])
			s.pos += n
		}
	}
}

// startTag reads the start tag at pos.
func (s *xmlScanner) startTag() (tokKind, error) {
	s.pos++
	s.arena = s.arena[:0]
	s.raw = s.raw[:0]
	n0, n1, err := s.readName()
	if err != nil {
		return 0, err
	}
	if n0 == n1 {
		return 0, s.errorf("malformed start tag")
	}
	tag := func() string { return clip(string(s.arena[n0:n1])) }
	nattrs, ndecls := 0, 0
	for {
		sp := s.skipS()
		if !s.need(1) {
			return 0, s.readErr("inside a tag")
		}
		c := s.buf[s.pos]
		if c == '>' {
			s.pos++
			s.selfEnd = false
			break
		}
		if c == '/' {
			if !s.need(2) || s.buf[s.pos+1] != '>' {
				return 0, s.errorf("malformed start tag <%s>", tag())
			}
			s.pos += 2
			s.selfEnd = true
			break
		}
		if !sp {
			return 0, s.errorf("malformed start tag <%s>: expected space before attribute", tag())
		}
		q0, q1, err := s.readName()
		if err != nil {
			return 0, err
		}
		if q0 == q1 {
			return 0, s.errorf("malformed attribute in <%s>", tag())
		}
		an := func() string { return clip(string(s.arena[q0:q1])) }
		s.skipS()
		if !s.need(1) || s.buf[s.pos] != '=' {
			return 0, s.errorf("attribute %s in <%s> has no value", an(), tag())
		}
		s.pos++
		s.skipS()
		if !s.need(1) || s.buf[s.pos] != '"' && s.buf[s.pos] != '\'' {
			return 0, s.errorf("attribute %s in <%s> is not quoted", an(), tag())
		}
		s.pos++
		if err := s.attrValue(s.buf[s.pos-1]); err != nil {
			return 0, err
		}
		q := s.arena[q0:q1]
		decl := len(q) >= 5 && string(q[:5]) == "xmlns" && (len(q) == 5 || q[5] == ':')
		if decl {
			if ndecls++; ndecls > s.maxNS {
				return 0, s.limitErr("namespace declarations", s.maxNS)
			}
		} else if nattrs++; nattrs > s.maxAttrs {
			return 0, s.limitErr("attributes", s.maxAttrs)
		}
		s.raw = append(s.raw, rawAttr{q0: q0, q1: q1, v0: s.valStart, v1: len(s.arena), big: s.bigv, decl: decl})
		s.bigv = nil
	}
	s.started = true
	s.name = s.arena[n0:n1]
	if err := s.namespaces(); err != nil {
		return 0, err
	}
	if !s.selfEnd {
		s.stack = append(s.stack, s.name...)
		s.open = append(s.open, openElem{n: len(s.name), mark: s.selfMark})
	} else {
		s.popSelf = true
	}
	s.kind = tokStart
	return tokStart, nil
}

func (s *xmlScanner) rawName(i int) []byte { return s.arena[s.raw[i].q0:s.raw[i].q1] }

func (s *xmlScanner) rawValue(i int) []byte {
	if b := s.raw[i].big; b != nil {
		return []byte(b.String())
	}
	return s.arena[s.raw[i].v0:s.raw[i].v1]
}

// namespaces applies the declarations of the start tag just read,
// resolves the names of the element and its attributes, and checks that
// no attribute is repeated. s.selfMark is left at the bindings before the
// element's declarations.
func (s *xmlScanner) namespaces() error {
	s.selfMark = len(s.binds)
	for i := range s.raw {
		if !isQName(s.rawName(i)) {
			return s.errorf("attribute name %s is not a qualified name (XML Namespaces)", clip(string(s.rawName(i))))
		}
	}
	if err := s.checkDuplicates(); err != nil {
		return err
	}
	for i := range s.raw {
		if s.raw[i].decl {
			if err := s.declare(s.rawName(i), s.rawValue(i)); err != nil {
				return err
			}
		}
	}
	if !isQName(s.name) {
		return s.errorf("element name %s is not a qualified name (XML Namespaces)", clip(string(s.name)))
	}
	var err error
	if s.space, s.local, err = s.resolve(s.name, true); err != nil {
		return err
	}
	s.attrs = s.attrs[:0]
	prefixed := 0
	for i := range s.raw {
		r := &s.raw[i]
		if r.decl {
			continue
		}
		a := xmlAttr{qname: s.rawName(i), big: r.big}
		if r.big == nil {
			a.value = s.arena[r.v0:r.v1]
		}
		if a.space, a.local, err = s.resolve(a.qname, false); err != nil {
			return err
		}
		if a.space != "" {
			prefixed++
		}
		s.attrs = append(s.attrs, a)
	}
	if prefixed > 1 {
		return s.checkExpanded(prefixed)
	}
	return nil
}

// checkDuplicates refuses an attribute name written twice in one tag, by
// comparison when there are few and by a map when there are many.
func (s *xmlScanner) checkDuplicates() error {
	n := len(s.raw)
	dup := -1
	if n <= 8 {
		for i := 1; i < n && dup < 0; i++ {
			for j := 0; j < i; j++ {
				if bytes.Equal(s.rawName(i), s.rawName(j)) {
					dup = i
					break
				}
			}
		}
	} else {
		seen := make(map[string]struct{}, n)
		for i := range n {
			q := s.rawName(i)
			if _, ok := seen[string(q)]; ok {
				dup = i
				break
			}
			seen[string(q)] = struct{}{}
		}
	}
	if dup >= 0 {
		return s.errorf("attribute %s repeated in <%s>", clip(string(s.rawName(dup))), clip(string(s.name)))
	}
	return nil
}

// checkExpanded refuses two prefixed attributes with one expanded name
// (XML Namespaces §6.3), such as a:x and b:x with a and b bound alike.
func (s *xmlScanner) checkExpanded(prefixed int) error {
	dup := -1
	if prefixed <= 8 {
		for i := 1; i < len(s.attrs) && dup < 0; i++ {
			a := &s.attrs[i]
			for j := 0; j < i && a.space != ""; j++ {
				if b := &s.attrs[j]; b.space == a.space && bytes.Equal(a.local, b.local) {
					dup = i
					break
				}
			}
		}
	} else {
		seen := make(map[string]struct{}, prefixed)
		for i := range s.attrs {
			a := &s.attrs[i]
			if a.space == "" {
				continue
			}
			k := a.space + "\x00" + string(a.local)
			if _, ok := seen[k]; ok {
				dup = i
				break
			}
			seen[k] = struct{}{}
		}
	}
	if dup >= 0 {
		a := &s.attrs[dup]
		return s.errorf("attribute %s in <%s> repeats another's namespace %s and name", clip(string(a.qname)), clip(string(s.name)), clip(a.space))
	}
	return nil
}

// internURI returns the namespace name b, without allocating for the two
// that FHIR uses.
func internURI(b []byte) string {
	switch string(b) {
	case NamespaceFHIR:
		return NamespaceFHIR
	case NamespaceXHTML:
		return NamespaceXHTML
	case "":
		return ""
	}
	return string(b)
}

// declare binds a prefix (from the qualified name xmlns or xmlns:p) to a
// namespace name for the element being started.
func (s *xmlScanner) declare(qname, value []byte) error {
	prefix := ""
	if len(qname) > 5 {
		prefix = string(qname[6:])
	}
	uri := internURI(value)
	switch {
	case prefix == "xmlns":
		return s.errorf("the prefix xmlns must not be declared")
	case prefix == "xml" && uri != nsXML, prefix != "xml" && uri == nsXML:
		return s.errorf("only the prefix xml may be bound to %s, and only to it", nsXML)
	case uri == nsXMLNS:
		return s.errorf("no prefix may be bound to %s", nsXMLNS)
	case prefix != "" && uri == "":
		return s.errorf("the prefix %s is declared with an empty namespace name (not allowed in XML Namespaces 1.0)", clip(prefix))
	case prefix == "xml":
		return nil
	}
	if s.nsIdx == nil {
		s.nsIdx = make(map[string]int)
	}
	prev, ok := s.nsIdx[prefix]
	if !ok {
		prev = -1
	}
	s.binds = append(s.binds, nsBinding{prefix: prefix, uri: uri, prev: prev})
	s.nsIdx[prefix] = len(s.binds) - 1
	if prefix == "" {
		s.defNS = uri
	}
	return nil
}

// popNS ends the declarations made since len(s.binds) was mark.
func (s *xmlScanner) popNS(mark int) {
	for i := len(s.binds) - 1; i >= mark; i-- {
		b := s.binds[i]
		if b.prev < 0 {
			delete(s.nsIdx, b.prefix)
		} else {
			s.nsIdx[b.prefix] = b.prev
		}
		if b.prefix == "" {
			s.defNS = ""
			if b.prev >= 0 {
				s.defNS = s.binds[b.prev].uri
			}
		}
	}
	s.binds = s.binds[:mark]
}

// resolve splits a qualified name into its namespace name and local part;
// an unprefixed element is in the default namespace, an unprefixed
// attribute in none.
func (s *xmlScanner) resolve(qname []byte, elem bool) (string, []byte, error) {
	i := bytes.IndexByte(qname, ':')
	if i < 0 {
		if elem {
			return s.defNS, qname, nil
		}
		return "", qname, nil
	}
	p := qname[:i]
	switch string(p) {
	case "xml":
		return nsXML, qname[i+1:], nil
	case "xmlns":
		return "", nil, s.errorf("the prefix xmlns is reserved for namespace declarations (in %s)", clip(string(qname)))
	}
	if j, ok := s.nsIdx[string(p)]; ok {
		return s.binds[j].uri, qname[i+1:], nil
	}
	return "", nil, s.errorf("namespace prefix %s (in %s) is not declared", clip(string(p)), clip(string(qname)))
}

// endTag reads the end tag at pos and checks it closes the open element.
func (s *xmlScanner) endTag() (tokKind, error) {
	s.pos += 2
	s.arena = s.arena[:0]
	n0, n1, err := s.readName()
	if err != nil {
		return 0, err
	}
	name := s.arena[n0:n1]
	s.skipS()
	if !s.need(1) {
		return 0, s.readErr("inside an end tag")
	}
	if n0 == n1 || s.buf[s.pos] != '>' {
		return 0, s.errorf("malformed end tag </%s", clip(string(name)))
	}
	if len(s.open) == 0 {
		return 0, s.errorf("unexpected end tag </%s>", clip(string(name)))
	}
	top := s.open[len(s.open)-1]
	open := s.stack[len(s.stack)-top.n:]
	if !bytes.Equal(open, name) {
		return 0, s.errorf("end tag </%s> does not match <%s>", clip(string(name)), clip(string(open)))
	}
	s.pos++
	s.stack = s.stack[:len(s.stack)-top.n]
	s.open = s.open[:len(s.open)-1]
	s.popNS(top.mark)
	s.name = open
	s.kind = tokEnd
	return tokEnd, nil
}
