package fhir

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"reflect"
)

// DecodeJSON reads one FHIR STU3 resource in JSON from r.
func DecodeJSON(r io.Reader, opts *DecodeOptions) (Resource, []Finding, error) {
	return decodeJSON(context.Background(), r, nil, opts)
}

// DecodeJSONContext is DecodeJSON that stops when ctx ends, as
// DecodeXMLContext does.
func DecodeJSONContext(ctx context.Context, r io.Reader, opts *DecodeOptions) (Resource, []Finding, error) {
	return decodeJSON(ctx, r, nil, opts)
}

// DecodeJSONInto reads one FHIR STU3 resource in JSON from r into dst,
// whose resource type the document must match.
func DecodeJSONInto(r io.Reader, dst Resource, opts *DecodeOptions) ([]Finding, error) {
	_, f, err := decodeJSON(context.Background(), r, dst, opts)
	return f, err
}

type jsonDecoder struct {
	sc       *jsonScanner
	lim      limits
	maxBytes int64
	maxDepth int
	depth    int
	elements int
	path     []pathSeg
	findings findingList
	// narrativeLeft bounds the canonical narrative, as in xmlDecoder.
	narrativeLeft int64
	div           []byte
}

func decodeJSON(ctx context.Context, r io.Reader, dst Resource, opts *DecodeOptions) (Resource, []Finding, error) {
	l := opts.limits()
	d := &jsonDecoder{sc: newJSONScanner(r, l.bytes), lim: l, maxBytes: l.bytes, maxDepth: l.depth, narrativeLeft: l.bytes}
	d.sc.watch(ctx)
	res, err := d.document(dst)
	if err != nil {
		return nil, d.findings.list, d.wrap(err)
	}
	return res, d.findings.done(res), nil
}

func (d *jsonDecoder) pathString() string {
	x := xmlDecoder{path: d.path}
	return x.pathString()
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return &SyntaxError{Format: "json", Line: d.sc.line(), Offset: d.sc.offset(), Path: d.pathString(), Msg: fmt.Sprintf(format, args...)}
}

// wrap adds the element path to scanner errors.
func (d *jsonDecoder) wrap(err error) error {
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

func (d *jsonDecoder) push() error {
	d.depth++
	if d.depth > d.maxDepth {
		return &LimitError{Limit: "depth", Max: int64(d.maxDepth), Offset: d.sc.offset(), Path: d.pathString()}
	}
	return d.count()
}

// count counts one element against MaxElements.
func (d *jsonDecoder) count() error {
	d.elements++
	if d.elements > d.lim.elements {
		return &LimitError{Limit: "elements", Max: int64(d.lim.elements), Offset: d.sc.offset(), Path: d.pathString()}
	}
	return nil
}

func (d *jsonDecoder) document(dst Resource) (Resource, error) {
	d.sc.skipBOM()
	c, err := d.sc.peek()
	if err != nil {
		return nil, err
	}
	if c != '{' {
		return nil, d.errorf("expected a resource object, found %s", describeByte(c))
	}
	res, err := d.resourceObject(dst)
	if err != nil {
		return nil, err
	}
	if c, err := d.sc.peek(); err != nil {
		return nil, err
	} else if c != 0 {
		return nil, d.errorf("data after the resource")
	}
	return res, nil
}

// object reads an object, calling fn for each member with the scanner at
// the member's value. It counts one level of depth.
func (d *jsonDecoder) object(fn func(key string) error) error {
	if err := d.sc.expect('{', "an object"); err != nil {
		return err
	}
	if err := d.push(); err != nil {
		return err
	}
	defer func() { d.depth-- }()
	c, err := d.sc.peek()
	if err != nil {
		return err
	}
	if c == '}' {
		d.sc.pos++
		return nil
	}
	for {
		key, err := d.sc.str()
		if err != nil {
			return err
		}
		if err := d.sc.expect(':', "':' after a member name"); err != nil {
			return err
		}
		if err := fn(key); err != nil {
			return err
		}
		c, err := d.sc.peek()
		if err != nil {
			return err
		}
		d.sc.pos++
		switch c {
		case ',':
			continue
		case '}':
			return nil
		}
		d.sc.pos--
		return d.errorf("expected ',' or '}', found %s", describeByte(c))
	}
}

// array reads an array, calling fn for each item.
func (d *jsonDecoder) array(fn func(i int) error) error {
	if err := d.sc.expect('[', "an array"); err != nil {
		return err
	}
	if err := d.push(); err != nil {
		return err
	}
	defer func() { d.depth-- }()
	c, err := d.sc.peek()
	if err != nil {
		return err
	}
	if c == ']' {
		d.sc.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := fn(i); err != nil {
			return err
		}
		c, err := d.sc.peek()
		if err != nil {
			return err
		}
		d.sc.pos++
		switch c {
		case ',':
			continue
		case ']':
			return nil
		}
		d.sc.pos--
		return d.errorf("expected ',' or ']', found %s", describeByte(c))
	}
}

// resourceObject decodes a resource object. When resourceType is not the
// first member, the members before it are kept as raw bytes (within the
// byte limit) and decoded once the type is known.
func (d *jsonDecoder) resourceObject(dst Resource) (Resource, error) {
	var (
		res      Resource
		v        reflect.Value
		p        *typePlan
		st       objState
		buffered []member
	)
	err := d.object(func(key string) error {
		if p != nil {
			return d.member(v, p, &st, key)
		}
		if key != "resourceType" {
			raw, err := d.capture()
			if err != nil {
				return err
			}
			buffered = append(buffered, member{key, raw})
			return nil
		}
		rt, err := d.sc.str()
		if err != nil {
			return err
		}
		res = dst
		if res == nil {
			if res = NewResource(rt); res == nil {
				return d.errorf("unknown resourceType %q", clip(rt))
			}
		} else if res.ResourceType() != rt {
			return d.errorf("document is a %s, want %s", clip(rt), res.ResourceType())
		}
		v = reflect.ValueOf(res)
		if v.Kind() != reflect.Pointer || v.IsNil() {
			return fmt.Errorf("fhir: cannot decode into %T", res)
		}
		if p = planOf(v.Elem().Type()); p == nil {
			return fmt.Errorf("fhir: %T is not a resource of package fhir", res)
		}
		v = v.Elem()
		d.path = append(d.path, pathSeg{p.name, -1})
		st.seen = map[string]bool{"resourceType": true}
		saved := d.sc
		defer func() { d.sc = saved }()
		for _, m := range buffered {
			d.sc = newJSONScanner(bytes.NewReader(m.raw), d.maxBytes)
			d.sc.watch(saved.ctx)
			if err := d.member(v, p, &st, m.key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, d.errorf("resource has no resourceType")
	}
	if err := d.finish(v, p); err != nil {
		return nil, err
	}
	d.path = d.path[:len(d.path)-1]
	return res, nil
}

// member is one buffered key and raw value of an object.
type member struct {
	key string
	raw []byte
}

// capture returns the raw bytes of the next value.
func (d *jsonDecoder) capture() ([]byte, error) {
	if _, err := d.sc.peek(); err != nil {
		return nil, err
	}
	d.sc.beginCaptureAt(d.sc.pos)
	err := d.sc.skip(d.maxDepth - d.depth)
	raw := d.sc.endCapture()
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), raw...), nil
}

// objState tracks which members of one object were seen.
type objState struct {
	seen map[string]bool
}

// structObject decodes an object into the struct v.
func (d *jsonDecoder) structObject(v reflect.Value, p *typePlan) error {
	var st objState
	if err := d.object(func(key string) error { return d.member(v, p, &st, key) }); err != nil {
		return err
	}
	return d.finish(v, p)
}

// finish reports primitives that ended up with neither value, id nor
// extension (possible through null in both name and _name arrays).
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
				d.finding(pathSeg{name, -1}, emptyMsg)
			}
		}
		if fp.kind != fkPrim || !fp.repeated {
			continue
		}
		for j := 0; j < f.Len(); j++ {
			if f.Index(j).Interface().(primitiveValue).prim().empty() {
				d.finding(pathSeg{fp.name, j}, emptyMsg)
			}
		}
	}
	return nil
}

func (d *jsonDecoder) finding(seg pathSeg, msg string) {
	d.path = append(d.path, seg)
	d.findings.add(d.pathString(), msg)
	d.path = d.path[:len(d.path)-1]
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
		t, err := d.sc.str()
		if err != nil {
			return err
		}
		if t != p.name {
			return d.errorf("resourceType does not match %s", p.name)
		}
		return nil
	case key == "id" && p.idAttr >= 0, key == "url" && p.urlAttr >= 0:
		idx := p.idAttr
		if key == "url" {
			idx = p.urlAttr
		}
		s, err := d.sc.str()
		if err != nil {
			return err
		}
		if !validChars(s) {
			return d.errorf("%s contains a control character", key)
		}
		v.Field(idx).SetString(s)
		return nil
	case key == "fhir_comments":
		d.finding(pathSeg{key, -1}, "fhir_comments ignored")
		return d.sc.skip(d.maxDepth - d.depth)
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
	f := v.Field(fp.index)
	var err error
	switch fp.kind {
	case fkXhtml:
		var s string
		if s, err = d.sc.str(); err == nil {
			if !validChars(s) {
				err = d.errorf("narrative contains a control character")
			} else if div, derr := appendCanonicalDiv(d.div[:0], s, d.narrativeLeft); derr != nil {
				err = d.errorf("%v", derr)
			} else {
				d.div = div
				d.narrativeLeft -= int64(len(div))
				f.SetString(string(div))
			}
		}
	case fkPrim:
		if fp.repeated {
			err = d.primList(f, fp, meta)
			break
		}
		if f.IsNil() {
			f.Set(reflect.New(fp.elem))
		}
		err = d.primOne(f.Interface().(primitiveValue).prim(), fp.pkind, fp.integer, meta)
	case fkChoice:
		a := &fp.alts[ref.alt]
		if !f.IsNil() && f.Elem().Type().Elem() != a.typ {
			err = d.errorf("more than one type given for %s[x]", fp.name)
			break
		}
		if f.IsNil() {
			f.Set(reflect.New(a.typ))
		}
		if a.prim {
			err = d.primOne(f.Interface().(primitiveValue).prim(), a.pkind, a.intg, meta)
		} else {
			err = d.structObject(f.Elem().Elem(), a.sub)
		}
	case fkStruct:
		err = d.structs(f, fp)
	case fkResource:
		if !fp.repeated {
			var r Resource
			if r, err = d.resourceObject(nil); err == nil {
				f.Set(reflect.ValueOf(r))
			}
			break
		}
		err = d.array(func(i int) error {
			d.path[len(d.path)-1].index = i
			r, err := d.resourceObject(nil)
			if err != nil {
				return err
			}
			f.Set(reflect.Append(f, reflect.ValueOf(r)))
			return nil
		})
	default:
		err = d.errorf("internal error: kind %d", fp.kind)
	}
	if err != nil {
		return err
	}
	d.path = d.path[:len(d.path)-1]
	return nil
}

func (d *jsonDecoder) structs(f reflect.Value, fp *fieldPlan) error {
	if !fp.repeated {
		ptr := reflect.New(fp.elem)
		if err := d.structObject(ptr.Elem(), fp.sub); err != nil {
			return err
		}
		f.Set(ptr)
		return nil
	}
	return d.array(func(i int) error {
		d.path[len(d.path)-1].index = i
		ptr := reflect.New(fp.elem)
		if err := d.structObject(ptr.Elem(), fp.sub); err != nil {
			return err
		}
		f.Set(reflect.Append(f, ptr))
		return nil
	})
}

// primOne decodes a primitive's value (meta false) or its _name object.
func (d *jsonDecoder) primOne(pv *primitive, kind primKind, integer, meta bool) error {
	if meta {
		return d.primMeta(pv)
	}
	if pv.Value != "" {
		return d.errorf("value given twice")
	}
	return d.primValue(pv, kind, integer)
}

func (d *jsonDecoder) primValue(pv *primitive, kind primKind, integer bool) error {
	if err := d.count(); err != nil {
		return err
	}
	c, err := d.sc.peek()
	if err != nil {
		return err
	}
	var s string
	switch {
	case c == '"':
		if kind != primString {
			return d.errorf("expected a %s, found a string", kindName(kind))
		}
		if s, err = d.sc.str(); err != nil {
			return err
		}
	case c == '{' || c == '[':
		return d.errorf("expected a %s, found %s", kindName(kind), describeByte(c))
	default:
		if s, err = d.sc.scalar(); err != nil {
			return err
		}
		if s == "null" {
			return d.errorf("expected a %s, found null", kindName(kind))
		}
		isBool := s == "true" || s == "false"
		if kind == primString || isBool != (kind == primBool) {
			return d.errorf("expected a %s, found %s", kindName(kind), describeByte(c))
		}
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

// primMeta decodes the {id, extension} object of a primitive.
func (d *jsonDecoder) primMeta(pv *primitive) error {
	if pv.ID != "" || len(pv.Extension) > 0 {
		return d.errorf("id and extension given twice")
	}
	p := planOf(reflect.TypeFor[String]())
	seen := map[string]bool{}
	return d.object(func(key string) error {
		if seen[key] {
			return d.errorf("member %q repeated", clip(key))
		}
		seen[key] = true
		switch key {
		case "id":
			s, err := d.sc.str()
			if err == nil && !validChars(s) {
				err = d.errorf("id contains a control character")
			}
			pv.ID = s
			return err
		case "extension":
			var list []*Extension
			d.path = append(d.path, pathSeg{"extension", -1})
			if err := d.structs(reflect.ValueOf(&list).Elem(), &p.fields[0]); err != nil {
				return err
			}
			d.path = d.path[:len(d.path)-1]
			pv.Extension = list
			return nil
		}
		d.path = append(d.path, pathSeg{key, -1})
		return d.errorf("unknown element (a primitive holds only id and extension)")
	})
}

// primList decodes the array of values (or of _name objects) of a
// repeating primitive, filling elements by position.
func (d *jsonDecoder) primList(f reflect.Value, fp *fieldPlan, meta bool) error {
	seg := &d.path[len(d.path)-1]
	return d.array(func(i int) error {
		seg.index = i
		for f.Len() <= i {
			f.Set(reflect.Append(f, reflect.New(fp.elem)))
		}
		c, err := d.sc.peek()
		if err != nil {
			return err
		}
		if c == 'n' {
			if err := d.count(); err != nil {
				return err
			}
			s, err := d.sc.scalar()
			if err != nil {
				return err
			}
			if s != "null" {
				return d.errorf("expected a value or null")
			}
			return nil
		}
		pv := f.Index(i).Interface().(primitiveValue).prim()
		if meta {
			return d.primMeta(pv)
		}
		if pv.Value != "" {
			return d.errorf("value given twice")
		}
		return d.primValue(pv, fp.pkind, fp.integer)
	})
}
