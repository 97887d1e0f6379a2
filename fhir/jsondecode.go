package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// DecodeJSON reads one FHIR STU3 resource in JSON from r.
func DecodeJSON(r io.Reader, opts *DecodeOptions) (Resource, []Finding, error) {
	return decodeJSON(r, nil, opts)
}

// DecodeJSONInto reads one FHIR STU3 resource in JSON from r into dst,
// whose resource type the document must match.
func DecodeJSONInto(r io.Reader, dst Resource, opts *DecodeOptions) ([]Finding, error) {
	_, f, err := decodeJSON(r, dst, opts)
	return f, err
}

// limitReader fails with a *LimitError once more than max bytes are read.
type limitReader struct {
	r      io.Reader
	n, max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, &LimitError{Limit: "bytes", Max: l.max, Offset: l.max}
	}
	if left := l.max - l.n + 1; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, &LimitError{Limit: "bytes", Max: l.max, Offset: l.max}
	}
	return n, err
}

type jsonDecoder struct {
	dec      *json.Decoder
	maxDepth int
	depth    int
	path     []pathSeg
	findings []Finding
}

func newJSONDecoder(r io.Reader) *json.Decoder {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec
}

func decodeJSON(r io.Reader, dst Resource, opts *DecodeOptions) (Resource, []Finding, error) {
	maxBytes, maxDepth := opts.limits()
	d := &jsonDecoder{dec: newJSONDecoder(&limitReader{r: r, max: maxBytes}), maxDepth: maxDepth}
	res, err := d.document(dst)
	if err != nil {
		return nil, d.findings, err
	}
	return res, d.findings, nil
}

func (d *jsonDecoder) pathString() string {
	x := xmlDecoder{path: d.path}
	return x.pathString()
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return &SyntaxError{Format: "json", Offset: d.dec.InputOffset(), Path: d.pathString(), Msg: fmt.Sprintf(format, args...)}
}

// token reads the next token, turning reader and syntax errors into ours.
func (d *jsonDecoder) token() (json.Token, error) {
	t, err := d.dec.Token()
	if err != nil {
		return nil, d.convert(err)
	}
	return t, nil
}

func (d *jsonDecoder) convert(err error) error {
	var le *LimitError
	if errors.As(err, &le) {
		if le.Path == "" {
			le.Path = d.pathString()
		}
		return le
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &SyntaxError{Format: "json", Offset: se.Offset, Path: d.pathString(), Msg: strings.TrimPrefix(se.Error(), "json: "), Err: err}
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return d.errorf("unexpected end of input")
	}
	var ue *json.UnmarshalTypeError
	if errors.As(err, &ue) {
		return d.errorf("%v", err)
	}
	return fmt.Errorf("fhir: reading json: %w", err)
}

func (d *jsonDecoder) push() error {
	d.depth++
	if d.depth > d.maxDepth {
		return &LimitError{Limit: "depth", Max: int64(d.maxDepth), Offset: d.dec.InputOffset(), Path: d.pathString()}
	}
	return nil
}

func (d *jsonDecoder) pop() { d.depth-- }

func (d *jsonDecoder) document(dst Resource) (Resource, error) {
	if err := d.expectDelim('{', "a resource object"); err != nil {
		return nil, err
	}
	res, err := d.resourceObject(dst)
	if err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); err != io.EOF {
		if err != nil {
			return nil, d.convert(err)
		}
		return nil, d.errorf("data after the resource")
	}
	return res, nil
}

func (d *jsonDecoder) expectDelim(want json.Delim, what string) error {
	t, err := d.token()
	if err != nil {
		return err
	}
	if t != want {
		return d.errorf("expected %s, got %s", what, describe(t))
	}
	return d.push()
}

func describe(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		return "'" + v.String() + "'"
	case string:
		return fmt.Sprintf("string %q", clip(v))
	case json.Number:
		return "number " + clip(string(v))
	case bool:
		return fmt.Sprintf("%v", v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", t)
}

// member is one buffered key and value of an object.
type member struct {
	key string
	raw json.RawMessage
}

// resourceObject decodes a resource whose '{' has been read. When
// resourceType is not the first member the object is buffered (within the
// byte limit) until it is found.
func (d *jsonDecoder) resourceObject(dst Resource) (Resource, error) {
	t, err := d.token()
	if err != nil {
		return nil, err
	}
	var buffered []member
	rt := ""
	for rt == "" {
		if t == json.Delim('}') {
			return nil, d.errorf("resource has no resourceType")
		}
		key, _ := t.(string)
		if key == "resourceType" {
			v, err := d.token()
			if err != nil {
				return nil, err
			}
			s, ok := v.(string)
			if !ok || s == "" {
				return nil, d.errorf("resourceType must be a string, got %s", describe(v))
			}
			rt = s
			break
		}
		var raw json.RawMessage
		if err := d.dec.Decode(&raw); err != nil {
			return nil, d.convert(err)
		}
		buffered = append(buffered, member{key, raw})
		if t, err = d.token(); err != nil {
			return nil, err
		}
	}
	res := dst
	if res == nil {
		if res = NewResource(rt); res == nil {
			return nil, d.errorf("unknown resourceType %q", clip(rt))
		}
	} else if res.ResourceType() != rt {
		return nil, d.errorf("document is a %s, want %s", clip(rt), res.ResourceType())
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
	st := newObjState(p)
	if len(buffered) > 0 {
		saved := d.dec
		for _, m := range buffered {
			d.dec = newJSONDecoder(bytes.NewReader(m.raw))
			err := d.member(v.Elem(), p, st, m.key)
			if err != nil {
				d.dec = saved
				return nil, err
			}
		}
		d.dec = saved
	}
	if err := d.members(v.Elem(), p, st); err != nil {
		return nil, err
	}
	d.path = d.path[:len(d.path)-1]
	return res, nil
}

// objState tracks which members of one object were seen.
type objState struct {
	seen map[string]bool
}

func newObjState(p *typePlan) *objState { return &objState{} }

// members decodes members up to and including the closing '}'.
func (d *jsonDecoder) members(v reflect.Value, p *typePlan, st *objState) error {
	for {
		t, err := d.token()
		if err != nil {
			return err
		}
		if t == json.Delim('}') {
			d.pop()
			return d.finish(v, p)
		}
		key, ok := t.(string)
		if !ok {
			return d.errorf("expected a member name, got %s", describe(t))
		}
		if err := d.member(v, p, st, key); err != nil {
			return err
		}
	}
}

// finish checks primitives assembled from name and _name.
func (d *jsonDecoder) finish(v reflect.Value, p *typePlan) error {
	for i := range p.fields {
		fp := &p.fields[i]
		f := v.Field(fp.index)
		if (fp.kind == fkPrim && !fp.repeated || fp.kind == fkChoice) && !f.IsNil() {
			if pv, ok := f.Interface().(primitiveValue); ok && pv.prim().empty() {
				name := fp.name
				if fp.kind == fkChoice {
					name += "[x]"
				}
				d.path = append(d.path, pathSeg{name, -1})
				d.findings = append(d.findings, Finding{Path: d.pathString(), Message: emptyMsg})
				d.path = d.path[:len(d.path)-1]
			}
		}
		if fp.kind != fkPrim || !fp.repeated {
			continue
		}
		for j := 0; j < f.Len(); j++ {
			if f.Index(j).Interface().(primitiveValue).prim().empty() {
				d.path = append(d.path, pathSeg{fp.name, j})
				d.findings = append(d.findings, Finding{Path: d.pathString(), Message: emptyMsg})
				d.path = d.path[:len(d.path)-1]
			}
		}
	}
	return nil
}

func (d *jsonDecoder) member(v reflect.Value, p *typePlan, st *objState, key string) error {
	if st.seen == nil {
		st.seen = make(map[string]bool, 8)
	}
	if st.seen[key] {
		return d.errorf("member %q repeated", clip(key))
	}
	st.seen[key] = true
	switch {
	case key == "resourceType" && p.resource:
		t, err := d.token()
		if err != nil {
			return err
		}
		if t != p.name {
			return d.errorf("resourceType %s does not match %s", describe(t), p.name)
		}
		return nil
	case key == "id" && p.idAttr >= 0, key == "url" && p.urlAttr >= 0:
		idx := p.idAttr
		if key == "url" {
			idx = p.urlAttr
		}
		s, err := d.str(key)
		if err != nil {
			return err
		}
		v.Field(idx).SetString(s)
		return nil
	case key == "fhir_comments":
		d.findings = append(d.findings, Finding{Path: d.pathString(), Message: "fhir_comments ignored"})
		var raw json.RawMessage
		if err := d.dec.Decode(&raw); err != nil {
			return d.convert(err)
		}
		return nil
	}
	meta := false
	ref, ok := p.elems[key]
	if !ok {
		if ref, ok = p.jelems[key]; !ok {
			d.path = append(d.path, pathSeg{key, -1})
			return d.errorf("unknown element")
		}
		meta = true
	}
	fp := &p.fields[ref.field]
	name := fp.name
	if ref.alt >= 0 {
		name = fp.alts[ref.alt].name
	}
	d.path = append(d.path, pathSeg{name, -1})
	defer func() { d.path = d.path[:len(d.path)-1] }()
	f := v.Field(fp.index)
	switch fp.kind {
	case fkXhtml:
		s, err := d.str(key)
		if err != nil {
			return err
		}
		if err := checkDiv(s); err != nil {
			return d.errorf("%v", err)
		}
		f.SetString(s)
		return nil
	case fkPrim:
		if fp.repeated {
			return d.primList(f, fp, meta)
		}
		if f.IsNil() {
			f.Set(reflect.New(fp.elem))
		}
		return d.primOne(f.Interface().(primitiveValue).prim(), fp.pkind, fp.integer, meta)
	case fkChoice:
		a := &fp.alts[ref.alt]
		if !f.IsNil() {
			if f.Elem().Type().Elem() != a.typ {
				return d.errorf("more than one type given for %s[x]", fp.name)
			}
		} else {
			f.Set(reflect.New(a.typ))
		}
		if a.prim {
			return d.primOne(f.Interface().(primitiveValue).prim(), a.pkind, a.intg, meta)
		}
		if err := d.expectDelim('{', "an object"); err != nil {
			return err
		}
		return d.members(f.Elem().Elem(), a.sub, newObjState(a.sub))
	case fkStruct:
		return d.structs(f, fp)
	case fkResource:
		if !fp.repeated {
			if err := d.expectDelim('{', "a resource object"); err != nil {
				return err
			}
			r, err := d.resourceObject(nil)
			if err != nil {
				return err
			}
			f.Set(reflect.ValueOf(r))
			return nil
		}
		if err := d.expectDelim('[', "an array"); err != nil {
			return err
		}
		for i := 0; ; i++ {
			d.path[len(d.path)-1].index = i
			t, err := d.token()
			if err != nil {
				return err
			}
			if t == json.Delim(']') {
				d.pop()
				return nil
			}
			if t != json.Delim('{') {
				return d.errorf("expected a resource object, got %s", describe(t))
			}
			if err := d.push(); err != nil {
				return err
			}
			r, err := d.resourceObject(nil)
			if err != nil {
				return err
			}
			f.Set(reflect.Append(f, reflect.ValueOf(r)))
		}
	}
	return d.errorf("internal error: kind %d", fp.kind)
}

func (d *jsonDecoder) str(key string) (string, error) {
	t, err := d.token()
	if err != nil {
		return "", err
	}
	s, ok := t.(string)
	if !ok {
		return "", d.errorf("%s must be a string, got %s", key, describe(t))
	}
	return s, nil
}

func (d *jsonDecoder) structs(f reflect.Value, fp *fieldPlan) error {
	if !fp.repeated {
		if err := d.expectDelim('{', "an object"); err != nil {
			return err
		}
		ptr := reflect.New(fp.elem)
		if err := d.members(ptr.Elem(), fp.sub, newObjState(fp.sub)); err != nil {
			return err
		}
		f.Set(ptr)
		return nil
	}
	if err := d.expectDelim('[', "an array"); err != nil {
		return err
	}
	for i := 0; ; i++ {
		d.path[len(d.path)-1].index = i
		t, err := d.token()
		if err != nil {
			return err
		}
		if t == json.Delim(']') {
			d.pop()
			return nil
		}
		if t != json.Delim('{') {
			return d.errorf("expected an object, got %s", describe(t))
		}
		if err := d.push(); err != nil {
			return err
		}
		ptr := reflect.New(fp.elem)
		if err := d.members(ptr.Elem(), fp.sub, newObjState(fp.sub)); err != nil {
			return err
		}
		f.Set(reflect.Append(f, ptr))
	}
}

// primOne decodes a primitive's value (meta false) or its _name object.
func (d *jsonDecoder) primOne(pv *primitive, kind primKind, integer, meta bool) error {
	t, err := d.token()
	if err != nil {
		return err
	}
	if meta {
		return d.primMeta(pv, t)
	}
	return d.primValue(pv, kind, integer, t)
}

func (d *jsonDecoder) primValue(pv *primitive, kind primKind, integer bool, t json.Token) error {
	var s string
	switch x := t.(type) {
	case string:
		if kind != primString {
			return d.errorf("expected a %s, got %s", kindName(kind), describe(t))
		}
		s = x
	case json.Number:
		if kind != primNumber {
			return d.errorf("expected a %s, got %s", kindName(kind), describe(t))
		}
		s = string(x)
	case bool:
		if kind != primBool {
			return d.errorf("expected a %s, got %s", kindName(kind), describe(t))
		}
		s = "false"
		if x {
			s = "true"
		}
	default:
		return d.errorf("expected a %s, got %s", kindName(kind), describe(t))
	}
	if msg := checkLexical(kind, integer, s); msg != "" {
		return d.errorf("%s", msg)
	}
	pv.Value = s
	return nil
}

func kindName(k primKind) string {
	switch k {
	case primBool:
		return "boolean"
	case primNumber:
		return "number"
	}
	return "string"
}

// primMeta decodes the {id, extension} object of a primitive; t is its '{'.
func (d *jsonDecoder) primMeta(pv *primitive, t json.Token) error {
	if t != json.Delim('{') {
		return d.errorf("expected an object with id and extension, got %s", describe(t))
	}
	if err := d.push(); err != nil {
		return err
	}
	if pv.ID != "" || len(pv.Extension) > 0 {
		return d.errorf("id and extension given twice")
	}
	p := planOf(reflect.TypeFor[String]())
	ext := p.fields[0].sub
	seen := map[string]bool{}
	for {
		t, err := d.token()
		if err != nil {
			return err
		}
		if t == json.Delim('}') {
			d.pop()
			return nil
		}
		key, _ := t.(string)
		if seen[key] {
			return d.errorf("member %q repeated", clip(key))
		}
		seen[key] = true
		switch key {
		case "id":
			if pv.ID, err = d.str("id"); err != nil {
				return err
			}
		case "extension":
			var list []*Extension
			f := reflect.ValueOf(&list).Elem()
			d.path = append(d.path, pathSeg{"extension", -1})
			if err := d.structs(f, &p.fields[0]); err != nil {
				return err
			}
			d.path = d.path[:len(d.path)-1]
			pv.Extension = list
			_ = ext
		default:
			d.path = append(d.path, pathSeg{key, -1})
			return d.errorf("unknown element (a primitive holds only id and extension)")
		}
	}
}

// primList decodes the array of values (or of _name objects) of a
// repeating primitive, filling elements by position.
func (d *jsonDecoder) primList(f reflect.Value, fp *fieldPlan, meta bool) error {
	if err := d.expectDelim('[', "an array"); err != nil {
		return err
	}
	seg := &d.path[len(d.path)-1]
	for i := 0; ; i++ {
		seg.index = i
		t, err := d.token()
		if err != nil {
			return err
		}
		if t == json.Delim(']') {
			d.pop()
			return nil
		}
		for f.Len() <= i {
			f.Set(reflect.Append(f, reflect.New(fp.elem)))
		}
		if t == nil {
			continue
		}
		pv := f.Index(i).Interface().(primitiveValue).prim()
		if meta {
			err = d.primMeta(pv, t)
		} else {
			err = d.primValue(pv, fp.pkind, fp.integer, t)
		}
		if err != nil {
			return err
		}
	}
}

// checkDiv checks that s is one well-formed XHTML div element.
func checkDiv(s string) error {
	x := &xmlDecoder{sc: newXMLScanner(strings.NewReader(s), int64(len(s))+1), maxDepth: DefaultMaxDepth}
	k, err := x.next(false)
	if err != nil {
		return err
	}
	if k != tokStart {
		return fmt.Errorf("narrative div must start with <div>")
	}
	if _, _, err := x.enterAny(); err != nil {
		return err
	}
	out, err := x.xhtml()
	if err != nil {
		return err
	}
	if x.lookupNS("") != NamespaceXHTML {
		return fmt.Errorf("narrative div must declare xmlns=%q", NamespaceXHTML)
	}
	if k, err := x.next(false); err != nil || k != tokEOF {
		return fmt.Errorf("content after the narrative div")
	}
	if out != s {
		return fmt.Errorf("narrative div must declare its namespace")
	}
	return nil
}
