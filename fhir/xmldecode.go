package fhir

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Namespaces of FHIR XML and of the narrative.
const (
	NamespaceFHIR  = "http://hl7.org/fhir"
	NamespaceXHTML = "http://www.w3.org/1999/xhtml"
)

// Default limits of DecodeOptions.
const (
	DefaultMaxBytes      = 32 << 20
	DefaultMaxDepth      = 200
	DefaultMaxElements   = 200_000
	DefaultMaxAttributes = 256
	DefaultMaxNamespaces = 64
	DefaultMaxFindings   = 10_000
)

// DecodeOptions bounds what a decoder accepts. The zero value (or nil)
// means the defaults.
type DecodeOptions struct {
	// MaxBytes is the largest document accepted (default 32 MiB). The
	// decoder never reads more than MaxBytes+1 bytes from its reader.
	MaxBytes int64
	// MaxDepth is the deepest element nesting accepted (default 200).
	MaxDepth int
	// MaxElements is the most elements accepted (default 200 000; the
	// official examples have at most a few thousand). It bounds the memory
	// of the decoded model, which for tiny elements is several times the
	// size of the text.
	MaxElements int
	// MaxAttributes is the most attributes one XML element may carry,
	// namespace declarations not counted (default 256; FHIR elements
	// carry at most three, narrative elements a handful).
	MaxAttributes int
	// MaxNamespaces is the most namespace declarations (xmlns, xmlns:p)
	// one XML element may carry (default 64).
	MaxNamespaces int
}

type limits struct {
	bytes    int64
	depth    int
	elements int
	attrs    int
	nsDecls  int
}

func (o *DecodeOptions) limits() limits {
	l := limits{DefaultMaxBytes, DefaultMaxDepth, DefaultMaxElements, DefaultMaxAttributes, DefaultMaxNamespaces}
	if o == nil {
		return l
	}
	if o.MaxBytes > 0 {
		l.bytes = o.MaxBytes
	}
	if o.MaxDepth > 0 {
		l.depth = o.MaxDepth
	}
	if o.MaxElements > 0 {
		l.elements = o.MaxElements
	}
	if o.MaxAttributes > 0 {
		l.attrs = o.MaxAttributes
	}
	if o.MaxNamespaces > 0 {
		l.nsDecls = o.MaxNamespaces
	}
	return l
}

// DecodeXML reads one FHIR STU3 resource in XML from r. Elements out of
// canonical order are accepted and reported as findings; anything the
// model cannot hold is an error.
func DecodeXML(r io.Reader, opts *DecodeOptions) (Resource, []Finding, error) {
	return decodeXML(context.Background(), r, nil, opts)
}

// DecodeXMLContext is DecodeXML that stops when ctx ends: the error then
// wraps context.Cause(ctx). The decoder looks at ctx before every read
// from r (at most 32 KiB), so it stops within the time it takes to decode
// that much.
func DecodeXMLContext(ctx context.Context, r io.Reader, opts *DecodeOptions) (Resource, []Finding, error) {
	return decodeXML(ctx, r, nil, opts)
}

// DecodeXMLInto reads one FHIR STU3 resource in XML from r into dst, whose
// resource type the document's root must match.
func DecodeXMLInto(r io.Reader, dst Resource, opts *DecodeOptions) ([]Finding, error) {
	_, f, err := decodeXML(context.Background(), r, dst, opts)
	return f, err
}

func decodeXML(ctx context.Context, r io.Reader, dst Resource, opts *DecodeOptions) (Resource, []Finding, error) {
	l := opts.limits()
	d := newXMLDecoder(newXMLScanner(r, l), l)
	d.sc.watch(ctx)
	res, err := d.document(dst)
	if err != nil {
		return nil, d.findings.list, err
	}
	return res, d.findings.done(res), nil
}

func newXMLDecoder(sc *xmlScanner, l limits) *xmlDecoder {
	return &xmlDecoder{sc: sc, maxDepth: l.depth, maxElements: l.elements, narrativeLeft: l.bytes}
}

// findingList collects findings up to DefaultMaxFindings and counts the
// rest, so that a document of many small mistakes cannot make a list
// larger than itself.
type findingList struct {
	list    []Finding
	dropped int
}

func (f *findingList) add(path, msg string) {
	if len(f.list) < DefaultMaxFindings {
		f.list = append(f.list, Finding{Path: path, Message: msg})
	} else {
		f.dropped++
	}
}

// done returns the list, ending with a count of the findings left out.
func (f *findingList) done(res Resource) []Finding {
	if f.dropped > 0 {
		f.list = append(f.list, Finding{Path: res.ResourceType(), Message: fmt.Sprintf("%d more findings not listed", f.dropped)})
	}
	return f.list
}

// pathSeg is one step of an element path.
type pathSeg struct {
	name  string
	index int // -1 when not repeated
}

type xmlDecoder struct {
	sc          *xmlScanner
	maxDepth    int
	depth       int
	maxElements int
	elements    int
	path        []pathSeg
	findings    findingList
	// narrativeLeft is how many bytes of canonical narrative may still be
	// written (canonical XHTML can be a few times longer than its source).
	narrativeLeft int64
	div           []byte // scratch for the narrative being written
}

func (d *xmlDecoder) pathString() string {
	var b strings.Builder
	const keep = 12 // segments kept at each end of very deep paths
	for i, s := range d.path {
		if len(d.path) > 3*keep && i >= keep && i < len(d.path)-keep {
			if i == keep {
				fmt.Fprintf(&b, ".(%d more)", len(d.path)-2*keep)
			}
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func (d *xmlDecoder) errorf(format string, args ...any) error {
	return &SyntaxError{Format: "xml", Line: d.sc.line(), Offset: d.sc.offset(), Path: d.pathString(), Msg: fmt.Sprintf(format, args...)}
}

// wrap adds the element path to scanner errors.
func (d *xmlDecoder) wrap(err error) error {
	switch e := err.(type) {
	case *SyntaxError:
		if e.Path == "" {
			e.Path = d.pathString()
		}
	case *LimitError:
		if e.Path == "" {
			e.Path = d.pathString()
		}
	}
	return err
}

func (d *xmlDecoder) next(raw bool) (tokKind, error) {
	k, err := d.sc.next(raw)
	if err != nil {
		return k, d.wrap(err)
	}
	return k, nil
}

// enter processes namespace declarations of the current start tag and
// returns the local name of the element after checking its namespace.
func (d *xmlDecoder) enter(wantNS string) ([]byte, error) {
	name, uri, err := d.enterAny()
	if err != nil {
		return nil, err
	}
	if err := d.checkNS(uri, wantNS); err != nil {
		return nil, err
	}
	return name, nil
}

func (d *xmlDecoder) checkNS(uri, want string) error {
	if uri == want {
		return nil
	}
	if uri == "" {
		return d.errorf("element <%s> has no namespace, want %s", clip(string(d.sc.name)), want)
	}
	return d.errorf("element <%s> is in namespace %q, want %s", clip(string(d.sc.name)), clip(uri), want)
}

// enterAny is enter without the namespace check; it returns the namespace.
func (d *xmlDecoder) enterAny() ([]byte, string, error) {
	d.depth++
	if d.depth > d.maxDepth {
		return nil, "", &LimitError{Limit: "depth", Max: int64(d.maxDepth), Offset: d.sc.offset(), Path: d.pathString()}
	}
	d.elements++
	if d.maxElements > 0 && d.elements > d.maxElements {
		return nil, "", &LimitError{Limit: "elements", Max: int64(d.maxElements), Offset: d.sc.offset(), Path: d.pathString()}
	}
	return d.sc.local, d.sc.space, nil
}

func (d *xmlDecoder) leave() { d.depth-- }

func (d *xmlDecoder) document(dst Resource) (Resource, error) {
	if d.sc.need(2) && (string(d.sc.buf[:2]) == "\xFE\xFF" || string(d.sc.buf[:2]) == "\xFF\xFE") {
		return nil, d.errorf("only UTF-8 documents are supported (this one starts with a UTF-16 byte order mark)")
	}
	d.sc.skipBOM()
	k, err := d.next(false)
	if err != nil {
		return nil, err
	}
	if k != tokStart {
		if k == tokText {
			return nil, d.errorf("text before the root element")
		}
		return nil, d.errorf("no root element: input is empty")
	}
	res, err := d.resource(dst)
	if err != nil {
		return nil, err
	}
	for {
		k, err := d.next(false)
		if err != nil {
			return nil, err
		}
		switch k {
		case tokEOF:
			return res, nil
		case tokStart:
			return nil, d.errorf("more than one root element")
		default:
			return nil, d.errorf("content after the root element")
		}
	}
}

// resource decodes the resource whose start tag is the current token.
func (d *xmlDecoder) resource(dst Resource) (Resource, error) {
	name, err := d.enter(NamespaceFHIR)
	if err != nil {
		return nil, err
	}
	res := dst
	if res == nil {
		res = NewResource(string(name))
		if res == nil {
			return nil, d.errorf("unknown resource type <%s>", clip(string(name)))
		}
	} else if res.ResourceType() != string(name) {
		return nil, d.errorf("document is a %s, want %s", clip(string(name)), res.ResourceType())
	}
	v := reflect.ValueOf(res)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, fmt.Errorf("fhir: cannot decode into %T", res)
	}
	p := planOf(v.Elem().Type())
	if p == nil {
		return nil, fmt.Errorf("fhir: %T is not a resource of package fhir", res)
	}
	d.path = append(d.path, pathSeg{p.name, -1})
	if err := d.structure(v.Elem(), p); err != nil {
		return nil, err
	}
	d.path = d.path[:len(d.path)-1]
	d.leave()
	return res, nil
}

// attrs applies the attributes of the current start tag to a struct.
func (d *xmlDecoder) attrs(v reflect.Value, p *typePlan) error {
	for i := range d.sc.attrs {
		a := &d.sc.attrs[i]
		switch {
		case a.space != "":
			d.foreignAttr(a)
		case string(a.local) == "id" && p.idAttr >= 0, string(a.local) == "url" && p.urlAttr >= 0:
			val := a.str()
			if !validChars(val) {
				return d.errorf("attribute %s contains a control character", a.local)
			}
			if a.local[0] == 'i' {
				v.Field(p.idAttr).SetString(val)
			} else {
				v.Field(p.urlAttr).SetString(val)
			}
		default:
			return d.errorf("unknown attribute %s", clip(string(a.local)))
		}
	}
	return nil
}

// foreignAttr records an attribute from another namespace (such as
// xsi:schemaLocation), which FHIR does not define, as ignored. The finding
// names the namespace, not the prefix, so that it does not depend on how
// the document was written.
func (d *xmlDecoder) foreignAttr(a *xmlAttr) {
	d.findings.add(d.pathString(), fmt.Sprintf("attribute %s of namespace %s ignored", clip(string(a.local)), clipN(a.space, 100)))
}

// structure decodes the content of the current start tag into the struct v.
func (d *xmlDecoder) structure(v reflect.Value, p *typePlan) error {
	if err := d.attrs(v, p); err != nil {
		return err
	}
	if d.sc.selfEnd {
		return nil
	}
	last := -1
	for {
		k, err := d.next(false)
		if err != nil {
			return err
		}
		switch k {
		case tokEnd:
			return nil
		case tokText:
			return d.errorf("unexpected text content")
		case tokEOF:
			return d.errorf("unexpected end of input")
		}
		name, uri, err := d.enterAny()
		if err != nil {
			return err
		}
		ref, ok := p.elems[string(name)]
		if !ok {
			if err := d.checkNS(uri, NamespaceFHIR); err != nil {
				return err
			}
			d.path = append(d.path, pathSeg{string(name), -1})
			return d.errorf("unknown element")
		}
		fp := &p.fields[ref.field]
		want := NamespaceFHIR
		if fp.kind == fkXhtml {
			want = NamespaceXHTML
		}
		if err := d.checkNS(uri, want); err != nil {
			return err
		}
		if ref.field < last {
			d.findings.add(d.elemPath(fp, v), fmt.Sprintf("element %s out of order: it must come before %s", name, p.fields[last].name))
		} else {
			last = ref.field
		}
		if err := d.field(v, fp, ref.alt); err != nil {
			return err
		}
		d.leave()
	}
}

// elemPath is the path of the element about to be appended to field fp.
func (d *xmlDecoder) elemPath(fp *fieldPlan, v reflect.Value) string {
	idx := -1
	if fp.repeated {
		idx = v.Field(fp.index).Len()
	}
	d.path = append(d.path, pathSeg{fp.name, idx})
	s := d.pathString()
	d.path = d.path[:len(d.path)-1]
	return s
}

func (d *xmlDecoder) field(v reflect.Value, fp *fieldPlan, alt int) error {
	f := v.Field(fp.index)
	seg := pathSeg{fp.name, -1}
	if fp.repeated {
		seg.index = f.Len()
	}
	if fp.kind == fkChoice {
		seg.name = fp.alts[alt].name
	}
	d.path = append(d.path, seg)
	defer func() { d.path = d.path[:len(d.path)-1] }()
	if !fp.repeated {
		var nonEmpty bool
		if fp.kind == fkXhtml {
			nonEmpty = f.Len() > 0
		} else {
			nonEmpty = !f.IsNil()
		}
		if nonEmpty && fp.kind == fkChoice {
			return d.errorf("more than one %s[x] given", fp.name)
		}
		if nonEmpty {
			return d.errorf("element %s repeated but allows at most one", seg.name)
		}
	}
	switch fp.kind {
	case fkPrim:
		ptr := reflect.New(fp.elem)
		if err := d.primitive(ptr.Interface().(primitiveValue).prim(), fp.sub); err != nil {
			return err
		}
		setOrAppend(f, ptr, fp.repeated)
	case fkStruct:
		ptr := reflect.New(fp.elem)
		if err := d.structure(ptr.Elem(), fp.sub); err != nil {
			return err
		}
		setOrAppend(f, ptr, fp.repeated)
	case fkChoice:
		a := &fp.alts[alt]
		ptr := reflect.New(a.typ)
		if a.prim {
			if err := d.primitive(ptr.Interface().(primitiveValue).prim(), a.sub); err != nil {
				return err
			}
		} else if err := d.structure(ptr.Elem(), a.sub); err != nil {
			return err
		}
		f.Set(ptr)
	case fkResource:
		r, err := d.container()
		if err != nil {
			return err
		}
		setOrAppend(f, reflect.ValueOf(r), fp.repeated)
	case fkXhtml:
		s, err := d.xhtml()
		if err != nil {
			return err
		}
		f.SetString(s)
	default:
		return d.errorf("internal error: element kind %d", fp.kind)
	}
	return nil
}

func setOrAppend(f, v reflect.Value, repeated bool) {
	if repeated {
		f.Set(reflect.Append(f, v))
	} else {
		f.Set(v)
	}
}

// primitive decodes a primitive element: value and id attributes and
// extension children.
func (d *xmlDecoder) primitive(pv *primitive, p *typePlan) error {
	for i := range d.sc.attrs {
		a := &d.sc.attrs[i]
		switch {
		case a.space != "":
			d.foreignAttr(a)
		case string(a.local) == "value":
			// The scanner has checked the characters.
			pv.Value = a.str()
			if msg := checkValue(p.pkind, p.integer, pv.Value); msg != "" {
				return d.errorf("%s", msg)
			}
		case string(a.local) == "id":
			pv.ID = a.str()
			if !validChars(pv.ID) {
				return d.errorf("attribute id contains a control character")
			}
		default:
			return d.errorf("unknown attribute %s", clip(string(a.local)))
		}
	}
	if d.sc.selfEnd {
		if pv.empty() {
			d.emptyFinding()
		}
		return nil
	}
	ext := planOf(reflect.TypeFor[Extension]())
	for {
		k, err := d.next(false)
		if err != nil {
			return err
		}
		switch k {
		case tokEnd:
			if pv.empty() {
				d.emptyFinding()
			}
			return nil
		case tokText:
			return d.errorf("unexpected text content (primitive values go in the value attribute)")
		case tokEOF:
			return d.errorf("unexpected end of input")
		}
		name, err := d.enter(NamespaceFHIR)
		if err != nil {
			return err
		}
		if string(name) != "extension" {
			d.path = append(d.path, pathSeg{string(name), -1})
			return d.errorf("unknown element (a primitive holds only extensions)")
		}
		d.path = append(d.path, pathSeg{"extension", len(pv.Extension)})
		e := new(Extension)
		if err := d.structure(reflect.ValueOf(e).Elem(), ext); err != nil {
			return err
		}
		d.path = d.path[:len(d.path)-1]
		pv.Extension = append(pv.Extension, e)
		d.leave()
	}
}

// container decodes <resource> or <contained>: exactly one resource.
func (d *xmlDecoder) container() (Resource, error) {
	for i := range d.sc.attrs {
		a := &d.sc.attrs[i]
		if a.space == "" {
			return nil, d.errorf("unknown attribute %s", clip(string(a.local)))
		}
		d.foreignAttr(a)
	}
	if d.sc.selfEnd {
		return nil, d.errorf("empty resource container")
	}
	var res Resource
	for {
		k, err := d.next(false)
		if err != nil {
			return nil, err
		}
		switch k {
		case tokEnd:
			if res == nil {
				return nil, d.errorf("empty resource container")
			}
			return res, nil
		case tokText:
			return nil, d.errorf("unexpected text content")
		case tokEOF:
			return nil, d.errorf("unexpected end of input")
		}
		if res != nil {
			return nil, d.errorf("more than one resource in one container")
		}
		res, err = d.resource(nil)
		if err != nil {
			return nil, err
		}
	}
}

const emptyMsg = "empty element: FHIR requires a value, id or extension (kept as read)"

func (d *xmlDecoder) emptyFinding() { d.findings.add(d.pathString(), emptyMsg) }
