package fhir

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"reflect"
	"unicode/utf8"
)

// EncodeJSON writes r as FHIR JSON (STU3 rules) in canonical element order,
// the narrative div in its canonical form, as EncodeXML does.
func EncodeJSON(w io.Writer, r Resource, opts *EncodeOptions) error {
	bw, own := w.(*bufio.Writer)
	if !own {
		bw = bufio.NewWriterSize(w, 32<<10)
	}
	e := &jsonEncoder{w: bw, compact: opts != nil && opts.Compact}
	if err := e.resource(r); err != nil {
		return err
	}
	if !e.compact {
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("fhir: writing json: %w", err)
	}
	return nil
}

type jsonEncoder struct {
	w       *bufio.Writer
	compact bool
	first   []bool // per open object/array: nothing written yet
	path    []pathSeg
	div     []byte // scratch for the canonical narrative
}

func (e *jsonEncoder) errorf(format string, args ...any) error {
	d := xmlDecoder{path: e.path}
	return &EncodeError{Path: d.pathString(), Msg: fmt.Sprintf(format, args...)}
}

func (e *jsonEncoder) open(c byte) {
	e.w.WriteByte(c)
	e.first = append(e.first, true)
}

func (e *jsonEncoder) close(c byte) {
	empty := e.first[len(e.first)-1]
	e.first = e.first[:len(e.first)-1]
	if !empty {
		e.newline()
	}
	e.w.WriteByte(c)
}

func (e *jsonEncoder) newline() {
	if e.compact {
		return
	}
	e.w.WriteByte('\n')
	n := 2 * len(e.first)
	for n > len(spaces) {
		e.w.WriteString(spaces)
		n -= len(spaces)
	}
	e.w.WriteString(spaces[:n])
}

// item starts the next member or array item.
func (e *jsonEncoder) item() {
	top := &e.first[len(e.first)-1]
	if !*top {
		e.w.WriteByte(',')
	}
	*top = false
	e.newline()
}

func (e *jsonEncoder) key(k string) {
	e.item()
	e.w.WriteByte('"')
	e.w.WriteString(k)
	if e.compact {
		e.w.WriteString(`":`)
	} else {
		e.w.WriteString(`": `)
	}
}

func (e *jsonEncoder) str(s string) {
	e.w.WriteByte('"')
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				e.w.WriteString(s[last:i])
				e.w.WriteString(`\ufffd`)
				i++
				last = i
				continue
			}
			i += size
			continue
		}
		e.w.WriteString(s[last:i])
		switch c {
		case '"':
			e.w.WriteString(`\"`)
		case '\\':
			e.w.WriteString(`\\`)
		case '\n':
			e.w.WriteString(`\n`)
		case '\r':
			e.w.WriteString(`\r`)
		case '\t':
			e.w.WriteString(`\t`)
		default:
			const hex = "0123456789abcdef"
			e.w.WriteString(`\u00`)
			e.w.WriteByte(hex[c>>4])
			e.w.WriteByte(hex[c&0xf])
		}
		i++
		last = i
	}
	e.w.WriteString(s[last:])
	e.w.WriteByte('"')
}

func (e *jsonEncoder) resource(r Resource) error {
	v, p, err := resourceValue(r)
	if err != nil {
		return err
	}
	e.path = append(e.path, pathSeg{p.name, -1})
	e.open('{')
	e.key("resourceType")
	e.str(p.name)
	if err := e.members(v, p); err != nil {
		return err
	}
	e.close('}')
	e.path = e.path[:len(e.path)-1]
	return nil
}

func (e *jsonEncoder) object(v reflect.Value, p *typePlan) error {
	e.open('{')
	if err := e.members(v, p); err != nil {
		return err
	}
	e.close('}')
	return nil
}

func (e *jsonEncoder) members(v reflect.Value, p *typePlan) error {
	for i := range p.fields {
		fp := &p.fields[i]
		f := v.Field(fp.index)
		switch fp.kind {
		case fkAttr:
			s := f.String()
			if s != "" || fp.name == "url" {
				e.key(fp.name)
				e.str(s)
			}
		case fkXhtml:
			if s := f.String(); s != "" {
				div, err := appendCanonicalDiv(e.div[:0], s, math.MaxInt64)
				if err != nil {
					e.path = append(e.path, pathSeg{fp.name, -1})
					return e.errorf("narrative: %v", err)
				}
				e.div = div
				e.key(fp.name)
				e.str(string(div))
			}
		case fkPrim:
			if fp.repeated {
				if err := e.primList(f, fp); err != nil {
					return err
				}
			} else if !f.IsNil() {
				e.path = append(e.path, pathSeg{fp.name, -1})
				if err := e.prim(fp.name, fp.pkind, f.Interface().(primitiveValue).prim()); err != nil {
					return err
				}
				e.path = e.path[:len(e.path)-1]
			}
		case fkStruct:
			if fp.repeated {
				if f.Len() == 0 {
					continue
				}
				e.key(fp.name)
				e.open('[')
				for j := 0; j < f.Len(); j++ {
					x := f.Index(j)
					e.path = append(e.path, pathSeg{fp.name, j})
					if x.IsNil() {
						return e.errorf("nil element in list")
					}
					e.item()
					if err := e.object(x.Elem(), fp.sub); err != nil {
						return err
					}
					e.path = e.path[:len(e.path)-1]
				}
				e.close(']')
			} else if !f.IsNil() {
				e.key(fp.name)
				e.path = append(e.path, pathSeg{fp.name, -1})
				if err := e.object(f.Elem(), fp.sub); err != nil {
					return err
				}
				e.path = e.path[:len(e.path)-1]
			}
		case fkChoice:
			if f.IsNil() {
				continue
			}
			a, err := findAlt(f, fp, func(msg string) error {
				e.path = append(e.path, pathSeg{fp.name + "[x]", -1})
				return e.errorf("%s", msg)
			})
			if err != nil {
				return err
			}
			if a.prim {
				e.path = append(e.path, pathSeg{a.name, -1})
				if err := e.prim(a.name, a.pkind, f.Interface().(primitiveValue).prim()); err != nil {
					return err
				}
				e.path = e.path[:len(e.path)-1]
				continue
			}
			e.key(a.name)
			e.path = append(e.path, pathSeg{a.name, -1})
			if err := e.object(f.Elem().Elem(), a.sub); err != nil {
				return err
			}
			e.path = e.path[:len(e.path)-1]
		case fkResource:
			if fp.repeated {
				if f.Len() == 0 {
					continue
				}
				e.key(fp.name)
				e.open('[')
				for j := 0; j < f.Len(); j++ {
					e.item()
					e.path = append(e.path, pathSeg{fp.name, j})
					r, _ := f.Index(j).Interface().(Resource)
					if err := e.resource(r); err != nil {
						return err
					}
					e.path = e.path[:len(e.path)-1]
				}
				e.close(']')
			} else if !f.IsNil() {
				e.key(fp.name)
				e.path = append(e.path, pathSeg{fp.name, -1})
				if err := e.resource(f.Interface().(Resource)); err != nil {
					return err
				}
				e.path = e.path[:len(e.path)-1]
			}
		}
	}
	return nil
}

func (e *jsonEncoder) value(kind primKind, s string) {
	if kind == primString {
		e.str(s)
	} else {
		e.w.WriteString(s)
	}
}

func hasMeta(p *primitive) bool { return p.ID != "" || len(p.Extension) > 0 || p.Value == "" }

func (e *jsonEncoder) prim(name string, kind primKind, p *primitive) error {
	if p.Value != "" {
		e.key(name)
		e.value(kind, p.Value)
	}
	if hasMeta(p) {
		e.key("_" + name)
		return e.primMeta(p)
	}
	return nil
}

func (e *jsonEncoder) primMeta(p *primitive) error {
	e.open('{')
	if p.ID != "" {
		e.key("id")
		e.str(p.ID)
	}
	if len(p.Extension) > 0 {
		e.key("extension")
		e.open('[')
		ext := planOf(reflect.TypeFor[Extension]())
		for i, x := range p.Extension {
			e.path = append(e.path, pathSeg{"extension", i})
			if x == nil {
				return e.errorf("nil element in list")
			}
			e.item()
			if err := e.object(reflect.ValueOf(x).Elem(), ext); err != nil {
				return err
			}
			e.path = e.path[:len(e.path)-1]
		}
		e.close(']')
	}
	e.close('}')
	return nil
}

func (e *jsonEncoder) primList(f reflect.Value, fp *fieldPlan) error {
	n := f.Len()
	if n == 0 {
		return nil
	}
	anyValue, anyMeta := false, false
	ps := make([]*primitive, n)
	for j := 0; j < n; j++ {
		x := f.Index(j)
		if x.IsNil() {
			e.path = append(e.path, pathSeg{fp.name, j})
			return e.errorf("nil element in list")
		}
		ps[j] = x.Interface().(primitiveValue).prim()
		anyValue = anyValue || ps[j].Value != ""
		anyMeta = anyMeta || hasMeta(ps[j])
	}
	if anyValue {
		e.key(fp.name)
		e.open('[')
		for _, p := range ps {
			e.item()
			if p.Value == "" {
				e.w.WriteString("null")
			} else {
				e.value(fp.pkind, p.Value)
			}
		}
		e.close(']')
	}
	if anyMeta {
		e.key("_" + fp.name)
		e.open('[')
		for j, p := range ps {
			e.item()
			if hasMeta(p) {
				e.path = append(e.path, pathSeg{fp.name, j})
				if err := e.primMeta(p); err != nil {
					return err
				}
				e.path = e.path[:len(e.path)-1]
			} else {
				e.w.WriteString("null")
			}
		}
		e.close(']')
	}
	return nil
}
