// Command fhirgen writes the Go model of FHIR STU3 for package fhir from the
// compiled STU3 protocol buffers of github.com/google/fhir: the types
// (zz_types.go, zz_schema.go, zz_primitives.go) and the required value-set
// bindings of code elements with their codes (zz_bindings.go). It lives in
// its own module so that gpcm itself never depends on protobuf.
//
// Usage (from package fhir): go run ./internal/fhirgen -o .
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	_ "github.com/google/fhir/go/proto/google/fhir/proto/stu3/resources_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

const pkgPrefix = "google.fhir.stu3.proto."

// primitives maps the FHIR primitive type name to the Go type name and JSON kind.
var primitives = map[string]struct{ goName, kind string }{
	"boolean":      {"Boolean", "primBool"},
	"integer":      {"Integer", "primNumber"},
	"unsignedInt":  {"UnsignedInt", "primNumber"},
	"positiveInt":  {"PositiveInt", "primNumber"},
	"decimal":      {"Decimal", "primNumber"},
	"string":       {"String", "primString"},
	"uri":          {"URI", "primString"},
	"base64Binary": {"Base64Binary", "primString"},
	"instant":      {"Instant", "primString"},
	"date":         {"Date", "primString"},
	"dateTime":     {"DateTime", "primString"},
	"time":         {"Time", "primString"},
	"code":         {"Code", "primString"},
	"oid":          {"OID", "primString"},
	"id":           {"ID", "primString"},
	"markdown":     {"Markdown", "primString"},
	"uuid":         {"UUID", "primString"},
}

type field struct {
	goName  string
	elem    string // FHIR element name (without [x])
	goType  string // Go type of the field
	tag     string
	comment string
}

type structDef struct {
	goName   string
	fhirPath string // e.g. Patient.contact
	url      string
	resource bool
	fields   []field
}

type choiceDef struct {
	goName string
	path   string
	alts   []string // FHIR type names, e.g. Boolean, DateTime, CodeableConcept
	goAlts []string // Go type names
}

type gen struct {
	structs map[string]*structDef
	choices map[string]*choiceDef
	names   map[string]string // Go name -> proto full name (collision check)
	queue   []protoreflect.MessageDescriptor
	// bindings: Go type name -> element -> value set URL, for code elements
	// bound with strength required (the protos give those an enum).
	bindings map[string]map[string]string
	// valueSets: value set URL -> its codes, in the definition's order.
	valueSets map[string][]string
}

func main() {
	out := flag.String("o", ".", "output directory (package fhir)")
	flag.Parse()
	g := &gen{structs: map[string]*structDef{}, choices: map[string]*choiceDef{}, names: map[string]string{},
		bindings: map[string]map[string]string{}, valueSets: map[string][]string{}}
	cr := find("ContainedResource")
	var resources []string
	for i := 0; i < cr.Fields().Len(); i++ {
		md := cr.Fields().Get(i).Message()
		resources = append(resources, string(md.Name()))
		g.enqueue(md)
	}
	g.enqueue(find("Extension"))
	for len(g.queue) > 0 {
		md := g.queue[0]
		g.queue = g.queue[1:]
		g.message(md)
	}
	write(filepath.Join(*out, "zz_types.go"), g.types())
	write(filepath.Join(*out, "zz_schema.go"), g.schema(resources))
	write(filepath.Join(*out, "zz_primitives.go"), primitivesFile())
	write(filepath.Join(*out, "zz_bindings.go"), g.bindingsFile())
}

func find(name string) protoreflect.MessageDescriptor {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(pkgPrefix + name))
	if err != nil {
		log.Fatalf("find %s: %v", name, err)
	}
	return d.(protoreflect.MessageDescriptor)
}

func write(path string, src []byte) {
	b, err := format.Source(src)
	if err != nil {
		os.WriteFile(path+".broken", src, 0o644)
		log.Fatalf("format %s: %v", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}

func shortName(md protoreflect.MessageDescriptor) string {
	return strings.TrimPrefix(string(md.FullName()), pkgPrefix)
}

// goTypeName names a message: a backbone element after its FHIR path
// (MessageHeader.source is MessageHeaderSource, although the proto calls it
// MessageSource), everything else after the proto.
func goTypeName(md protoreflect.MessageDescriptor) string {
	if parent, elem := definingField(md); parent != nil {
		return goTypeName(parent) + upperFirst(elem)
	}
	return strings.ReplaceAll(shortName(md), ".", "")
}

// definingField returns the parent message and element name of a nested
// message when exactly one field of the parent has it as its type.
func definingField(md protoreflect.MessageDescriptor) (protoreflect.MessageDescriptor, string) {
	parent, ok := md.Parent().(protoreflect.MessageDescriptor)
	if !ok || isChoice(md) {
		return nil, ""
	}
	var elem string
	n := 0
	fs := parent.Fields()
	for i := 0; i < fs.Len(); i++ {
		if f := fs.Get(i); f.Message() != nil && f.Message().FullName() == md.FullName() {
			elem = f.JSONName()
			n++
		}
	}
	if n != 1 {
		return nil, ""
	}
	return parent, elem
}

func kindOf(md protoreflect.MessageDescriptor) annotations_go_proto.StructureDefinitionKindValue {
	return proto.GetExtension(md.Options(), annotations_go_proto.E_StructureDefinitionKind).(annotations_go_proto.StructureDefinitionKindValue)
}

func isChoice(md protoreflect.MessageDescriptor) bool {
	return proto.GetExtension(md.Options(), annotations_go_proto.E_IsChoiceType).(bool)
}

func sdURL(md protoreflect.MessageDescriptor) string {
	return proto.GetExtension(md.Options(), annotations_go_proto.E_FhirStructureDefinitionUrl).(string)
}

func valueSetURL(md protoreflect.MessageDescriptor) string {
	return proto.GetExtension(md.Options(), annotations_go_proto.E_FhirValuesetUrl).(string)
}

// primitiveName returns the FHIR primitive type name of a primitive message
// ("" if md is not primitive). Bound code enums report "code".
func primitiveName(md protoreflect.MessageDescriptor) string {
	if kindOf(md) != annotations_go_proto.StructureDefinitionKindValue_KIND_PRIMITIVE_TYPE {
		return ""
	}
	if u := sdURL(md); strings.HasPrefix(u, "http://hl7.org/fhir/StructureDefinition/") {
		return strings.TrimPrefix(u, "http://hl7.org/fhir/StructureDefinition/")
	}
	return "code"
}

func (g *gen) enqueue(md protoreflect.MessageDescriptor) {
	n := goTypeName(md)
	if prev, ok := g.names[n]; ok {
		if prev != string(md.FullName()) {
			log.Fatalf("Go name %s used by %s and %s", n, prev, md.FullName())
		}
		return
	}
	g.names[n] = string(md.FullName())
	g.queue = append(g.queue, md)
}

var initialisms = map[string]string{"Id": "ID", "Url": "URL", "Uri": "URI", "Oid": "OID", "Uuid": "UUID", "Json": "JSON", "Xml": "XML", "Http": "HTTP"}

// goField turns a FHIR element name into an exported Go field name.
func goField(elem string) string {
	s := strings.ToUpper(elem[:1]) + elem[1:]
	// split into camel words and fix initialisms
	var words []string
	start := 0
	for i := 1; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			words = append(words, s[start:i])
			start = i
		}
	}
	words = append(words, s[start:])
	for i, w := range words {
		if r, ok := initialisms[w]; ok {
			words[i] = r
		}
	}
	return strings.Join(words, "")
}

func upperFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// fhirPath turns a proto name like Bundle.Entry.Request into Bundle.entry.request.
func fhirPath(md protoreflect.MessageDescriptor) string {
	if parent, elem := definingField(md); parent != nil {
		return fhirPath(parent) + "." + elem
	}
	parts := strings.Split(shortName(md), ".")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToLower(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, ".")
}

// typeRef returns the Go type of a field whose message is md, queueing md.
func (g *gen) typeRef(md protoreflect.MessageDescriptor, parent protoreflect.MessageDescriptor, elem string) (goType, tag string, choice bool) {
	if p := primitiveName(md); p != "" {
		if p == "xhtml" {
			return "string", ",xhtml", false
		}
		pi, ok := primitives[p]
		if !ok {
			log.Fatalf("unknown primitive %s (%s)", p, md.FullName())
		}
		return "*" + pi.goName, "", false
	}
	switch shortName(md) {
	case "ContainedResource":
		return "Resource", ",resource", false
	}
	if isChoice(md) {
		g.choice(md, parent, elem)
		return g.choiceName(md), ",choice", true
	}
	g.enqueue(md)
	return "*" + goTypeName(md), "", false
}

func (g *gen) choiceName(md protoreflect.MessageDescriptor) string {
	n := goTypeName(md)
	if parent, ok := md.Parent().(protoreflect.MessageDescriptor); ok {
		n = goTypeName(parent) + string(md.Name())
	}
	return strings.TrimSuffix(n, "ValueX") + map[bool]string{true: "Value", false: ""}[strings.HasSuffix(n, "ValueX")]
}

func (g *gen) choice(md, parent protoreflect.MessageDescriptor, elem string) {
	n := g.choiceName(md)
	if _, ok := g.choices[n]; ok {
		return
	}
	c := &choiceDef{goName: n, path: fhirPath(parent) + "." + elem + "[x]"}
	fs := md.Fields()
	for i := 0; i < fs.Len(); i++ {
		fd := fs.Get(i)
		alt := upperFirst(fd.JSONName())
		t, _, _ := g.typeRef(fd.Message(), md, alt)
		c.alts = append(c.alts, alt)
		c.goAlts = append(c.goAlts, strings.TrimPrefix(t, "*"))
	}
	g.choices[n] = c
}

func (g *gen) message(md protoreflect.MessageDescriptor) {
	n := goTypeName(md)
	sd := &structDef{goName: n, fhirPath: fhirPath(md), url: sdURL(md),
		resource: kindOf(md) == annotations_go_proto.StructureDefinitionKindValue_KIND_RESOURCE}
	g.structs[n] = sd
	switch shortName(md) {
	case "Reference":
		sd.fields = []field{
			{goName: "ID", elem: "id", goType: "string", tag: "id,attr"},
			{goName: "Extension", elem: "extension", goType: "[]*Extension", tag: "extension"},
			{goName: "Reference", elem: "reference", goType: "*String", tag: "reference", comment: "literal reference, relative, internal or absolute URL"},
			{goName: "Identifier", elem: "identifier", goType: "*Identifier", tag: "identifier", comment: "logical reference, when literal reference is not known"},
			{goName: "Display", elem: "display", goType: "*String", tag: "display", comment: "text alternative for the resource"},
		}
		g.enqueue(find("Identifier"))
		return
	case "Extension":
		sd.fields = []field{
			{goName: "ID", elem: "id", goType: "string", tag: "id,attr"},
			{goName: "Extension", elem: "extension", goType: "[]*Extension", tag: "extension"},
			{goName: "URL", elem: "url", goType: "string", tag: "url,attr", comment: "identifies the meaning of the extension"},
		}
		t, _, _ := g.typeRef(find("Extension.ValueX"), md, "value")
		sd.fields = append(sd.fields, field{goName: "Value", elem: "value", goType: t, tag: "value,choice", comment: "value of extension"})
		return
	}
	fs := md.Fields()
	for i := 0; i < fs.Len(); i++ {
		fd := fs.Get(i)
		elem := fd.JSONName()
		f := field{goName: goField(elem), elem: elem}
		if fd.Message() == nil {
			log.Fatalf("%s.%s is not a message", md.FullName(), fd.Name())
		}
		if elem == "id" && !sd.resource && shortName(fd.Message()) == "String" {
			f.goType, f.tag = "string", "id,attr"
			sd.fields = append(sd.fields, f)
			continue
		}
		t, tag, choice := g.typeRef(fd.Message(), md, elem)
		if fd.Cardinality() == protoreflect.Repeated {
			if choice || tag == ",xhtml" {
				log.Fatalf("repeated choice/xhtml %s", fd.FullName())
			}
			t = "[]" + t
		}
		f.goType, f.tag = t, elem+tag
		var notes []string
		if refs := proto.GetExtension(fd.Options(), annotations_go_proto.E_ValidReferenceType).([]string); len(refs) > 0 {
			notes = append(notes, "Reference("+strings.Join(refs, "|")+")")
		}
		if vs := valueSetURL(fd.Message()); vs != "" {
			notes = append(notes, "binding "+vs)
			g.requiredBinding(n, elem, fd.Message())
		}
		if choice {
			notes = append(notes, "one of "+strings.Join(g.choices[t].goAlts, ", "))
		}
		if proto.GetExtension(fd.Options(), annotations_go_proto.E_ValidationRequirement).(annotations_go_proto.Requirement) == annotations_go_proto.Requirement_REQUIRED_BY_FHIR {
			notes = append(notes, "required")
		}
		f.comment = strings.Join(notes, "; ")
		sd.fields = append(sd.fields, f)
	}
}

// requiredBinding records the binding of element elem of Go type typ when
// its code message is closed: the STU3 protos give a code element bound
// with strength required an enum of the value set's codes (and keep a plain
// string for other strengths and for value sets without a closed list,
// such as the languages and MIME types).
func (g *gen) requiredBinding(typ, elem string, md protoreflect.MessageDescriptor) {
	f := md.Fields().ByName("value")
	if primitiveName(md) != "code" || f == nil || f.Kind() != protoreflect.EnumKind {
		return
	}
	vs := valueSetURL(md)
	var codes []string
	vals := f.Enum().Values()
	for i := 0; i < vals.Len(); i++ {
		ev := vals.Get(i)
		if ev.Number() == 0 {
			continue // INVALID_UNINITIALIZED
		}
		codes = append(codes, enumCode(ev))
	}
	if prev, ok := g.valueSets[vs]; ok && strings.Join(prev, " ") != strings.Join(codes, " ") {
		log.Fatalf("value set %s has two code lists: %v and %v", vs, prev, codes)
	}
	g.valueSets[vs] = codes
	if g.bindings[typ] == nil {
		g.bindings[typ] = map[string]string{}
	}
	g.bindings[typ][elem] = vs
}

// enumCode is the FHIR code of an enum value: its fhir_original_code, or
// the value name in lower case with "-" for "_" (google/fhir's rule).
func enumCode(ev protoreflect.EnumValueDescriptor) string {
	if c := proto.GetExtension(ev.Options(), annotations_go_proto.E_FhirOriginalCode).(string); c != "" {
		return c
	}
	return strings.ReplaceAll(strings.ToLower(string(ev.Name())), "_", "-")
}

func (g *gen) bindingsFile() []byte {
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("// valueSetCodes holds the codes of every value set an STU3 code element is\n// bound to with strength required, in the definitions' order.\nvar valueSetCodes = map[string][]string{\n")
	for _, vs := range sortedKeys(g.valueSets) {
		fmt.Fprintf(&b, "\t%q: {", vs)
		for i, c := range g.valueSets[vs] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", c)
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n\n")
	b.WriteString("// requiredBindings maps a model type and the name of one of its code\n// elements to the value set the element is bound to with strength required.\nvar requiredBindings = map[string]map[string]string{\n")
	for _, typ := range sortedKeys(g.bindings) {
		fmt.Fprintf(&b, "\t%q: {", typ)
		for i, elem := range sortedKeys(g.bindings[typ]) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q: %q", elem, g.bindings[typ][elem])
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	return b.Bytes()
}

const header = "// Code generated by fhirgen from the google/fhir STU3 protos; DO NOT EDIT.\n\npackage fhir\n\n"

func sortedKeys[M ~map[string]V, V any](m M) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (g *gen) types() []byte {
	var b bytes.Buffer
	b.WriteString(header)
	for _, n := range sortedKeys(g.structs) {
		sd := g.structs[n]
		what := "the FHIR STU3 element " + sd.fhirPath
		if sd.url != "" {
			kind := "data type"
			if sd.resource {
				kind = "resource"
			}
			what = fmt.Sprintf("the FHIR STU3 %s %s (%s)", sd.fhirPath, kind, sd.url)
		}
		fmt.Fprintf(&b, "// %s is %s.\ntype %s struct {\n", n, what, n)
		for _, f := range sd.fields {
			c := ""
			if f.comment != "" {
				c = " // " + f.comment
			}
			fmt.Fprintf(&b, "\t%s %s `fhir:%q`%s\n", f.goName, f.goType, f.tag, c)
		}
		b.WriteString("}\n\n")
		if sd.resource {
			fmt.Fprintf(&b, "// ResourceType returns %q.\nfunc (*%s) ResourceType() string { return %q }\n\n", n, n, n)
		}
	}
	for _, n := range sortedKeys(g.choices) {
		c := g.choices[n]
		fmt.Fprintf(&b, "// %s is the choice %s: one of %s.\ntype %s interface{ is%s() }\n\n", n, c.path, strings.Join(ptrs(c.goAlts), ", "), n, n)
		for _, t := range c.goAlts {
			fmt.Fprintf(&b, "func (*%s) is%s() {}\n", t, n)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func ptrs(ts []string) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = "*" + t
	}
	return out
}

func (g *gen) schema(resources []string) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("import \"reflect\"\n\n")
	b.WriteString("// resourceTypes makes an empty resource from its type name.\nvar resourceTypes = map[string]func() Resource{\n")
	sort.Strings(resources)
	for _, r := range resources {
		fmt.Fprintf(&b, "\t%q: func() Resource { return new(%s) },\n", r, r)
	}
	b.WriteString("}\n\n")
	b.WriteString("// choiceTypes lists the alternatives of each choice interface: the type\n// suffix of the element name and the Go type.\nvar choiceTypes = map[reflect.Type][]choiceAlt{\n")
	for _, n := range sortedKeys(g.choices) {
		c := g.choices[n]
		fmt.Fprintf(&b, "\treflect.TypeFor[%s](): {\n", n)
		for i, a := range c.alts {
			fmt.Fprintf(&b, "\t\t{%q, reflect.TypeFor[%s]()},\n", a, c.goAlts[i])
		}
		b.WriteString("\t},\n")
	}
	b.WriteString("}\n\n")
	b.WriteString("// primitiveKinds maps each primitive type to its JSON representation.\nvar primitiveKinds = map[reflect.Type]primKind{\n")
	for _, p := range sortedKeys(primitives) {
		fmt.Fprintf(&b, "\treflect.TypeFor[%s](): %s,\n", primitives[p].goName, primitives[p].kind)
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func primitivesFile() []byte {
	var b bytes.Buffer
	b.WriteString(header)
	for _, p := range sortedKeys(primitives) {
		n := primitives[p].goName
		fmt.Fprintf(&b, `// %[1]s is the FHIR STU3 primitive type %[2]s. Value holds its exact
// lexical form ("" when the element carries only an id or extensions).
type %[1]s struct {
	ID        string
	Extension []*Extension
	Value     string
}

%[3]s// String returns the lexical value, or "" for a nil %[1]s.
func (p *%[1]s) String() string {
	if p == nil {
		return ""
	}
	return p.Value
}

func (p *%[1]s) prim() *primitive { return (*primitive)(p) }

`, n, p, ctor(n, p))
	}
	return b.Bytes()
}

func ctor(n, p string) string {
	if p == "boolean" || p == "integer" {
		return ""
	}
	return fmt.Sprintf("// New%[1]s returns a %[2]s with the lexical value v.\nfunc New%[1]s(v string) *%[1]s { return &%[1]s{Value: v} }\n\n", n, p)
}
