package fhir

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"reflect"
)

// EncodeOptions controls the writers. The zero value (or nil) writes
// pretty-printed output indented by two spaces.
type EncodeOptions struct {
	// Compact leaves out all insignificant whitespace.
	Compact bool
}

// EncodeXML writes r as FHIR XML in canonical STU3 element order, the
// narrative div in its canonical form (see package documentation); a div
// that is not well-formed XHTML is an *EncodeError.
func EncodeXML(w io.Writer, r Resource, opts *EncodeOptions) error {
	bw, own := w.(*bufio.Writer)
	if !own {
		bw = bufio.NewWriterSize(w, 32<<10)
	}
	e := &xmlEncoder{w: bw, compact: opts != nil && opts.Compact}
	if err := e.resource(r, true); err != nil {
		return err
	}
	if !e.compact {
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("fhir: writing xml: %w", err)
	}
	return nil
}

type xmlEncoder struct {
	w       *bufio.Writer
	compact bool
	depth   int
	started bool
	path    []pathSeg
	div     []byte // scratch for the canonical narrative
}

// EncodeError reports a model that cannot be written, such as a choice
// element holding a type it does not allow.
type EncodeError struct {
	Path string
	Msg  string
}

func (e *EncodeError) Error() string { return "fhir: encoding " + e.Path + ": " + e.Msg }

func (e *xmlEncoder) errorf(format string, args ...any) error {
	d := xmlDecoder{path: e.path}
	return &EncodeError{Path: d.pathString(), Msg: fmt.Sprintf(format, args...)}
}

const spaces = "                                                                "

func (e *xmlEncoder) newline() {
	if e.compact {
		return
	}
	if e.started {
		e.w.WriteByte('\n')
	}
	e.started = true
	n := 2 * e.depth
	for n > len(spaces) {
		e.w.WriteString(spaces)
		n -= len(spaces)
	}
	e.w.WriteString(spaces[:n])
}

// resourceValue checks that r is a non-nil model resource.
func resourceValue(r Resource) (reflect.Value, *typePlan, error) {
	v := reflect.ValueOf(r)
	if r == nil || v.Kind() != reflect.Pointer || v.IsNil() {
		return v, nil, fmt.Errorf("fhir: cannot encode a nil resource")
	}
	p := planOf(v.Elem().Type())
	if p == nil || !p.resource {
		return v, nil, fmt.Errorf("fhir: %T is not a resource of package fhir", r)
	}
	return v.Elem(), p, nil
}

func (e *xmlEncoder) resource(r Resource, root bool) error {
	v, p, err := resourceValue(r)
	if err != nil {
		return err
	}
	e.path = append(e.path, pathSeg{p.name, -1})
	e.newline()
	e.w.WriteByte('<')
	e.w.WriteString(p.name)
	if root {
		e.w.WriteString(` xmlns="` + NamespaceFHIR + `"`)
	}
	if err := e.content(v, p, p.name); err != nil {
		return err
	}
	e.path = e.path[:len(e.path)-1]
	return nil
}

// content finishes the start tag of a struct element (attributes), writes
// its children and its end tag.
func (e *xmlEncoder) content(v reflect.Value, p *typePlan, name string) error {
	if p.idAttr >= 0 {
		if s := v.Field(p.idAttr).String(); s != "" {
			e.attr("id", s)
		}
	}
	if p.urlAttr >= 0 {
		e.attr("url", v.Field(p.urlAttr).String())
	}
	if !hasChildren(v, p) {
		e.w.WriteString("/>")
		return nil
	}
	e.w.WriteByte('>')
	e.depth++
	for i := range p.fields {
		if err := e.field(v, &p.fields[i]); err != nil {
			return err
		}
	}
	e.depth--
	e.newline()
	e.w.WriteString("</")
	e.w.WriteString(name)
	e.w.WriteByte('>')
	return nil
}

func hasChildren(v reflect.Value, p *typePlan) bool {
	for i := range p.fields {
		fp := &p.fields[i]
		if fp.kind == fkAttr {
			continue
		}
		if !v.Field(fp.index).IsZero() {
			return true
		}
	}
	return false
}

func (e *xmlEncoder) attr(name, value string) {
	e.w.WriteByte(' ')
	e.w.WriteString(name)
	e.w.WriteString(`="`)
	escapeAttr(e.w, value)
	e.w.WriteByte('"')
}

func escapeAttr(w *bufio.Writer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		if esc := xmlEscape(s[i], true); esc != "" {
			w.WriteString(s[last:i])
			w.WriteString(esc)
			last = i + 1
		}
	}
	w.WriteString(s[last:])
}

func (e *xmlEncoder) field(v reflect.Value, fp *fieldPlan) error {
	f := v.Field(fp.index)
	switch fp.kind {
	case fkAttr:
		return nil
	case fkXhtml:
		if s := f.String(); s != "" {
			div, err := appendCanonicalDiv(e.div[:0], s, math.MaxInt64)
			if err != nil {
				e.path = append(e.path, pathSeg{fp.name, -1})
				return e.errorf("narrative: %v", err)
			}
			e.div = div
			e.newline()
			e.w.Write(div)
		}
		return nil
	}
	if !fp.repeated {
		if f.IsNil() {
			return nil
		}
		return e.one(f, fp, -1)
	}
	for i := 0; i < f.Len(); i++ {
		if err := e.one(f.Index(i), fp, i); err != nil {
			return err
		}
	}
	return nil
}

func (e *xmlEncoder) one(f reflect.Value, fp *fieldPlan, idx int) error {
	if f.IsNil() {
		e.path = append(e.path, pathSeg{fp.name, idx})
		return e.errorf("nil element in list")
	}
	switch fp.kind {
	case fkPrim:
		e.path = append(e.path, pathSeg{fp.name, idx})
		if err := e.prim(fp.name, f.Interface().(primitiveValue).prim()); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
		return nil
	case fkStruct:
		e.path = append(e.path, pathSeg{fp.name, idx})
		e.newline()
		e.w.WriteByte('<')
		e.w.WriteString(fp.name)
		if err := e.content(f.Elem(), fp.sub, fp.name); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
		return nil
	case fkChoice:
		a, err := e.alt(f, fp)
		if err != nil {
			return err
		}
		if a.prim {
			return e.prim(a.name, f.Interface().(primitiveValue).prim())
		}
		e.path = append(e.path, pathSeg{a.name, -1})
		e.newline()
		e.w.WriteByte('<')
		e.w.WriteString(a.name)
		if err := e.content(f.Elem().Elem(), a.sub, a.name); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
		return nil
	case fkResource:
		e.path = append(e.path, pathSeg{fp.name, idx})
		e.newline()
		e.w.WriteByte('<')
		e.w.WriteString(fp.name)
		e.w.WriteByte('>')
		e.depth++
		if err := e.resource(f.Interface().(Resource), false); err != nil {
			return err
		}
		e.depth--
		e.newline()
		e.w.WriteString("</")
		e.w.WriteString(fp.name)
		e.w.WriteByte('>')
		e.path = e.path[:len(e.path)-1]
		return nil
	}
	return e.errorf("internal error: kind %d", fp.kind)
}

// alt finds the alternative of a choice that the interface value f holds.
func (e *xmlEncoder) alt(f reflect.Value, fp *fieldPlan) (*altPlan, error) {
	return findAlt(f, fp, func(msg string) error {
		e.path = append(e.path, pathSeg{fp.name + "[x]", -1})
		return e.errorf("%s", msg)
	})
}

// findAlt finds the alternative of a choice that the interface value f
// holds; fail makes the error.
func findAlt(f reflect.Value, fp *fieldPlan, fail func(msg string) error) (*altPlan, error) {
	ptr := f.Elem()
	if ptr.Kind() == reflect.Pointer && ptr.IsNil() {
		return nil, fail(fmt.Sprintf("holds a nil %s", ptr.Type()))
	}
	if ptr.Kind() == reflect.Pointer {
		t := ptr.Type().Elem()
		for i := range fp.alts {
			if fp.alts[i].typ == t {
				return &fp.alts[i], nil
			}
		}
	}
	return nil, fail(fmt.Sprintf("holds %s, which the choice does not allow", ptr.Type()))
}

func (e *xmlEncoder) prim(name string, p *primitive) error {
	e.newline()
	e.w.WriteByte('<')
	e.w.WriteString(name)
	if p.ID != "" {
		e.attr("id", p.ID)
	}
	if p.Value != "" {
		e.attr("value", p.Value)
	}
	if len(p.Extension) == 0 {
		e.w.WriteString("/>")
		return nil
	}
	e.w.WriteByte('>')
	e.depth++
	ext := planOf(reflect.TypeFor[Extension]())
	for i, x := range p.Extension {
		e.path = append(e.path, pathSeg{"extension", i})
		if x == nil {
			return e.errorf("nil element in list")
		}
		e.newline()
		e.w.WriteString("<extension")
		if err := e.content(reflect.ValueOf(x).Elem(), ext, "extension"); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.depth--
	e.newline()
	e.w.WriteString("</")
	e.w.WriteString(name)
	e.w.WriteByte('>')
	return nil
}
