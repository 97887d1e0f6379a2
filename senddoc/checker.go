package senddoc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gpcm/gpcm/itk3"
)

// entry is one resource of the message or document bundle.
type entry struct {
	fullURL string
	typ     string
	res     node
	path    string // e.g. Bundle.entry[2].resource.entry[0].resource(Composition)
	inDoc   bool
}

type checker struct {
	opts       Options
	root       node
	outer      []*entry
	header     *entry
	doc        *entry // the document Bundle of a Send Document message
	docEntries []*entry
	comp       *entry
	kind       string
	uc         UseCase
	gen        int
	genFrom    string // GenerationFrom…
	findings   []Finding
}

func newChecker(root node, opts Options) *checker {
	c := &checker{opts: opts, root: root, kind: KindUnknown, gen: GenerationV1}
	c.outer = entriesOf(root, "Bundle", false)
	if len(c.outer) > 0 && c.outer[0].typ == "MessageHeader" {
		c.header = c.outer[0]
	} else {
		for _, e := range c.outer {
			if e.typ == "MessageHeader" {
				c.header = e
				break
			}
		}
	}
	return c
}

func entriesOf(b node, base string, inDoc bool) []*entry {
	var out []*entry
	for i, v := range list(b["entry"]) {
		m, ok := v.(node)
		if !ok {
			continue
		}
		res, _ := m["resource"].(node)
		if res == nil {
			continue
		}
		typ := str(res["resourceType"])
		out = append(out, &entry{
			fullURL: str(m["fullUrl"]), typ: typ, res: res, inDoc: inDoc,
			path: fmt.Sprintf("%s.entry[%d].resource(%s)", base, i, typ),
		})
	}
	return out
}

// handlingSpec reads the MessageHandling extension keys.
type handlingSpec map[string]node

func (c *checker) handling() handlingSpec {
	h := handlingSpec{}
	if c.header == nil {
		return h
	}
	for _, e := range ext(c.header.res, itk3.MessageHandlingURL) {
		for _, v := range list(e["extension"]) {
			if m, ok := v.(node); ok {
				if k := str(m["url"]); k != "" {
					if _, dup := h[k]; !dup {
						h[k] = m
					}
				}
			}
		}
	}
	return h
}

func (h handlingSpec) str(key string) string {
	m := h[key]
	if m == nil {
		return ""
	}
	for _, k := range []string{"valueString", "valueUri", "valueCode", "valueId"} {
		if s := str(m[k]); s != "" {
			return s
		}
	}
	if r, ok := m["valueReference"].(node); ok {
		return str(r["reference"])
	}
	if cd, ok := m["valueCoding"].(node); ok {
		return str(cd["code"])
	}
	return ""
}

func (h handlingSpec) boolean(key string) *bool {
	m := h[key]
	if m == nil {
		return nil
	}
	switch str(m["valueBoolean"]) {
	case "true":
		b := true
		return &b
	case "false":
		b := false
		return &b
	}
	return nil
}

// resolve finds the resource a reference points at, preferring one of the
// wanted types when a fullUrl is ambiguous.
func (c *checker) resolve(ref string, want ...string) *entry {
	cands := c.candidates(ref)
	if len(cands) == 0 {
		return nil
	}
	for _, e := range cands {
		if len(want) == 0 || anyIn(e.typ, want...) {
			return e
		}
	}
	return cands[0]
}

// pick chooses the ID of ids that applies to the current use case: the one
// from the use case's catalogue, else a use-case-independent core ID.
func (c *checker) pick(ids string) string {
	cat := catalogueFor(c.uc)
	coreID := ""
	for _, id := range strings.Fields(ids) {
		r, ok := inventoryIndex[id]
		if ok && r.Catalogues&cat != 0 {
			return id
		}
		if core(id) && coreID == "" {
			coreID = id
		}
	}
	return coreID
}

// add records a finding for requirement id (an inventory ID or a Rule*).
func (c *checker) add(id, path, msg string) {
	c.findings = append(c.findings, findingFor(id, path, msg))
}

// findingFor is a finding for requirement id with the inventory's severity
// and response code (an error answered 20009 for a Rule*).
func findingFor(id, path, msg string) Finding {
	sev, code := SeverityError, itk3.CodePayloadValidationFailure
	if r, ok := inventoryIndex[id]; ok {
		sev, code = r.Severity, r.Code
	}
	return Finding{Requirement: id, Severity: sev, Path: path, Message: msg, Code: code}
}

func (c *checker) addf(id string, sev Severity, code itk3.ResponseCode, path, format string, a ...any) {
	c.findings = append(c.findings, Finding{Requirement: id, Severity: sev, Path: path, Message: fmt.Sprintf(format, a...), Code: code})
}

// detect works out what kind of message this is, its generation and use case.
func (c *checker) detect() {
	if c.header == nil {
		return
	}
	ev := first(c.header.res, "event.code")
	switch ev {
	case "ITK008M":
		c.kind = KindResponse
	default:
		c.kind = KindSendDocument
	}
	if c.kind == KindSendDocument {
		for _, r := range strs(c.header.res, "focus.reference") {
			if e := c.resolve(r, "Bundle"); e != nil && e.typ == "Bundle" {
				c.doc = e
			}
		}
		if c.doc == nil {
			for _, e := range c.outer {
				if e.typ == "Bundle" {
					c.doc = e
					break
				}
			}
		}
		if c.doc != nil {
			c.docEntries = entriesOf(c.doc.res, c.doc.path, true)
			for _, e := range c.docEntries {
				if e.typ == "Composition" {
					c.comp = e
					break
				}
			}
		}
	}
	c.gen, c.genFrom = c.detectGeneration()
	c.uc = c.detectUseCase()
	if c.opts.UseCase != "" {
		c.uc = c.opts.UseCase
	}
}

// Where the generation of a message was read from (Report.GenerationFrom).
const (
	GenerationFromWorkflow          = "workflow"           // the MESH workflow ID
	GenerationFromMessageDefinition = "message-definition" // a guess: no workflow was given
	GenerationFromDefault           = "default"            // nothing said: v1
)

// detectGeneration decides v1 or v2 by the MESH workflow ID, as the digest
// (§6.3) tells receivers serving both to do: GPFED_CONSULT_REPORT[_ACK] is
// v1, GPCONNECT_SEND_DOCUMENT[_ACK] v2, whatever the MessageDefinition says
// (v1.0/1.1 messages use the …-MessageDefinition-Instance-1 URI that v2
// uses). Only without a workflow is the -Instance-1 URI taken as a hint of
// v2, and rules that would reject on it only warn (GenerationFrom says so).
func (c *checker) detectGeneration() (int, string) {
	if m := c.opts.Mesh; m != nil {
		switch m.WorkflowID {
		case WorkflowV1, WorkflowV1Ack:
			return GenerationV1, GenerationFromWorkflow
		case WorkflowV2, WorkflowV2Ack:
			return GenerationV2, GenerationFromWorkflow
		}
	}
	if strings.HasSuffix(c.handling().str("MessageDefinition"), "-Instance-1") {
		return GenerationV2, GenerationFromMessageDefinition
	}
	return GenerationV1, GenerationFromDefault
}

func (c *checker) detectUseCase() UseCase {
	switch c.handling().str("LocalExtension") {
	case localExtOC:
		return UseCaseOnline
	case localExtGE:
		return UseCaseGeneric
	case localExtPR:
		return UseCaseRegistration
	case localExtCS:
		return UseCaseConsultation
	}
	if c.comp != nil {
		switch {
		case hasCode(c.comp.res, "type", snomedSystem, TypeConsultationReport.Code):
			return UseCaseConsultation
		case hasCode(c.comp.res, "type", snomedSystem, TypeOnlineConsultation.Code):
			return UseCaseOnline
		case strings.EqualFold(first(c.comp.res, "title"), "Online consultation report"):
			return UseCaseOnline
		case strings.EqualFold(first(c.comp.res, "title"), "Patient registration"):
			return UseCaseRegistration
		case first(c.comp.res, "title") != "" && !strings.EqualFold(first(c.comp.res, "title"), "Consultation report"):
			return UseCaseGeneric
		}
	}
	return UseCaseConsultation
}

func (c *checker) run() {
	c.checkBundle()
	c.detect()
	if c.header == nil {
		c.addf(RuleITK3Envelope, SeverityError, itk3.CodeHeaderValidationFailure, "Bundle.entry[0]",
			"the message has no MessageHeader; an ITK3 message bundle must start with one")
		return
	}
	c.checkReferences()
	for _, r := range allRules {
		kind := r.kind
		if kind == "" {
			kind = KindSendDocument
		}
		if kind != "*" && kind != c.kind {
			continue
		}
		if len(r.ucs) > 0 && !ucIn(c.uc, r.ucs) {
			continue
		}
		id := r.ids
		if _, inv := inventoryIndex[strings.Fields(r.ids)[0]]; inv {
			id = c.pick(r.ids)
		}
		if id == "" {
			continue
		}
		rp := rep{c: c, id: id}
		if r.res == "" {
			r.fn(c, nil, rp)
			continue
		}
		for _, e := range c.docEntries {
			if e.typ == r.res {
				r.fn(c, e, rp)
			}
		}
	}
}

// allRules are the validator's rules in the order they run.
var allRules = slices.Concat(rules, resourceRules)

func ucIn(uc UseCase, set []UseCase) bool {
	for _, u := range set {
		if u == uc {
			return true
		}
	}
	return false
}
