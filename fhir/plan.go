package fhir

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// fieldKind says how an element is stored and written.
type fieldKind uint8

const (
	fkAttr     fieldKind = iota // string in an XML attribute (Element.id, Extension.url)
	fkPrim                      // *Primitive or []*Primitive
	fkStruct                    // *Type or []*Type
	fkChoice                    // choice interface, element name + type suffix
	fkResource                  // Resource or []Resource
	fkXhtml                     // Narrative.div, canonical XHTML
)

// fieldPlan is one element of a type in canonical order.
type fieldPlan struct {
	name     string
	index    int
	kind     fieldKind
	repeated bool
	elem     reflect.Type // struct type of prim/struct fields
	sub      *typePlan    // plan of elem
	pkind    primKind
	integer  bool
	alts     []altPlan
}

type altPlan struct {
	name  string // full element name, e.g. valueString
	jname string // "_valueString"
	typ   reflect.Type
	sub   *typePlan
	prim  bool
	pkind primKind
	intg  bool
}

// elemRef locates an element name in a plan.
type elemRef struct {
	field int
	alt   int // -1 unless a choice alternative
}

// typePlan describes how to read and write one Go struct type.
type typePlan struct {
	typ      reflect.Type
	name     string // FHIR resource name for resources
	resource bool
	prim     bool
	pkind    primKind
	integer  bool
	fields   []fieldPlan
	elems    map[string]elemRef // XML/JSON element names (choices expanded)
	jelems   map[string]elemRef // "_name" JSON keys of primitives
	idAttr   int                // field index of the id attribute, -1 if none
	urlAttr  int                // field index of Extension.url, -1 if none
}

var (
	plansOnce sync.Once
	plans     map[reflect.Type]*typePlan
)

// planOf returns the plan of struct type t (nil if t is not a model type).
func planOf(t reflect.Type) *typePlan {
	plansOnce.Do(buildPlans)
	return plans[t]
}

func buildPlans() {
	plans = make(map[reflect.Type]*typePlan)
	for _, f := range resourceTypes {
		r := f()
		buildPlan(reflect.TypeOf(r).Elem())
	}
}

var resourceIface = reflect.TypeFor[Resource]()

func isIntegerType(t reflect.Type) bool {
	return t == reflect.TypeFor[Integer]() || t == reflect.TypeFor[PositiveInt]() || t == reflect.TypeFor[UnsignedInt]()
}

func buildPlan(t reflect.Type) *typePlan {
	if p, ok := plans[t]; ok {
		return p
	}
	p := &typePlan{typ: t, elems: map[string]elemRef{}, jelems: map[string]elemRef{}, idAttr: -1, urlAttr: -1}
	plans[t] = p
	if k, ok := primitiveKinds[t]; ok {
		p.prim, p.pkind, p.integer = true, k, isIntegerType(t)
		p.fields = append(p.fields, fieldPlan{name: "extension", index: 1, kind: fkStruct, repeated: true,
			elem: reflect.TypeFor[Extension](), sub: buildPlan(reflect.TypeFor[Extension]())})
		p.elems["extension"] = elemRef{0, -1}
		return p
	}
	if reflect.PointerTo(t).Implements(resourceIface) {
		p.resource = true
		p.name = reflect.New(t).Interface().(Resource).ResourceType()
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("fhir")
		if tag == "" {
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		fp := fieldPlan{name: name, index: i}
		ft := sf.Type
		if ft.Kind() == reflect.Slice {
			fp.repeated = true
			ft = ft.Elem()
		}
		switch opt {
		case "attr":
			fp.kind = fkAttr
			if name == "id" {
				p.idAttr = i
			} else {
				p.urlAttr = i
			}
		case "xhtml":
			fp.kind = fkXhtml
		case "resource":
			fp.kind = fkResource
		case "choice":
			fp.kind = fkChoice
			alts, ok := choiceTypes[ft]
			if !ok {
				panic(fmt.Sprintf("fhir: no alternatives for %v", ft))
			}
			for _, a := range alts {
				ap := altPlan{name: name + a.suffix, typ: a.typ, sub: buildPlan(a.typ)}
				ap.jname = "_" + ap.name
				ap.prim, ap.pkind, ap.intg = ap.sub.prim, ap.sub.pkind, ap.sub.integer
				fp.alts = append(fp.alts, ap)
			}
		default:
			if ft.Kind() != reflect.Pointer || ft.Elem().Kind() != reflect.Struct {
				panic(fmt.Sprintf("fhir: unexpected field type %v in %v", sf.Type, t))
			}
			fp.elem = ft.Elem()
			fp.sub = buildPlan(fp.elem)
			if fp.sub.prim {
				fp.kind, fp.pkind, fp.integer = fkPrim, fp.sub.pkind, fp.sub.integer
			} else {
				fp.kind = fkStruct
			}
		}
		idx := len(p.fields)
		p.fields = append(p.fields, fp)
		switch fp.kind {
		case fkAttr:
		case fkChoice:
			for j, a := range fp.alts {
				p.elems[a.name] = elemRef{idx, j}
				if a.prim {
					p.jelems[a.jname] = elemRef{idx, j}
				}
			}
		default:
			p.elems[name] = elemRef{idx, -1}
			if fp.kind == fkPrim {
				p.jelems["_"+name] = elemRef{idx, -1}
			}
		}
	}
	return p
}
