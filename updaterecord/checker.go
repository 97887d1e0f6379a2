package updaterecord

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
)

// entry is one resource of the message or document bundle.
type entry struct {
	fullURL string
	typ     string
	res     fhir.Resource
	path    string // e.g. Bundle.entry[2].resource(Bundle).entry[0].resource(Composition)
	inDoc   bool
}

type checker struct {
	opts        Options
	root        *fhir.Bundle  // the message; nil for a lone resource
	lone        fhir.Resource // a lone payload resource
	outer       []*entry
	header      *entry
	mh          *fhir.MessageHeader
	doc         *entry
	docBundle   *fhir.Bundle
	inner       []*entry
	comp        *entry
	composition *fhir.Composition
	kind        string
	uc          UseCase
	findings    []Finding
}

// implemented lists the labels and rule identifiers some check reports
// (TestImplemented triggers each).
var implemented = func() map[string]bool {
	m := map[string]bool{}
	for _, id := range strings.Fields(`UR-B01 UR-B02 UR-B03 UR-B04 UR-B05 UR-B06 UR-B07 UR-B08
		UR-C01 UR-C02 UR-C03 UR-C04 UR-C05 UR-C06 UR-C07 UR-C08 UR-C09 UR-C10 UR-C11 UR-C12 UR-C13 UR-C14 UR-C15 UR-C16
		UR-D01 UR-D02 UR-D03 UR-D04 UR-D05 UR-D06 UR-D07 UR-D08 UR-D09 UR-D11 UR-D12 UR-D13 UR-D14 UR-D15 UR-D16 UR-D19
		UR-E02 UR-E03 UR-F03 UR-F08
		FHIR-STU3 FHIR-BDL NHS-NUMBER MESH-ADDRESS ITK3-RESP GPC-PROFILE GPC-BP-TRIPLET ID-FORM`) {
		m[id] = true
	}
	return m
}()

func newChecker(res fhir.Resource, opts Options) *checker {
	c := &checker{opts: opts, kind: KindUnknown}
	b, ok := res.(*fhir.Bundle)
	if !ok {
		c.lone = res
		return c
	}
	c.root = b
	c.outer = entriesOf(b, "Bundle", false)
	for _, e := range c.outer {
		if mh, ok := e.res.(*fhir.MessageHeader); ok {
			c.header, c.mh = e, mh
			break
		}
	}
	return c
}

func entriesOf(b *fhir.Bundle, base string, inDoc bool) []*entry {
	var out []*entry
	for i, be := range b.Entry {
		if be == nil || be.Resource == nil || reflect.ValueOf(be.Resource).IsNil() {
			continue
		}
		typ := be.Resource.ResourceType()
		out = append(out, &entry{fullURL: be.FullURL.String(), typ: typ, res: be.Resource, inDoc: inDoc,
			path: fmt.Sprintf("%s.entry[%d].resource(%s)", base, i, typ)})
	}
	return out
}

// ---- findings ----

// fail reports a breach of id with the inventory's severity and code; a
// Rule… identifier gets an error answered 20009.
func (c *checker) fail(id, path, format string, a ...any) {
	sev, code := SeverityError, itk3.CodePayloadValidationFailure
	if r, ok := inventoryIndex[id]; ok {
		sev, code = r.Severity, r.Code
	}
	c.emit(id, sev, code, path, format, a...)
}

// failCode reports an error answered with code.
func (c *checker) failCode(id string, code itk3.ResponseCode, path, format string, a ...any) {
	c.emit(id, SeverityError, code, path, format, a...)
}

// warn reports a breach that is accepted: no response code.
func (c *checker) warn(id, path, format string, a ...any) {
	c.emit(id, SeverityWarning, 0, path, format, a...)
}

// note reports something allowed but worth knowing (a defect the digest
// lists as tolerated or cosmetic).
func (c *checker) note(id, path, format string, a ...any) {
	c.emit(id, SeverityInfo, 0, path, format, a...)
}

func (c *checker) emit(id string, sev Severity, code itk3.ResponseCode, path, format string, a ...any) {
	c.findings = append(c.findings, Finding{Requirement: id, Severity: sev, Path: path, Message: fmt.Sprintf(format, a...), Code: code})
}

// ---- model helpers ----

func metaOf(r fhir.Resource) *fhir.Meta {
	v := reflect.ValueOf(r)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil
	}
	f := v.Elem().FieldByName("Meta")
	if !f.IsValid() || f.IsNil() {
		return nil
	}
	m, _ := f.Interface().(*fhir.Meta)
	return m
}

func idOf(r fhir.Resource) string {
	v := reflect.ValueOf(r)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return ""
	}
	f := v.Elem().FieldByName("ID")
	if !f.IsValid() {
		return ""
	}
	id, _ := f.Interface().(*fhir.ID)
	return id.String()
}

// profiles returns the declared profiles, trimmed.
func profiles(r fhir.Resource) []string {
	m := metaOf(r)
	if m == nil {
		return nil
	}
	var out []string
	for _, p := range m.Profile {
		if s := strings.TrimSpace(p.String()); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func hasProfile(r fhir.Resource, p string) bool {
	for _, x := range profiles(r) {
		if x == p {
			return true
		}
	}
	return false
}

func tags(r fhir.Resource) []*fhir.Coding {
	if m := metaOf(r); m != nil {
		return m.Tag
	}
	return nil
}

// heading returns the RecordStandardHeadings code a resource is tagged
// with (either host of the code system).
func heading(r fhir.Resource) string {
	for _, t := range tags(r) {
		if t == nil {
			continue
		}
		if s := t.System.String(); s == HeadingSystem || s == headingSystemUKCore {
			return t.Code.String()
		}
	}
	return ""
}

func codings(cc *fhir.CodeableConcept) []*fhir.Coding {
	if cc == nil {
		return nil
	}
	var out []*fhir.Coding
	for _, cd := range cc.Coding {
		if cd != nil {
			out = append(out, cd)
		}
	}
	return out
}

// codeIn returns the first code of cc from system.
func codeIn(cc *fhir.CodeableConcept, system string) string {
	for _, cd := range codings(cc) {
		if cd.System.String() == system {
			return cd.Code.String()
		}
	}
	return ""
}

func identifierValue(ids []*fhir.Identifier, system string) (*fhir.Identifier, string) {
	for _, id := range ids {
		if id != nil && id.System.String() == system {
			return id, id.Value.String()
		}
	}
	return nil, ""
}

// resolve finds the entry a reference points at: a fullUrl (or Type/id) in
// the document bundle, then in the message bundle.
func (c *checker) resolve(r *fhir.Reference) *entry {
	if r == nil {
		return nil
	}
	ref := r.Reference.String()
	if ref == "" {
		return nil
	}
	for _, set := range [][]*entry{c.inner, c.outer} {
		for _, e := range set {
			if e.fullURL == ref || e.typ+"/"+idOf(e.res) == ref {
				return e
			}
		}
	}
	return nil
}

// refTo checks that a required reference resolves to one of types.
func (c *checker) refTo(id string, e *entry, field string, r *fhir.Reference, types ...string) *entry {
	p := e.path + "." + field
	if r == nil || r.Reference.String() == "" {
		c.fail(id, p, "%s.%s is missing; it must reference the %s", e.typ, field, strings.Join(types, " or "))
		return nil
	}
	return c.refType(id, e, field, r, types...)
}

// refType checks that a reference, when present and resolvable, points at
// one of types (unresolvable references are reported once, by
// checkReferences).
func (c *checker) refType(id string, e *entry, field string, r *fhir.Reference, types ...string) *entry {
	t := c.resolve(r)
	if t == nil {
		return nil
	}
	if !anyIn(t.typ, types...) {
		c.fail(id, e.path+"."+field, "%s.%s points at a %s; it must be a %s", e.typ, field, t.typ, strings.Join(types, " or "))
		return nil
	}
	return t
}

// flag reads a boolean handling key (nil when absent or not a boolean).
func (c *checker) flag(key string) *bool {
	if c.mh == nil {
		return nil
	}
	for _, x := range c.mh.Extension {
		if x == nil || x.URL != itk3.MessageHandlingURL {
			continue
		}
		for _, k := range x.Extension {
			if k == nil {
				continue
			}
			if b, ok := k.Value.(*fhir.Boolean); ok && k.URL == key && (b.Value == "true" || b.Value == "false") {
				v := b.Bool()
				return &v
			}
		}
	}
	return nil
}

// version is Composition.meta.versionId as a number (0 when absent).
func (c *checker) version() int {
	if c.composition == nil || c.composition.Meta == nil {
		return 0
	}
	n, err := strconv.Atoi(c.composition.Meta.VersionID.String())
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// walkRefs calls fn for every Reference inside a resource (not inside
// contained resources or nested bundle entries).
func walkRefs(r fhir.Resource, base string, fn func(path string, ref *fhir.Reference)) {
	visitRefs(reflect.ValueOf(r), base, fn)
}

var refPtrType = reflect.TypeFor[*fhir.Reference]()

func visitRefs(v reflect.Value, path string, fn func(string, *fhir.Reference)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.Type() == refPtrType {
			fn(path, v.Interface().(*fhir.Reference))
			return
		}
		if v.Kind() == reflect.Interface && v.Elem().Type() == refPtrType {
			fn(path, v.Elem().Interface().(*fhir.Reference))
			return
		}
		visitRefs(v.Elem(), path, fn)
	case reflect.Slice:
		for i := range v.Len() {
			visitRefs(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			tag, ok := t.Field(i).Tag.Lookup("fhir")
			if !ok {
				continue
			}
			name, opt, _ := strings.Cut(tag, ",")
			if opt == "resource" {
				continue // contained resources and bundle entries are checked as entries
			}
			visitRefs(v.Field(i), path+"."+name, fn)
		}
	}
}
