package senddoc

import (
	"reflect"
	"strings"

	"github.com/gpcm/gpcm/fhir"
)

// treeOf turns a typed fhir resource into the JSON-shaped tree the rules
// read. Primitive values keep their lexical form as strings; choice elements
// get their valueX names; a primitive's own id and extensions are dropped
// (no rule reads them).
func treeOf(r fhir.Resource) node {
	if r == nil || reflect.ValueOf(r).IsNil() {
		return nil
	}
	n := structTree(reflect.ValueOf(r).Elem())
	n["resourceType"] = r.ResourceType()
	return n
}

var resourceIface = reflect.TypeFor[fhir.Resource]()

func structTree(v reflect.Value) node {
	n := node{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("fhir")
		if !ok {
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if fv.IsZero() {
			continue
		}
		switch opt {
		case "choice":
			if fv.IsNil() {
				continue
			}
			alt := fv.Elem()
			n[name+choiceSuffix(alt.Type())] = valueTree(alt)
			continue
		}
		if fv.Kind() == reflect.Slice {
			arr := make([]any, 0, fv.Len())
			for j := 0; j < fv.Len(); j++ {
				if x := valueTree(fv.Index(j)); x != nil {
					arr = append(arr, x)
				}
			}
			if len(arr) > 0 {
				n[name] = arr
			}
			continue
		}
		if x := valueTree(fv); x != nil {
			n[name] = x
		}
	}
	return n
}

func valueTree(v reflect.Value) any {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		if r, ok := v.Interface().(fhir.Resource); ok {
			return treeOf(r)
		}
		return valueTree(v.Elem())
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if r, ok := v.Interface().(fhir.Resource); ok && v.Type().Implements(resourceIface) {
			return treeOf(r)
		}
		return valueTree(v.Elem())
	case reflect.Struct:
		if isPrimitive(v.Type()) {
			return v.FieldByName("Value").String()
		}
		return structTree(v)
	}
	return nil
}

// isPrimitive: the generated primitive types are structs with untagged ID,
// Extension and Value fields.
func isPrimitive(t reflect.Type) bool {
	f, ok := t.FieldByName("Value")
	return ok && f.Type.Kind() == reflect.String && f.Tag == ""
}

func choiceSuffix(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch name := t.Name(); name {
	case "ID":
		return "Id"
	case "OID":
		return "Oid"
	case "URI":
		return "Uri"
	case "UUID":
		return "Uuid"
	default:
		return name
	}
}
