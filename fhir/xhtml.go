package fhir

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
)

// The narrative div is stored and written in one canonical form, whatever
// XML writer produced it, so that it stands alone (in JSON, or copied out
// of its document) and two spellings of the same XML compare equal:
//
//   - no element has a prefix: the div declares
//     xmlns="http://www.w3.org/1999/xhtml", and an element whose namespace
//     differs from its parent's declares its own (xmlns="" for none);
//   - an attribute in a namespace gets the prefix ns1, ns2, ... (in order of
//     namespace name) declared on its element, or xml: for the XML
//     namespace; namespace declarations come first, then the attributes
//     sorted by namespace name and local name;
//   - comments and processing instructions are dropped and CDATA sections
//     become text;
//   - text escapes & < > and a carriage return (&#13;); attribute values
//     are in double quotes and escape & < > " and tab, newline and carriage
//     return as character references; every other character is literal
//     UTF-8;
//   - an empty XHTML void element is written <br/>, any other empty XHTML
//     element <p></p> (as HTML reads them), an empty element of another
//     namespace <x/>.

const xhtmlDecl = ` xmlns="` + NamespaceXHTML + `"`

// isVoid reports whether an XHTML element has no end tag in HTML.
func isVoid(local []byte) bool {
	switch string(local) {
	case "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr":
		return true
	}
	return false
}

// xhtmlWriter writes canonical XHTML from scanner tokens.
type xhtmlWriter struct {
	out     []byte
	ns      []string // namespace of each open element
	pending bool     // the last start tag still lacks its '>'
	order   []int
}

func (w *xhtmlWriter) closeTag() {
	if w.pending {
		w.out = append(w.out, '>')
		w.pending = false
	}
}

// start writes the start tag that is the scanner's current token.
func (w *xhtmlWriter) start(sc *xmlScanner) {
	w.closeTag()
	w.out = append(w.out, '<')
	w.out = append(w.out, sc.local...)
	if len(w.ns) == 0 && sc.space == NamespaceXHTML {
		w.out = append(w.out, xhtmlDecl...)
	} else if len(w.ns) == 0 || sc.space != w.ns[len(w.ns)-1] {
		w.out = append(w.out, ` xmlns="`...)
		w.out = appendEscaped(w.out, sc.space, true)
		w.out = append(w.out, '"')
	}
	attrs := sc.attrs
	w.order = w.order[:0]
	for i := range attrs {
		w.order = append(w.order, i)
	}
	if len(attrs) > 1 {
		slices.SortFunc(w.order, func(i, j int) int {
			if c := strings.Compare(attrs[i].space, attrs[j].space); c != 0 {
				return c
			}
			return bytes.Compare(attrs[i].local, attrs[j].local)
		})
	}
	// Declarations of the attribute prefixes, then the attributes.
	for pass := range 2 {
		n, last := 0, ""
		for _, i := range w.order {
			a := &attrs[i]
			if a.space != "" && a.space != nsXML && a.space != last {
				n++
				last = a.space
				if pass == 0 {
					w.out = append(w.out, " xmlns:ns"...)
					w.out = strconv.AppendInt(w.out, int64(n), 10)
					w.out = append(w.out, `="`...)
					w.out = appendEscaped(w.out, a.space, true)
					w.out = append(w.out, '"')
				}
			}
			if pass == 0 {
				continue
			}
			w.out = append(w.out, ' ')
			switch a.space {
			case "":
			case nsXML:
				w.out = append(w.out, "xml:"...)
			default:
				w.out = append(w.out, "ns"...)
				w.out = strconv.AppendInt(w.out, int64(n), 10)
				w.out = append(w.out, ':')
			}
			w.out = append(w.out, a.local...)
			w.out = append(w.out, `="`...)
			if a.big != nil {
				w.out = appendEscaped(w.out, a.big.String(), true)
			} else {
				w.out = appendEscaped(w.out, a.value, true)
			}
			w.out = append(w.out, '"')
		}
	}
	w.ns = append(w.ns, sc.space)
	w.pending = true
	if sc.selfEnd {
		w.end(sc.local)
	}
}

// end writes the end of the innermost open element, whose local name is
// given.
func (w *xhtmlWriter) end(local []byte) {
	space := w.ns[len(w.ns)-1]
	w.ns = w.ns[:len(w.ns)-1]
	if w.pending {
		w.pending = false
		if space != NamespaceXHTML || isVoid(local) {
			w.out = append(w.out, "/>"...)
			return
		}
		w.out = append(w.out, '>')
	}
	w.out = append(w.out, "</"...)
	w.out = append(w.out, local...)
	w.out = append(w.out, '>')
}

func (w *xhtmlWriter) text(b []byte) {
	w.closeTag()
	w.out = appendEscaped(w.out, b, false)
}

// xmlEscape returns how c is written in XML text, or (attr) in an
// attribute value in double quotes, when it cannot stand for itself.
func xmlEscape(c byte, attr bool) string {
	switch c {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	case '\r':
		return "&#13;"
	}
	if attr {
		switch c {
		case '"':
			return "&quot;"
		case '\n':
			return "&#10;"
		case '\t':
			return "&#9;"
		}
	}
	return ""
}

// appendEscaped appends s escaped for XML text, or for an attribute value
// in double quotes.
func appendEscaped[T string | []byte](dst []byte, s T, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		if esc := xmlEscape(s[i], attr); esc != "" {
			dst = append(dst, s[last:i]...)
			dst = append(dst, esc...)
			last = i + 1
		}
	}
	return append(dst, s[last:]...)
}

// localOf returns the local part of a qualified name.
func localOf(qname []byte) []byte {
	if i := bytes.IndexByte(qname, ':'); i >= 0 {
		return qname[i+1:]
	}
	return qname
}

// xhtml reads the narrative div whose start tag, in the XHTML namespace,
// is the current token and returns its canonical form.
func (d *xmlDecoder) xhtml() (string, error) {
	w := xhtmlWriter{out: d.div[:0]}
	err := d.writeDiv(&w)
	d.div = w.out[:0]
	if err != nil {
		return "", err
	}
	return string(w.out), nil
}

// writeDiv writes the div whose start tag is the current token to w.
func (d *xmlDecoder) writeDiv(w *xhtmlWriter) error {
	if string(d.sc.local) != "div" {
		return d.errorf("narrative must be a <div>, not <%s>", clip(string(d.sc.name)))
	}
	start := len(w.out)
	over := func() error {
		return &LimitError{Limit: "narrative", Max: d.narrativeLeft, Offset: d.sc.offset(), Path: d.pathString()}
	}
	w.start(d.sc)
	for depth := len(w.ns); depth > 0; depth = len(w.ns) {
		if int64(len(w.out)-start) > d.narrativeLeft {
			return over()
		}
		k, err := d.next(true)
		if err != nil {
			return err
		}
		switch k {
		case tokStart:
			if !d.sc.selfEnd && d.depth+depth+1 > d.maxDepth {
				return &LimitError{Limit: "depth", Max: int64(d.maxDepth), Offset: d.sc.offset(), Path: d.pathString()}
			}
			w.start(d.sc)
		case tokEnd:
			w.end(localOf(d.sc.name))
		case tokText:
			w.text(d.sc.text)
		case tokEOF:
			return d.errorf("unexpected end of input in narrative")
		}
	}
	if int64(len(w.out)-start) > d.narrativeLeft {
		return over()
	}
	d.narrativeLeft -= int64(len(w.out) - start)
	return nil
}

// appendCanonicalDiv appends the canonical form of the narrative div s
// (one div element in the XHTML namespace, declared within s, as FHIR
// JSON carries it) to dst. Its canonical form may be at most budget
// bytes.
func appendCanonicalDiv(dst []byte, s string, budget int64) ([]byte, error) {
	l := (*DecodeOptions)(nil).limits()
	l.bytes = int64(len(s)) + 1
	d := newXMLDecoder(newXMLScanner(strings.NewReader(s), l), l)
	d.narrativeLeft = budget
	k, err := d.next(false)
	if err != nil {
		return dst, err
	}
	if k != tokStart {
		return dst, &SyntaxError{Format: "xml", Msg: "narrative div must start with <div>"}
	}
	if _, _, err := d.enterAny(); err != nil {
		return dst, err
	}
	switch d.sc.space {
	case NamespaceXHTML:
	case "":
		return dst, &SyntaxError{Format: "xml", Msg: "narrative div must declare xmlns=\"" + NamespaceXHTML + "\""}
	default:
		return dst, &SyntaxError{Format: "xml", Msg: "narrative div is in namespace " + clip(d.sc.space) + ", want " + NamespaceXHTML}
	}
	w := xhtmlWriter{out: dst}
	if err := d.writeDiv(&w); err != nil {
		return dst, err
	}
	if k, err := d.next(false); err != nil || k != tokEOF {
		return dst, &SyntaxError{Format: "xml", Msg: "content after the narrative div"}
	}
	return w.out, nil
}
