package itk3

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// HeaderScan is what ScanHeader reads from a message the FHIR decoder
// refused: enough of the envelope to correlate a negative response with the
// original (MessageHeader.id) and to tell which handling-specification key
// is at fault.
type HeaderScan struct {
	Format string // "xml" or "json"; "" when the input is neither
	// HeaderID is the id of the first MessageHeader in Bundle.entry ("" when
	// none was read).
	HeaderID         string
	BundleIdentifier string // Bundle.identifier.value
	SourceEndpoint   string // MessageHeader.source.endpoint
	// Handling holds the MessageHandling keys as written, by key (the
	// extension's url): the value[x] element's name and its text.
	Handling map[string]RawValue
}

// RawValue is one handling-specification value as written.
type RawValue struct {
	Type string // e.g. "valueBoolean"
	Text string // e.g. "true", "yes"
}

// Boolean reads a handling key that must be a valueBoolean: present says
// whether the key is there at all, ok whether its value is a boolean.
func (s HeaderScan) Boolean(key string) (v, present, ok bool) {
	rv, present := s.Handling[key]
	if !present {
		return false, false, false
	}
	if rv.Type != "valueBoolean" {
		return false, true, false
	}
	switch rv.Text {
	case "true":
		return true, true, true
	case "false":
		return false, true, true
	}
	return false, true, false
}

// Str returns a handling key's text ("" when absent).
func (s HeaderScan) Str(key string) string { return s.Handling[key].Text }

// Bounds of a scan: what it keeps of one resource, so hostile input cannot
// make it hold more than a few kilobytes beyond the decoder's own buffers.
const (
	scanMaxValue   = 1024 // bytes of one kept value
	scanMaxHandled = 64   // handling keys kept
)

// ScanHeader reads a FHIR STU3 message bundle in XML or JSON leniently,
// looking only at Bundle.identifier and the first MessageHeader entry (its
// id, source.endpoint and MessageHandling keys): a wrong type, a repeated
// element or an unknown element elsewhere does not stop it. It reads the
// whole input, so that the error tells whether the input is well-formed:
// nil means well-formed XML (without a DTD: FHIR forbids them) or JSON; a
// non-nil error says where it is not (or that ctx ended), and the scan holds
// what was read before that point.
func ScanHeader(ctx context.Context, data []byte) (HeaderScan, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	trim := bytes.TrimLeft(data, " \t\r\n")
	sc := &scanner{ctx: ctx, s: HeaderScan{Handling: map[string]RawValue{}}}
	var err error
	switch {
	case len(trim) > 0 && trim[0] == '<':
		sc.s.Format = "xml"
		err = sc.xml(data)
	case len(trim) > 0 && trim[0] == '{':
		sc.s.Format = "json"
		err = sc.json(data)
	default:
		err = errors.New("itk3: the input is neither XML nor JSON")
	}
	return sc.s, err
}

// scanner keeps the resource of the entry being read until it ends, then
// keeps it only if it is the first MessageHeader.
type scanner struct {
	ctx    context.Context
	n      int // tokens read, for cancellation checks
	s      HeaderScan
	found  bool // a MessageHeader was kept
	cur    resourceScan
	active bool // inside an entry's resource
}

// resourceScan is what is kept of one entry's resource while it is read.
type resourceScan struct {
	typ, id, endpoint string
	handling          map[string]RawValue
}

func (sc *scanner) tick() error {
	sc.n++
	if sc.n&1023 == 0 {
		return sc.ctx.Err()
	}
	return nil
}

// next reads one token with token (a decoder's Token), checking for
// cancellation now and then; end reports the end of the input, which is an
// error while an element (open) is not closed.
func next[T any](sc *scanner, token func() (T, error), open bool, format string) (tok T, end bool, err error) {
	if err := sc.tick(); err != nil {
		return tok, false, err
	}
	tok, err = token()
	switch {
	case errors.Is(err, io.EOF) && open:
		return tok, false, fmt.Errorf("itk3: %s ends inside an element", format)
	case errors.Is(err, io.EOF):
		return tok, true, nil
	case err != nil:
		return tok, false, fmt.Errorf("itk3: %s: %w", format, err)
	}
	return tok, false, nil
}

func (sc *scanner) beginResource() {
	sc.cur, sc.active = resourceScan{}, !sc.found
}

func (sc *scanner) endResource() {
	if sc.active && sc.cur.typ == "MessageHeader" {
		sc.found = true
		sc.s.HeaderID, sc.s.SourceEndpoint = sc.cur.id, sc.cur.endpoint
		for k, v := range sc.cur.handling {
			sc.s.Handling[k] = v
		}
	}
	sc.active = false
}

func (sc *scanner) setHandling(key string, v RawValue) {
	if key == "" {
		return
	}
	if sc.cur.handling == nil {
		sc.cur.handling = map[string]RawValue{}
	}
	if _, dup := sc.cur.handling[key]; !dup && len(sc.cur.handling) < scanMaxHandled {
		sc.cur.handling[key] = RawValue{Type: v.Type, Text: clipValue(v.Text)}
	}
}

func clipValue(s string) string {
	if len(s) > scanMaxValue {
		return s[:scanMaxValue]
	}
	return s
}

// fhirNS reports whether an element is in the FHIR namespace (or in none:
// the scan is lenient).
func fhirNS(n xml.Name) bool { return n.Space == "" || n.Space == "http://hl7.org/fhir" }

// xml reads the input with encoding/xml, whose cost is linear in it.
func (sc *scanner) xml(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	// stack holds the local names from the root down.
	var stack []string
	// In the MessageHeader: the handling key of the extension being read.
	handKey := ""
	inHandling := false
	for {
		tok, end, err := next(sc, d.Token, len(stack) > 0, "xml")
		if end || err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.Directive:
			return errors.New("itk3: xml: DTDs and other declarations are not allowed in FHIR")
		case xml.StartElement:
			if !fhirNS(t.Name) {
				if len(stack) == 0 {
					return fmt.Errorf("itk3: xml: the root element is not in the FHIR namespace")
				}
				stack = append(stack, "")
				continue
			}
			stack = append(stack, t.Name.Local)
			if len(stack) == 1 && t.Name.Local != "Bundle" {
				return fmt.Errorf("itk3: xml: the root element is %s, not a Bundle", clipValue(t.Name.Local))
			}
			attr := func(name string) string {
				for _, a := range t.Attr {
					if a.Name.Local == name && a.Name.Space == "" {
						return a.Value
					}
				}
				return ""
			}
			depth := len(stack)
			switch {
			case depth == 3 && stack[1] == "identifier" && t.Name.Local == "value":
				sc.s.BundleIdentifier = clipValue(attr("value"))
			case depth == 4 && stack[1] == "entry" && stack[2] == "resource":
				sc.beginResource()
				sc.cur.typ = t.Name.Local
			case !sc.active || depth < 5:
			case depth == 5 && t.Name.Local == "id":
				sc.cur.id = clipValue(attr("value"))
			case depth == 6 && stack[4] == "source" && t.Name.Local == "endpoint":
				sc.cur.endpoint = clipValue(attr("value"))
			case depth == 5 && t.Name.Local == "extension":
				inHandling = attr("url") == MessageHandlingURL
			case depth == 6 && inHandling && t.Name.Local == "extension":
				handKey = attr("url")
			case depth == 7 && inHandling && handKey != "" && strings.HasPrefix(t.Name.Local, "value"):
				v := attr("value")
				if t.Name.Local == "valueReference" || t.Name.Local == "valueCoding" {
					v = "" // read from the child (reference / code)
				}
				sc.setHandling(handKey, RawValue{Type: t.Name.Local, Text: v})
			case depth == 8 && inHandling && handKey != "" && (t.Name.Local == "reference" || t.Name.Local == "code"):
				if rv, ok := sc.cur.handling[handKey]; ok && rv.Text == "" {
					rv.Text = clipValue(attr("value"))
					sc.cur.handling[handKey] = rv
				}
			}
		case xml.EndElement:
			if len(stack) == 4 && stack[1] == "entry" && stack[2] == "resource" {
				sc.endResource()
			}
			if len(stack) == 6 {
				handKey = ""
			}
			if len(stack) == 5 {
				inHandling = false
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// json reads the input with encoding/json's tokenizer, keeping a path of
// object keys and array positions (no recursion: nesting costs memory
// linear in the input, never stack).
func (sc *scanner) json(data []byte) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	type frame struct {
		array bool
		key   string // object: the key whose value comes next
		index int    // array: the position of the next element
		want  bool   // object: the next token is a key
	}
	var stack []frame
	// path returns the key (or index as text) at depth i.
	at := func(i int) string {
		f := stack[i]
		if f.array {
			return strconv.Itoa(f.index)
		}
		return f.key
	}
	// ext remembers, for the MessageHeader being read, the url of each
	// extension[i] and extension[i].extension[j] and their values, which
	// JSON may give in any order.
	type extVal struct {
		url string
		val RawValue
	}
	handlingIdx, rootDone := -1, false
	var exts map[[2]int]*extVal
	var outerURL map[int]string
	value := func(text string) {
		// Depth of the value: len(stack). Paths below are from the root.
		n := len(stack)
		switch {
		case n == 2 && at(0) == "identifier" && at(1) == "value":
			sc.s.BundleIdentifier = clipValue(text)
		case n < 4 || at(0) != "entry" || at(2) != "resource":
		case n == 4 && at(3) == "resourceType":
			sc.cur.typ = text
		case n == 4 && at(3) == "id":
			sc.cur.id = clipValue(text)
		case n == 5 && at(3) == "source" && at(4) == "endpoint":
			sc.cur.endpoint = clipValue(text)
		case n == 6 && at(3) == "extension" && at(5) == "url":
			i, _ := strconv.Atoi(at(4))
			if outerURL == nil {
				outerURL = map[int]string{}
			}
			if len(outerURL) < scanMaxHandled {
				outerURL[i] = text
			}
		case n >= 8 && at(3) == "extension" && at(5) == "extension":
			i, _ := strconv.Atoi(at(4))
			j, _ := strconv.Atoi(at(6))
			if exts == nil {
				exts = map[[2]int]*extVal{}
			}
			e := exts[[2]int{i, j}]
			if e == nil {
				if len(exts) >= scanMaxHandled {
					return
				}
				e = &extVal{}
				exts[[2]int{i, j}] = e
			}
			switch k := at(7); {
			case n == 8 && k == "url":
				e.url = text
			case n == 8 && strings.HasPrefix(k, "value"):
				e.val = RawValue{Type: k, Text: clipValue(text)}
			case n == 9 && (k == "valueReference" && at(8) == "reference" || k == "valueCoding" && at(8) == "code"):
				e.val = RawValue{Type: k, Text: clipValue(text)}
			}
		}
	}
	for {
		tok, end, err := next(sc, d.Token, len(stack) > 0, "json")
		if end || err != nil {
			return err
		}
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].want {
			// An object key.
			if k, ok := tok.(string); ok {
				stack[n-1].key, stack[n-1].want = k, false
				continue
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if rootDone {
					return errors.New("itk3: json: more than one value")
				}
				if len(stack) == 0 && t == '[' {
					return errors.New("itk3: json: the message is not an object")
				}
				stack = append(stack, frame{array: t == '[', want: t == '{'})
				if len(stack) == 4 && !stack[3].array && at(0) == "entry" && at(2) == "resource" {
					sc.beginResource()
					exts, outerURL, handlingIdx = nil, nil, -1
				}
				continue
			case '}', ']':
				if len(stack) == 4 && !stack[3].array && at(0) == "entry" && at(2) == "resource" {
					for i, u := range outerURL {
						if u == MessageHandlingURL {
							handlingIdx = i
							break
						}
					}
					// In array order: the first of a repeated key counts.
					for _, ij := range slices.SortedFunc(maps.Keys(exts), func(a, b [2]int) int { return cmp.Compare(a[1], b[1]) }) {
						if ij[0] == handlingIdx {
							sc.setHandling(exts[ij].url, exts[ij].val)
						}
					}
					sc.endResource()
				}
				stack = stack[:len(stack)-1]
			}
		default:
			if len(stack) == 0 {
				return errors.New("itk3: json: the message is not an object")
			}
		}
		switch t := tok.(type) {
		case string:
			value(t)
		case json.Number:
			value(t.String())
		case bool:
			value(strconv.FormatBool(t))
		case nil:
			value("")
		}
		// A value was completed: advance the container.
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].want = true
			}
		} else {
			rootDone = true
		}
	}
}
