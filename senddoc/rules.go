package senddoc

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/patient"
)

// rep reports findings for the requirement a rule picked.
type rep struct {
	c  *checker
	id string
}

// bad reports a breach with the requirement's own severity and code.
func (r rep) bad(path, format string, a ...any) { r.c.add(r.id, path, fmt.Sprintf(format, a...)) }

// warn reports a breach that the digest says must not reject the message.
func (r rep) warn(path, format string, a ...any) {
	code := itk3.ResponseCode(0)
	r.c.addf(r.id, SeverityWarning, code, path, format, a...)
}

type ruleFn func(c *checker, e *entry, r rep)

// rule is one check. ids lists the requirement IDs it implements, one per
// catalogue; the checker picks the one for the message's use case.
type rule struct {
	ids  string
	kind string    // KindSendDocument (default) or KindResponse
	res  string    // resource type in the document bundle; "" = message level
	ucs  []UseCase // restrict to these use cases
	fn   ruleFn
}

// ---- declarative helpers for resource rules ----

// fixed: the element must be present and every value must be one of allowed.
func fixed(path string, allowed ...string) ruleFn {
	return func(c *checker, e *entry, r rep) {
		hs := walk(e.res, e.path, path)
		if len(hs) == 0 {
			r.bad(e.path+"."+path, "%s.%s is missing; it must be %s", e.typ, path, strings.Join(allowed, " or "))
			return
		}
		for _, h := range hs {
			if !anyIn(str(h.v), allowed...) {
				r.bad(h.path, "%s.%s is %q; it must be %s", e.typ, path, str(h.v), strings.Join(allowed, " or "))
			}
		}
	}
}

// optIn: when present, every value must be one of allowed.
func optIn(path string, allowed ...string) ruleFn {
	return func(c *checker, e *entry, r rep) {
		for _, h := range walk(e.res, e.path, path) {
			if !anyIn(str(h.v), allowed...) {
				r.bad(h.path, "%s.%s is %q; it must be %s", e.typ, path, str(h.v), strings.Join(allowed, " or "))
			}
		}
	}
}

// required: at least one of the paths must be present.
func required(paths ...string) ruleFn {
	return func(c *checker, e *entry, r rep) {
		for _, p := range paths {
			if has(e.res, p) {
				return
			}
		}
		r.bad(e.path+"."+paths[0], "%s.%s is missing", e.typ, strings.Join(paths, " or "))
	}
}

// refTo: a reference at path must be present and resolve to one of types.
func refTo(path string, types ...string) ruleFn {
	return func(c *checker, e *entry, r rep) {
		hs := walk(e.res, e.path, path+".reference")
		if len(hs) == 0 {
			r.bad(e.path+"."+path, "%s.%s is missing; it must reference a %s", e.typ, path, strings.Join(types, " or "))
			return
		}
		for _, h := range hs {
			t := c.resolve(str(h.v), types...)
			if t == nil {
				r.bad(h.path, "%s.%s does not resolve to a resource in the bundle", e.typ, path)
			} else if !anyIn(t.typ, types...) {
				r.bad(h.path, "%s.%s points at a %s; it must be a %s", e.typ, path, t.typ, strings.Join(types, " or "))
			}
		}
	}
}

// optRef: when present, references at path must resolve to one of types.
func optRef(path string, types ...string) ruleFn {
	return func(c *checker, e *entry, r rep) {
		if has(e.res, path) {
			refTo(path, types...)(c, e, r)
		}
	}
}

// coded: the CodeableConcept at path must carry a code or text.
func coded(path string) ruleFn {
	return func(c *checker, e *entry, r rep) {
		if len(codings(e.res, path)) == 0 && first(e.res, path+".text") == "" {
			r.bad(e.path+"."+path, "%s.%s must carry a code (or text)", e.typ, path)
		}
	}
}

// codeIn: the CodeableConcept at path must have a coding whose code is one of allowed.
func codeIn(path string, allowed ...string) ruleFn {
	return func(c *checker, e *entry, r rep) {
		for _, cd := range codings(e.res, path) {
			if anyIn(str(cd["code"]), allowed...) {
				return
			}
		}
		r.bad(e.path+"."+path, "%s.%s must be coded %s", e.typ, path, strings.Join(allowed, " or "))
	}
}

// absentWhen: path must be absent when cond holds for the resource.
func absentWhen(cond func(node) bool, why, path string) ruleFn {
	return func(c *checker, e *entry, r rep) {
		if cond(e.res) && has(e.res, path) {
			r.bad(e.path+"."+path, "%s.%s must be absent %s", e.typ, path, why)
		}
	}
}

func notGiven(n node) bool { return str(n["notGiven"]) == "true" }
func given(n node) bool    { return str(n["notGiven"]) == "false" }

// extNamed returns the resource's extensions whose URL contains name.
func extNamed(n node, name string) []node {
	var out []node
	for _, v := range vals(n, "extension") {
		if m, ok := v.(node); ok && strings.Contains(strings.ToLower(str(m["url"])), strings.ToLower(name)) {
			out = append(out, m)
		}
	}
	return out
}

func subExt(n node, name string) node {
	for _, v := range list(n["extension"]) {
		if m, ok := v.(node); ok && str(m["url"]) == name {
			return m
		}
	}
	return nil
}

// extRequired: an extension whose URL contains name must be present.
func extRequired(name string) ruleFn {
	return func(c *checker, e *entry, r rep) {
		if len(extNamed(e.res, name)) == 0 {
			r.bad(e.path+".extension", "%s needs the %s extension", e.typ, name)
		}
	}
}

func all(fns ...ruleFn) ruleFn {
	return func(c *checker, e *entry, r rep) {
		for _, f := range fns {
			f(c, e, r)
		}
	}
}

func valueOf(m node) string {
	for k, v := range m {
		if strings.HasPrefix(k, "value") {
			if s := str(v); s != "" {
				return s
			}
			if vm, ok := v.(node); ok {
				if s := str(vm["code"]); s != "" {
					return s
				}
				if s := first(vm, "coding.code"); s != "" {
					return s
				}
				if s := str(vm["reference"]); s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// ---- the rules ----

var (
	ucCS  = []UseCase{UseCaseConsultation}
	ucOC  = []UseCase{UseCaseOnline}
	ucGE  = []UseCase{UseCaseGeneric}
	ucPR  = []UseCase{UseCaseRegistration}
	ucOCG = []UseCase{UseCaseOnline, UseCaseGeneric, UseCaseRegistration}
)

var rules = []rule{
	// A. Core.
	{ids: "GPCM-C-01", fn: func(c *checker, _ *entry, r rep) {
		if m := c.opts.Mesh; m != nil && m.Transport != "api" && m.Transport != "ctl" {
			r.bad("MESH", "the message did not arrive over MESH (transport %q); Send Document travels only over the MESH API or client", m.Transport)
		}
	}},
	{ids: "GPCM-C-02", kind: "*", fn: checkEnvelope},

	// B. Sender timing.
	{ids: "GPCM-SD-CS-075", ucs: ucCS, fn: func(c *checker, _ *entry, r rep) {
		m := c.opts.Mesh
		if m == nil || m.SentAt.IsZero() || c.comp == nil {
			return
		}
		// The 3 hours run from the consultation's creation or last update;
		// the message carries it as Composition.date (the version was made
		// then, GPCM-SD-CS-020), else the encounter's end. A sender that
		// holds a report for its edit window (package sender) builds it at
		// the last edit, so both agree.
		ref, what, p := c.compDate(), "this version of the report was made", c.comp.path+".date"
		if ref.IsZero() {
			ref, what, p = c.encounterEnd(), "the consultation ended", c.comp.path+".encounter"
		}
		if ref.IsZero() {
			return
		}
		if d := m.SentAt.Sub(ref); d > 3*time.Hour {
			r.bad(p, "the report was sent %s after %s; it must go within 3 hours of the consultation's last update", d.Round(time.Minute), what)
		}
	}},

	{ids: "GPCM-SD-CS-076", ucs: ucCS, fn: func(c *checker, _ *entry, r rep) {
		o := c.opts.Original
		if o == nil || c.comp == nil || o.SenderReference == "" || o.SenderReference != c.handling().str("SenderReference") {
			return
		}
		if v := c.version(); v != 0 && o.Version != 0 && v <= o.Version {
			r.bad(c.comp.path, "version %d of this consultation's report is not newer than version %d already sent; send only the latest version", v, o.Version)
		}
	}},
	{ids: "GPCM-SD-037", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		o := c.opts.Original
		if o == nil || o.DocumentDate.IsZero() || !has(e.res, "relatesTo") {
			return
		}
		if d := c.compDate().Sub(o.DocumentDate); d > 24*time.Hour {
			r.bad(e.path+".relatesTo", "this replacement was made %s after the document it replaces; replacements should follow within 24 hours", d.Round(time.Minute))
		}
	}},

	// C. MESH.
	{ids: "GPCM-SD-CS-060", ucs: ucCS, fn: func(c *checker, _ *entry, r rep) {
		if m := c.opts.Mesh; m != nil && !strings.HasPrefix(m.To, "GPPROVIDER_") {
			r.bad("MESH.To", "a consultation summary must use patient routing: the MESH recipient must be a GPPROVIDER_ address")
		}
	}},
	{ids: "GPCM-SD-CS-061 GPCM-SD-OC-160 GPCM-SD-GE-287", fn: func(c *checker, _ *entry, r rep) {
		m := c.opts.Mesh
		if m == nil {
			return
		}
		if m.WorkflowID != WorkflowV1 && m.WorkflowID != WorkflowV2 {
			r.bad("MESH.WorkflowID", "the MESH workflow ID is %q; a Send Document message uses %s (v1) or %s (v2)", m.WorkflowID, WorkflowV1, WorkflowV2)
		}
	}},
	{ids: "GPCM-SD-CS-062 GPCM-SD-OC-161 GPCM-SD-GE-288", kind: KindResponse, fn: func(c *checker, _ *entry, r rep) {
		m := c.opts.Mesh
		if m == nil {
			return
		}
		ok := m.WorkflowID == WorkflowV1Ack || m.WorkflowID == WorkflowV2Ack
		if c.uc == UseCaseRegistration && m.WorkflowID == WorkflowV1 {
			ok = true // the PR draft names the message workflow for acks
		}
		if !ok {
			r.bad("MESH.WorkflowID", "the MESH workflow ID of an ITK3 response is %q; it must be %s (v1) or %s (v2)", m.WorkflowID, WorkflowV1Ack, WorkflowV2Ack)
		}
	}},
	{ids: "GPCM-SD-CS-063 GPCM-SD-OC-165 GPCM-SD-GE-293", fn: meshFrom("ctl")},
	{ids: "GPCM-SD-CS-066 GPCM-SD-OC-162 GPCM-SD-GE-289", fn: meshFrom("api")},
	{ids: "GPCM-SD-CS-064 GPCM-SD-OC-166 GPCM-SD-GE-294", fn: meshTo("ctl")},
	{ids: "GPCM-SD-CS-067", ucs: ucCS, fn: meshTo("api")},
	{ids: "GPCM-SD-OC-163 GPCM-SD-GE-290", ucs: ucOCG, fn: func(c *checker, _ *entry, r rep) {
		m := c.opts.Mesh
		if m == nil || m.Transport != "api" {
			return
		}
		if !strings.HasPrefix(m.To, "GPPROVIDER_") && !mailboxRE.MatchString(m.To) {
			r.bad("MESH.To", "Mex-To must be the recipient's MESH mailbox ID or a GPPROVIDER_ address")
		}
	}},
	{ids: "GPCM-SD-CS-079 GPCM-SD-OC-174 GPCM-SD-GE-296", fn: meshLocalID("ctl")},
	{ids: "GPCM-SD-CS-080 GPCM-SD-OC-175 GPCM-SD-GE-292", fn: meshLocalID("api")},
	{ids: "GPCM-SD-CS-065 GPCM-SD-OC-167 GPCM-SD-GE-295", fn: meshSubject("ctl")},
	{ids: "GPCM-SD-CS-068 GPCM-SD-OC-164 GPCM-SD-GE-291", fn: meshSubject("api")},
	{ids: "GPCM-SD-CS-042 GPCM-SD-OC-020 GPCM-SD-GE-020", fn: checkPatientVsAddress},
	{ids: "GPCM-SD-CS-030", ucs: ucCS, fn: checkConfidentialSubject},

	// D. ITK3 header of the sent message.
	{ids: "GPCM-SD-CS-043 GPCM-SD-OC-141 GPCM-SD-GE-268", fn: func(c *checker, _ *entry, r rep) {
		h := c.handling()
		code := h.str("RecipientType")
		switch {
		case h["RecipientType"] == nil:
			r.bad(c.header.path+".extension(MessageHandling).RecipientType", "the RecipientType handling key is missing")
		case c.uc == UseCaseConsultation && c.gen != GenerationV2 && code != "FA":
			// v2 allows any ITK-RecipientType-1 value for every document.
			r.bad(c.header.path+".extension(MessageHandling).RecipientType", "RecipientType is %q; a consultation summary is sent for action (FA)", code)
		case code != "FA" && code != "FI":
			r.bad(c.header.path+".extension(MessageHandling).RecipientType", "RecipientType is %q; it must be FA (for action) or FI (for information)", code)
		}
	}},
	{ids: "GPCM-SD-OC-142 GPCM-SD-GE-269", ucs: ucOCG, fn: func(c *checker, _ *entry, r rep) {
		h := c.handling()["RecipientType"]
		if h == nil {
			return
		}
		cd, _ := h["valueCoding"].(node)
		if cd == nil || str(cd["system"]) != itk3.RecipientTypeSystem {
			r.bad(c.header.path+".extension(MessageHandling).RecipientType", "RecipientType must be a valueCoding from %s (FA, or FI for the copy to the registered GP)", itk3.RecipientTypeSystem)
		}
	}},
	{ids: "GPCM-SD-CS-044 GPCM-SD-OC-143 GPCM-SD-GE-270", fn: handlingBool("BusAckRequested", true)},
	{ids: "GPCM-SD-CS-045 GPCM-SD-OC-144 GPCM-SD-GE-271", fn: handlingBool("InfAckRequested", true)},
	{ids: "GPCM-SD-CS-046 GPCM-SD-OC-145 GPCM-SD-GE-272", fn: func(c *checker, _ *entry, r rep) {
		s := c.handling().str("SenderReference")
		switch {
		case s == "" || strings.EqualFold(s, "None"):
			r.bad(c.header.path+".extension(MessageHandling).SenderReference", "SenderReference must identify the encounter at the sender (it is %q)", s)
		case len(s) > 255:
			r.bad(c.header.path+".extension(MessageHandling).SenderReference", "SenderReference is longer than 255 characters")
		}
	}},
	{ids: "GPCM-SD-CS-047 GPCM-SD-OC-146 GPCM-SD-GE-273", fn: func(c *checker, _ *entry, r rep) {
		md := c.handling().str("MessageDefinition")
		switch p := c.header.path + ".extension(MessageHandling).MessageDefinition"; {
		case knownDefinition(md):
		case otherDefinitionVersion(md):
			// The Send Document definition, in a version this receiver
			// does not support: ITK3 10005 (send-document.md §6.4).
			r.c.addf(r.id, SeverityError, itk3.CodeMessageDefinitionVersion, p, "MessageDefinition %q is a version of the Send Document definition that is not supported; it must be %s", md, itk3.SendDocumentDefinition)
		default:
			r.bad(p, "MessageDefinition is %q; it must be %s", md, itk3.SendDocumentDefinition)
		}
	}},
	{ids: "GPCM-SD-CS-048 GPCM-SD-OC-147 GPCM-SD-GE-274", fn: func(c *checker, _ *entry, r rep) {
		h := c.handling()
		le := h.str("LocalExtension")
		p := c.header.path + ".extension(MessageHandling).LocalExtension"
		if h["LocalExtension"] == nil || le == "" {
			r.bad(p, "the LocalExtension handling key is missing")
			return
		}
		if c.gen == GenerationV2 {
			return // v2 accepts any value
		}
		want := map[UseCase]string{UseCaseConsultation: localExtCS, UseCaseOnline: localExtOC, UseCaseGeneric: localExtGE, UseCaseRegistration: localExtPR}[c.uc]
		if le == want {
			return
		}
		if c.uc == UseCaseConsultation && le == localExtCSExamples {
			r.warn(p, "LocalExtension is %s (as in the official examples); the requirement says %s", le, want)
			return
		}
		r.warn(p, "LocalExtension is %q; for this use case it should be %s (accepted: receivers must not reject on it)", le, want)
	}},
	{ids: "GPCM-SD-CS-049 GPCM-SD-OC-148 GPCM-SD-GE-275", fn: checkHeaderSender},
	{ids: "GPCM-SD-CS-057 GPCM-SD-OC-156 GPCM-SD-GE-283", kind: KindResponse, fn: checkHeaderSender},
	{ids: "GPCM-SD-CS-050 GPCM-SD-OC-149 GPCM-SD-GE-276", fn: func(c *checker, _ *entry, r rep) {
		if first(c.header.res, "source.endpoint") == "" {
			r.bad(c.header.path+".source.endpoint", "MessageHeader.source.endpoint must hold the sender's MESH mailbox ID")
		}
	}},
	{ids: "GPCM-SD-CS-051 GPCM-SD-OC-150 GPCM-SD-GE-277", fn: checkEvent("ITK007C")},
	{ids: "GPCM-SD-CS-052 GPCM-SD-OC-151 GPCM-SD-GE-278", fn: checkTimestamp},
	{ids: "GPCM-SD-CS-059 GPCM-SD-OC-158 GPCM-SD-GE-285", kind: KindResponse, fn: checkTimestamp},
	{ids: "GPCM-SD-CS-053 GPCM-SD-OC-152 GPCM-SD-GE-279", fn: func(c *checker, _ *entry, r rep) {
		for _, el := range []string{"destination", "receiver"} {
			if has(c.header.res, el) {
				if c.gen == GenerationV2 {
					r.warn(c.header.path+"."+el, "MessageHeader.%s should be absent: MESH routes Send Document by patient", el)
				} else {
					r.bad(c.header.path+"."+el, "MessageHeader.%s must be absent: MESH routes Send Document by patient", el)
				}
			}
		}
	}},

	// E. Payload structure.
	{ids: "GPCM-SD-001", fn: func(c *checker, _ *entry, r rep) {
		p := c.header.path + ".focus"
		refs := strs(c.header.res, "focus.reference")
		if len(refs) == 0 {
			r.bad(p, "MessageHeader.focus must reference the document Bundle")
			return
		}
		t := c.resolve(refs[0], "Bundle")
		switch {
		case t == nil:
			r.bad(p, "MessageHeader.focus does not resolve to a resource in the message")
		case t.typ != "Bundle":
			r.bad(p, "MessageHeader.focus points at a %s; it must be the document Bundle", t.typ)
		case !hasProfile(t.res, profDocumentBundle):
			r.bad(t.path+".meta.profile", "the document Bundle must declare the profile %s", profDocumentBundle)
		case str(t.res["type"]) != "document":
			r.bad(t.path+".type", "the document Bundle's type is %q; it must be document", str(t.res["type"]))
		}
	}},
	{ids: "GPCM-SD-002", fn: func(c *checker, _ *entry, r rep) {
		if c.doc == nil {
			return
		}
		n := 0
		for _, e := range c.docEntries {
			if e.typ == "Composition" {
				n++
			}
		}
		if n != 1 {
			r.bad(c.doc.path, "the document Bundle holds %d Composition resources; it must hold exactly one", n)
		} else if c.docEntries[0].typ != "Composition" {
			r.bad(c.doc.path+".entry[0]", "the Composition must be the first entry of the document Bundle")
		}
	}},
	{ids: "GPCM-SD-CS-017 GPCM-SD-OC-001 GPCM-SD-GE-001", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		if !hasProfile(e.res, profComposition) {
			r.bad(e.path+".meta.profile", "the Composition must declare the profile %s", profComposition)
		}
	}},
	{ids: "GPCM-SD-003", res: "Composition", fn: profileOfRef("custodian", "Organization")},
	{ids: "GPCM-SD-004", res: "Composition", fn: profileOfRef("subject", "Patient")},
	{ids: "GPCM-SD-005", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		hs := walk(e.res, e.path, "author.reference")
		if len(hs) == 0 {
			r.bad(e.path+".author", "Composition.author needs at least one reference")
		}
		for _, h := range hs {
			t := c.resolve(str(h.v), "Practitioner", "Patient", "RelatedPerson", "Device")
			if t == nil {
				continue // reported by the bundle check
			}
			if !anyIn(t.typ, "Practitioner", "Patient", "RelatedPerson", "Device") {
				r.bad(h.path, "Composition.author points at a %s; authors are Practitioner, Patient, RelatedPerson or Device", t.typ)
			} else if want := careConnectProfile(t.typ); !hasProfile(t.res, want) {
				r.bad(t.path+".meta.profile", "the author %s must declare the profile %s", t.typ, want)
			}
		}
	}},
	{ids: "GPCM-SD-027", kind: "*", fn: func(c *checker, _ *entry, r rep) {
		for _, e := range append(append([]*entry(nil), c.outer...), c.docEntries...) {
			if len(profiles(e.res)) == 0 {
				r.bad(e.path+".meta.profile", "every resource must carry meta.profile; this %s has none", e.typ)
			}
		}
	}},
	{ids: "GPCM-SD-028", kind: "*", fn: func(c *checker, _ *entry, r rep) {
		for _, e := range append(append([]*entry(nil), c.outer...), c.docEntries...) {
			if str(e.res["id"]) == "" {
				r.bad(e.path+".id", "every resource must carry an id; this %s has none", e.typ)
			}
		}
	}},
	{ids: "GPCM-SD-029", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		count := map[*entry]int{}
		bins := map[int]int{}
		for _, s := range attachments(c.sectionEntries(e)) {
			count[s.target]++
			bins[s.section]++
		}
		for i := range list(e.res["section"]) {
			if bins[i] > 1 {
				r.bad(fmt.Sprintf("%s.section[%d]", e.path, i), "a section holds %d attachments; each attachment needs its own section", bins[i])
			}
		}
		for _, d := range c.docEntries {
			if d.typ == "Binary" && count[d] == 0 {
				r.bad(d.path, "this Binary is not referenced from any Composition.section")
			}
		}
	}},
	{ids: "GPCM-SD-030", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		for _, s := range attachments(c.sectionEntries(e)) {
			if !hasProfile(s.target.res, profBinary) {
				r.bad(s.target.path+".meta.profile", "an attachment referenced from a section must declare the profile %s", profBinary)
			}
		}
	}},
	{ids: "GPCM-SD-031", res: "Binary", fn: func(c *checker, e *entry, r rep) {
		s := str(e.res["content"])
		if s == "" {
			s = str(e.res["data"])
		}
		if s == "" {
			r.bad(e.path+".content", "Binary.content is empty; attachments are carried base64-encoded")
			return
		}
		if _, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), "")); err != nil {
			r.bad(e.path+".content", "Binary.content is not valid base64")
		}
		if str(e.res["contentType"]) == "" {
			r.bad(e.path+".contentType", "Binary.contentType is missing")
		}
	}},
	{ids: "GPCM-SD-032", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		ses := c.sectionEntries(e)
		if len(ses) == 0 {
			r.bad(e.path+".section", "the Composition has no section entries; the first must be the primary attachment")
			return
		}
		first := ses[0]
		switch t := first.target; {
		case t == nil:
			return // reported by the reference rules
		case t.typ != "Binary":
			what := "the primary attachment (a Binary)"
			if c.pdfRequired() {
				what = "the primary attachment (the PDF report)"
			}
			where := ""
			if as := attachments(ses); len(as) > 0 {
				where = fmt.Sprintf(", but it is in section %d", as[0].section+1)
			}
			r.bad(first.path, "the first section entry is a %s; %s must be the first section entry%s", t.typ, what, where)
		case c.pdfRequired() && str(t.res["contentType"]) != pdfType:
			r.bad(first.path, "the primary attachment (first section entry) is %q; for this use case it must be the PDF report", str(t.res["contentType"]))
		}
	}},

	// Composition.
	{ids: "GPCM-SD-CS-018 GPCM-SD-OC-002 GPCM-SD-GE-002", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		st := str(e.res["status"])
		if st == "final" || (c.gen == GenerationV2 && st == "amended") {
			return
		}
		r.bad(e.path+".status", "Composition.status is %q; it must be final", st)
	}},
	{ids: "GPCM-SD-CS-019", res: "Composition", ucs: ucCS, fn: func(c *checker, e *entry, r rep) {
		if c.gen == GenerationV2 {
			return
		}
		if !hasCode(e.res, "type", snomedSystem, TypeConsultationReport.Code) {
			r.bad(e.path+".type", "Composition.type must be SNOMED CT %s (%s)", TypeConsultationReport.Code, TypeConsultationReport.Display)
		}
	}},
	{ids: "GPCM-SD-OC-003", res: "Composition", ucs: ucOC, fn: func(c *checker, e *entry, r rep) {
		if !hasCode(e.res, "type", snomedSystem, TypeOnlineConsultation.Code) {
			r.bad(e.path+".type", "Composition.type must be SNOMED CT %s (%s)", TypeOnlineConsultation.Code, TypeOnlineConsultation.Display)
		}
	}},
	{ids: "GPCM-SD-GE-003", res: "Composition", ucs: ucGE, fn: snomedCoded("type")},
	{ids: "GPCM-SD-CS-022 GPCM-SD-OC-006", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		want := map[UseCase]string{UseCaseConsultation: "Consultation report", UseCaseOnline: "Online consultation report", UseCaseRegistration: "Patient registration"}[c.uc]
		got := str(e.res["title"])
		switch {
		case want == "" || got == want:
		case strings.EqualFold(got, want):
			r.warn(e.path+".title", "Composition.title is %q; the fixed title is %q (differs in case only)", got, want)
		default:
			r.bad(e.path+".title", "Composition.title is %q; it must be %q", got, want)
		}
	}},
	{ids: "GPCM-SD-GE-006", res: "Composition", ucs: ucGE, fn: required("title")},
	{ids: "GPCM-SD-CS-024 GPCM-SD-OC-008 GPCM-SD-GE-008", res: "Composition", fn: refTo("subject", "Patient")},
	{ids: "GPCM-SD-CS-025", res: "Composition", ucs: ucCS, fn: refTo("author", "Practitioner")},
	{ids: "GPCM-SD-OC-009 GPCM-SD-GE-009", res: "Composition", fn: refTo("author", "Practitioner", "Patient", "RelatedPerson", "Device")},
	{ids: "GPCM-SD-CS-026 GPCM-SD-OC-010 GPCM-SD-GE-010", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		refTo("custodian", "Organization")(c, e, r)
		t := c.resolve(first(e.res, "custodian.reference"), "Organization")
		if t == nil || t.typ != "Organization" {
			return
		}
		sender := c.headerSenderODS()
		if got := odsOf(t.res); sender != "" && got != "" && got != sender {
			r.warn(e.path+".custodian", "the custodian Organization (ODS %s) is not the sending organisation named in MessageHeader.sender (ODS %s)", got, sender)
		}
	}},
	{ids: "GPCM-SD-CS-027 GPCM-SD-OC-011 GPCM-SD-GE-011", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		for i, v := range list(e.res["relatesTo"]) {
			m, _ := v.(node)
			if first(m, "targetIdentifier.value") == "" && first(m, "targetReference.reference") == "" {
				r.bad(fmt.Sprintf("%s.relatesTo[%d]", e.path, i), "a replacement must name the replaced document in relatesTo.targetIdentifier")
			}
		}
	}},
	{ids: "GPCM-SD-038", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		for i, v := range list(e.res["relatesTo"]) {
			m, _ := v.(node)
			if str(m["code"]) != "replaces" {
				r.bad(fmt.Sprintf("%s.relatesTo[%d].code", e.path, i), "relatesTo.code is %q; a replacement uses replaces", str(m["code"]))
			}
		}
	}},
	{ids: "GPCM-SD-039", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		for i, v := range list(e.res["relatesTo"]) {
			m, _ := v.(node)
			id := first(m, "targetIdentifier.value")
			if !uuidRE.MatchString(strings.TrimPrefix(id, "urn:uuid:")) {
				r.bad(fmt.Sprintf("%s.relatesTo[%d].targetIdentifier", e.path, i), "relatesTo.targetIdentifier must hold the UUID of the replaced document")
			}
		}
	}},
	{ids: "GPCM-SD-CS-028 GPCM-SD-OC-012 GPCM-SD-GE-012", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		for _, s := range attachments(c.sectionEntries(e)) {
			if !c.pdfRequired() || str(s.target.res["contentType"]) == pdfType {
				return
			}
		}
		if c.pdfRequired() {
			r.bad(e.path+".section", "no section entry points at the PDF report (a Binary with contentType %s)", pdfType)
		} else {
			r.bad(e.path+".section", "no section entry points at an attachment (an ITK-Attachment-Binary-1)")
		}
	}},
	{ids: "GPCM-SD-CS-021 GPCM-SD-OC-005 GPCM-SD-GE-005", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		conf := str(e.res["confidentiality"])
		switch {
		case conf != "N" && conf != "R":
			r.bad(e.path+".confidentiality", "Composition.confidentiality is %q; it must be N, or R for a confidential consultation", conf)
		case conf == "R" && c.gen == GenerationV2 && c.genFrom != GenerationFromWorkflow:
			r.warn(e.path+".confidentiality", "confidential (R): a v2 receiver rejects it, a v1 receiver accepts it; the -Instance-1 MessageDefinition does not tell v2 from v1.0/1.1, the MESH workflow does (GPFED_CONSULT_REPORT: v1)")
		case conf == "R" && c.gen == GenerationV2:
			r.bad(e.path+".confidentiality", "v2 receivers reject confidential (R) documents: confidential items must not be sent")
		}
	}},
	{ids: "GPCM-SD-CS-023 GPCM-SD-OC-007 GPCM-SD-GE-007", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		div := first(e.res, "text.div")
		if div == "" {
			r.bad(e.path+".text", "the Composition needs a narrative (text) naming the patient, NHS number and version")
			return
		}
		if strings.Contains(div, "{Patient Name}") || strings.Contains(div, "{NHS Number}") || strings.Contains(div, "{ODS Code}") {
			r.bad(e.path+".text", "the Composition narrative still holds template placeholders such as {Patient Name}")
			return
		}
		// The starred parts (seen at, ODS Code) are left out of a
		// confidential consultation report's narrative (and v2's).
		if (c.uc == UseCaseConsultation || c.gen == GenerationV2) && c.confidentiality() == ConfidentialityRestricted {
			if msg := confidentialLeak("narrative (Composition.text)", div); msg != "" {
				r.bad(e.path+".text", "%s", msg)
			}
		}
	}},
	{ids: "GPCM-SD-006", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		hasEnc := false
		for _, d := range c.docEntries {
			hasEnc = hasEnc || d.typ == "Encounter"
		}
		if hasEnc && !has(e.res, "encounter") {
			r.bad(e.path+".encounter", "the document carries an Encounter; Composition.encounter should reference it")
		}
	}},

	// Patient.
	{ids: "GPCM-SD-OC-016 GPCM-SD-GE-016", ucs: ucOCG, fn: func(c *checker, _ *entry, r rep) {
		if c.doc == nil {
			return
		}
		for _, e := range c.docEntries {
			if e.typ == "Patient" {
				return
			}
		}
		r.bad(c.doc.path, "the document Bundle holds no Patient")
	}},
	{ids: "GPCM-SD-CS-039 GPCM-SD-OC-017 GPCM-SD-GE-017", res: "Patient", fn: func(c *checker, e *entry, r rep) {
		nhs := nhsNumberOf(e.res)
		if nhs == "" {
			r.bad(e.path+".identifier", "the Patient has no NHS number (identifier with system %s)", nhsNumberSystem)
			return
		}
		if err := checkNHSNumber(nhs); err != nil {
			if c.opts.AllowTestNHSNumbers {
				r.warn(e.path+".identifier", "%v (accepted as test data)", err)
			} else {
				r.bad(e.path+".identifier", "%v", err)
			}
		}
	}},
	{ids: "GPCM-SD-CS-040 GPCM-SD-OC-018 GPCM-SD-GE-018", res: "Patient", fn: officialName},
	{ids: "GPCM-SD-CS-041 GPCM-SD-OC-019 GPCM-SD-GE-019", res: "Patient", fn: birthDate(true)},

	// Organization.
	{ids: "GPCM-SD-CS-032 GPCM-SD-OC-021 GPCM-SD-GE-021", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		t := c.resolve(first(e.res, "custodian.reference"), "Organization")
		if t == nil || !t.inDoc || t.typ != "Organization" {
			r.bad(e.path+".custodian", "the document Bundle must hold the sending Organization (the custodian)")
		}
	}},
	{ids: "GPCM-SD-CS-033 GPCM-SD-OC-022 GPCM-SD-GE-022", res: "Organization", fn: func(c *checker, e *entry, r rep) {
		if odsOf(e.res) == "" {
			r.bad(e.path+".identifier", "the Organization has no ODS code (identifier with system %s)", odsSystem)
		}
	}},
	{ids: "GPCM-SD-CS-034 GPCM-SD-OC-023 GPCM-SD-GE-023", res: "Organization", fn: required("name")},
	{ids: "GPCM-SD-CS-035 GPCM-SD-OC-024 GPCM-SD-GE-024", res: "Composition", fn: func(c *checker, e *entry, r rep) {
		t := c.resolve(first(e.res, "custodian.reference"), "Organization")
		if t == nil || t.typ != "Organization" {
			return
		}
		if !hasPhone(t.res) {
			r.bad(t.path+".telecom", "the sending Organization needs a phone number (telecom with system phone and a value)")
		}
	}},

	// Practitioner.
	{ids: "GPCM-SD-CS-036 GPCM-SD-OC-025 GPCM-SD-GE-025", res: "Practitioner", fn: func(c *checker, e *entry, r rep) {
		for _, v := range vals(e.res, "identifier") {
			if m, ok := v.(node); ok && str(m["system"]) == sdsUserSystem && str(m["value"]) != "" {
				return
			}
		}
		r.bad(e.path+".identifier", "the Practitioner has no SDS user ID (identifier with system %s)", sdsUserSystem)
	}},
	{ids: "GPCM-SD-CS-037 GPCM-SD-OC-026 GPCM-SD-GE-026", res: "Practitioner", fn: officialName},

	// RelatedPerson, Device.
	{ids: "GPCM-SD-OC-028 GPCM-SD-GE-028", res: "RelatedPerson", fn: func(c *checker, e *entry, r rep) {
		if n := len(vals(e.res, "name")); n != 1 {
			r.bad(e.path+".name", "the RelatedPerson has %d names; it must have one", n)
		}
	}},
	{ids: "GPCM-SD-OC-029 GPCM-SD-GE-029", res: "RelatedPerson", fn: birthDate(false)},
	{ids: "GPCM-SD-OC-032 GPCM-SD-GE-032", res: "Device", fn: required("manufacturer")},

	// Encounter.
	{ids: "GPCM-SD-OC-033 GPCM-SD-GE-033", res: "Encounter", fn: fixed("status", "finished")},
	{ids: "GPCM-SD-OC-035 GPCM-SD-GE-035", res: "Encounter", fn: refTo("subject", "Patient")},
	{ids: "GPCM-SD-OC-034 GPCM-SD-GE-034", res: "Encounter", ucs: ucOCG, fn: snomedCoded("type")},

	// List.
	{ids: "GPCM-SD-OC-040 GPCM-SD-GE-040", ucs: ucOCG, fn: func(c *checker, _ *entry, r rep) {
		listed := map[*entry]bool{}
		for _, e := range c.docEntries {
			if e.typ == "List" {
				for _, ref := range strs(e.res, "entry.item.reference") {
					if t := c.resolve(ref, "Observation"); t != nil {
						listed[t] = true
					}
				}
			}
		}
		for _, e := range c.docEntries {
			if e.typ == "Observation" && !listed[e] {
				r.bad(e.path, "this Observation is not listed in a List; coded observations need a List referencing all of them")
			}
		}
	}},
	{ids: "GPCM-SD-OC-041 GPCM-SD-GE-041", res: "List", fn: fixed("status", "current")},
	{ids: "GPCM-SD-OC-042 GPCM-SD-GE-042", res: "List", fn: fixed("mode", "snapshot")},
	{ids: "GPCM-SD-OC-043 GPCM-SD-GE-043", res: "List", fn: func(c *checker, e *entry, r rep) {
		disp := first(e.res, "code.coding.display")
		if title := str(e.res["title"]); title == "" || (disp != "" && title != disp) {
			r.bad(e.path+".title", "List.title is %q; it must be the display of List.code (%q)", title, disp)
		}
	}},
	{ids: "GPCM-SD-OC-044 GPCM-SD-GE-044", res: "List", fn: func(c *checker, e *entry, r rep) {
		if !hasCode(e.res, "code", snomedSystem, miscRecordCode) {
			r.bad(e.path+".code", "List.code must be SNOMED CT %s (%s)", miscRecordCode, miscRecordDisplay)
		}
	}},
	{ids: "GPCM-SD-OC-045 GPCM-SD-GE-045", res: "List", fn: refTo("subject", "Patient")},
	{ids: "GPCM-SD-OC-046 GPCM-SD-GE-046", res: "List", fn: refTo("entry.item", "Observation")},

	// Observation.
	{ids: "GPCM-SD-OC-047 GPCM-SD-GE-047", res: "Observation", fn: fixed("status", "preliminary", "final")},
	{ids: "GPCM-SD-OC-050 GPCM-SD-GE-050", res: "Observation", fn: refTo("subject", "Patient")},
	{ids: "GPCM-SD-OC-052 GPCM-SD-GE-052", res: "Observation", fn: performedByPatient},
	{ids: "GPCM-SD-OC-049 GPCM-SD-GE-049", res: "Observation", fn: coded("code")},
	{ids: "GPCM-SD-OC-051 GPCM-SD-GE-051", res: "Observation", fn: required("issued")},

	// Questionnaire, QuestionnaireResponse.
	{ids: "GPCM-SD-OC-055 GPCM-SD-GE-055", res: "Questionnaire", fn: fixed("status", "active")},
	{ids: "GPCM-SD-OC-062 GPCM-SD-GE-062", res: "Questionnaire", fn: required("item")},
	{ids: "GPCM-SD-OC-063 GPCM-SD-GE-063", res: "QuestionnaireResponse", fn: fixed("status", "completed")},
	{ids: "GPCM-SD-OC-064 GPCM-SD-GE-064", res: "QuestionnaireResponse", fn: refTo("subject", "Patient")},
	{ids: "GPCM-SD-OC-065 GPCM-SD-GE-065", res: "QuestionnaireResponse", fn: required("authored")},
	{ids: "GPCM-SD-OC-066 GPCM-SD-GE-066", res: "QuestionnaireResponse", fn: required("item")},
	{ids: "GPCM-SD-OC-067 GPCM-SD-GE-067", res: "QuestionnaireResponse", fn: qrItems(func(it node, p string, e *entry, r rep) {
		if str(it["linkId"]) == "" {
			r.bad(p+".linkId", "QuestionnaireResponse.item.linkId is missing")
		}
	})},
	{ids: "GPCM-SD-OC-068 GPCM-SD-GE-068", res: "QuestionnaireResponse", fn: qrItems(func(it node, p string, e *entry, r rep) {
		if str(it["text"]) == "" {
			r.bad(p+".text", "QuestionnaireResponse.item.text must hold the question")
		}
	})},
	{ids: "GPCM-SD-OC-069 GPCM-SD-GE-069", res: "QuestionnaireResponse", fn: qrItems(func(it node, p string, e *entry, r rep) {
		if has(it, "item") && !has(it, "answer") {
			return // a group
		}
		for i, a := range list(it["answer"]) {
			am, _ := a.(node)
			if valueOf(am) == "" && !hasValueKey(am) {
				r.bad(fmt.Sprintf("%s.answer[%d]", p, i), "the answer has no value[x]")
			}
		}
		if !has(it, "answer") {
			r.bad(p+".answer", "the question has no answer value")
		}
	})},

	// ReferralRequest.
	{ids: "GPCM-SD-OC-071 GPCM-SD-GE-071", res: "ReferralRequest", fn: fixed("status", "unknown")},
	{ids: "GPCM-SD-OC-072 GPCM-SD-GE-072", res: "ReferralRequest", fn: fixed("intent", "order")},
	{ids: "GPCM-SD-OC-074 GPCM-SD-GE-074", res: "ReferralRequest", fn: refTo("subject", "Patient")},
	{ids: "GPCM-SD-OC-077 GPCM-SD-GE-077", res: "ReferralRequest", fn: optRef("requester.agent", "Practitioner", "Organization", "Patient", "RelatedPerson", "Device")},

	// DocumentReference.
	{ids: "GPCM-SD-OC-082 GPCM-SD-GE-082", res: "DocumentReference", fn: fixed("status", "current", "superseded", "entered-in-error")},
	{ids: "GPCM-SD-OC-084 GPCM-SD-GE-084", res: "DocumentReference", fn: refTo("subject", "Patient")},
	{ids: "GPCM-SD-OC-086 GPCM-SD-GE-086", res: "DocumentReference", fn: required("content.attachment")},
	{ids: "GPCM-SD-OC-083 GPCM-SD-GE-083", res: "DocumentReference", fn: coded("type")},

	// AllergyIntolerance.
	{ids: "GPCM-SD-OC-089 GPCM-SD-GE-089", res: "AllergyIntolerance", fn: func(c *checker, e *entry, r rep) {
		if str(e.res["clinicalStatus"]) == "resolved" {
			for _, x := range extNamed(e.res, "AllergyIntoleranceEnd") {
				if subExt(x, "endDate") != nil {
					return
				}
			}
			r.bad(e.path+".extension", "a resolved allergy needs the allergyEnd extension with its end date")
		}
	}},
	{ids: "GPCM-SD-OC-090 GPCM-SD-GE-090", res: "AllergyIntolerance", fn: func(c *checker, e *entry, r rep) {
		for _, x := range extNamed(e.res, "AllergyIntoleranceEnd") {
			if subExt(x, "reasonEnded") == nil && subExt(x, "endReason") == nil {
				r.bad(e.path+".extension", "the allergyEnd extension needs its end reason (use \"No information available\" when unknown)")
			}
		}
	}},
	{ids: "GPCM-SD-OC-091 GPCM-SD-GE-091", res: "AllergyIntolerance", fn: fixed("clinicalStatus", "active", "resolved")},
	{ids: "GPCM-SD-OC-092 GPCM-SD-GE-092", res: "AllergyIntolerance", fn: fixed("verificationStatus", "unconfirmed")},
	{ids: "GPCM-SD-OC-094 GPCM-SD-GE-094", res: "AllergyIntolerance", fn: optIn("category", "medication", "environment")},
	{ids: "GPCM-SD-OC-098 GPCM-SD-GE-098", res: "AllergyIntolerance", fn: refTo("patient", "Patient")},
	{ids: "GPCM-SD-OC-100 GPCM-SD-GE-100", res: "AllergyIntolerance", fn: required("assertedDate")},
	{ids: "GPCM-SD-OC-101 GPCM-SD-GE-101", res: "AllergyIntolerance", fn: required("recorder")},

	// FamilyMemberHistory.
	{ids: "GPCM-SD-OC-109 GPCM-SD-GE-109", res: "FamilyMemberHistory", fn: fixed("status", "partial", "completed", "entered-in-error", "health-unknown")},
	{ids: "GPCM-SD-OC-110 GPCM-SD-GE-110", res: "FamilyMemberHistory", fn: refTo("patient", "Patient")},
	{ids: "GPCM-SD-OC-111 GPCM-SD-GE-111", res: "FamilyMemberHistory", fn: func(c *checker, e *entry, r rep) {
		if len(codings(e.res, "relationship")) == 0 {
			r.bad(e.path+".relationship", "FamilyMemberHistory.relationship must be coded")
		}
	}},

	// Task.
	{ids: "GPCM-SD-OC-115 GPCM-SD-GE-115", res: "Task", fn: fixed("status", "requested")},
	{ids: "GPCM-SD-OC-117 GPCM-SD-GE-117", res: "Task", fn: fixed("intent", "proposal", "plan", "order")},
	{ids: "GPCM-SD-OC-118 GPCM-SD-GE-118", res: "Task", fn: optIn("priority", "normal", "routine", "urgent", "asap", "stat")}, // routine: STU3's name for normal

	// Consent.
	{ids: "GPCM-SD-OC-129 GPCM-SD-GE-129", res: "Consent", fn: fixed("status", "proposed", "active", "rejected")},
	{ids: "GPCM-SD-OC-131 GPCM-SD-GE-131", res: "Consent", fn: refTo("patient", "Patient")},

	// Location.
	{ids: "GPCM-SD-OC-169 GPCM-SD-GE-142", res: "Location", fn: fixed("status", "active")},
	{ids: "GPCM-SD-OC-170 GPCM-SD-GE-143", res: "Location", fn: required("name")},
	{ids: "GPCM-SD-OC-172 GPCM-SD-GE-145", res: "Location", fn: func(c *checker, e *entry, r rep) {
		if !hasPhone(e.res) {
			r.bad(e.path+".telecom", "the Location needs a phone number (telecom with system phone)")
		}
	}},
	{ids: "GPCM-SD-OC-168 GPCM-SD-GE-141", res: "Location", fn: required("identifier")},

	// Medication, MedicationRequest (generic).
	{ids: "GPCM-SD-GE-147", res: "Medication", fn: coded("code")},
	{ids: "GPCM-SD-GE-148", res: "MedicationRequest", fn: func(c *checker, e *entry, r rep) {
		if str(e.res["intent"]) != "plan" && len(extNamed(e.res, "RepeatInformation")) > 0 {
			r.bad(e.path+".extension", "repeat information belongs only on a MedicationRequest with intent plan")
		}
	}},
	{ids: "GPCM-SD-GE-151", res: "MedicationRequest", fn: func(c *checker, e *entry, r rep) {
		if str(e.res["intent"]) == "plan" {
			return
		}
		for _, x := range extNamed(e.res, "RepeatInformation") {
			if subExt(x, "authorisationExpiryDate") != nil {
				r.bad(e.path+".extension", "authorisationExpiryDate belongs only on a MedicationRequest with intent plan")
			}
		}
	}},
	{ids: "GPCM-SD-GE-152", res: "MedicationRequest", fn: func(c *checker, e *entry, r rep) {
		sr := extNamed(e.res, "StatusReason")
		if str(e.res["status"]) == "stopped" && str(e.res["intent"]) == "plan" && len(sr) == 0 {
			r.bad(e.path+".extension", "a stopped plan should say why (statusReason extension)")
		}
		if len(sr) > 0 && str(e.res["intent"]) != "plan" {
			r.bad(e.path+".extension", "the statusReason extension belongs only on a plan")
		}
	}},
	{ids: "GPCM-SD-GE-154", res: "MedicationRequest", fn: func(c *checker, e *entry, r rep) {
		for _, x := range extNamed(e.res, "StatusReason") {
			if subExt(x, "statusChangeDate") != nil && subExt(x, "statusReason") == nil {
				r.bad(e.path+".extension", "the statusReason extension has a date but no reason")
			}
		}
	}},
	{ids: "GPCM-SD-GE-155", res: "MedicationRequest", fn: extRequired("PrescriptionType")},
	{ids: "GPCM-SD-GE-157", res: "MedicationRequest", fn: absentWhen(func(n node) bool { return str(n["intent"]) == "plan" }, "on a plan", "basedOn")},
	{ids: "GPCM-SD-GE-159", res: "MedicationRequest", fn: fixed("status", "active", "completed", "stopped")},
	{ids: "GPCM-SD-GE-160", res: "MedicationRequest", fn: fixed("intent", "plan", "order")},
	{ids: "GPCM-SD-GE-161", res: "MedicationRequest", fn: refTo("medicationReference", "Medication")},
	{ids: "GPCM-SD-GE-162", res: "MedicationRequest", fn: refTo("subject", "Patient")},
	{ids: "GPCM-SD-GE-164", res: "MedicationRequest", fn: required("authoredOn")},
	{ids: "GPCM-SD-GE-166", res: "MedicationRequest", fn: refTo("recorder", "Practitioner")},
	{ids: "GPCM-SD-GE-168", res: "MedicationRequest", fn: required("dosageInstruction")},
	{ids: "GPCM-SD-GE-169", res: "MedicationRequest", fn: func(c *checker, e *entry, r rep) {
		for i, d := range list(e.res["dosageInstruction"]) {
			if dm, _ := d.(node); str(dm["text"]) == "" {
				r.bad(fmt.Sprintf("%s.dosageInstruction[%d].text", e.path, i), "dosageInstruction.text is required (use \"No information available\" when unknown)")
			}
		}
	}},
	{ids: "GPCM-SD-GE-171", res: "MedicationRequest", fn: required("dispenseRequest.validityPeriod.start")},

	// MedicationStatement.
	{ids: "GPCM-SD-GE-178", res: "MedicationStatement", fn: extRequired("PrescribingAgency")},
	{ids: "GPCM-SD-GE-180", res: "MedicationStatement", fn: refTo("basedOn", "MedicationRequest")},
	{ids: "GPCM-SD-GE-182", res: "MedicationStatement", fn: fixed("status", "active", "completed", "stopped")},
	{ids: "GPCM-SD-GE-183", res: "MedicationStatement", fn: refTo("medicationReference", "Medication")},
	{ids: "GPCM-SD-GE-184", res: "MedicationStatement", fn: required("effectivePeriod", "effectiveDateTime")},
	{ids: "GPCM-SD-GE-185", res: "MedicationStatement", fn: required("dateAsserted")},
	{ids: "GPCM-SD-GE-186", res: "MedicationStatement", fn: refTo("subject", "Patient")},
	{ids: "GPCM-SD-GE-187", res: "MedicationStatement", fn: fixed("taken", "unk")},
	{ids: "GPCM-SD-GE-189", res: "MedicationStatement", fn: func(c *checker, e *entry, r rep) {
		ds := list(e.res["dosage"])
		if len(ds) == 0 {
			r.bad(e.path+".dosage", "MedicationStatement.dosage.text is required")
		}
		for i, d := range ds {
			if dm, _ := d.(node); str(dm["text"]) == "" {
				r.bad(fmt.Sprintf("%s.dosage[%d].text", e.path, i), "MedicationStatement.dosage.text is required")
			}
		}
	}},

	// Immunization.
	{ids: "GPCM-SD-GE-192", res: "Immunization", fn: extRequired("DateRecorded")},
	{ids: "GPCM-SD-GE-193", res: "Immunization", fn: extRequired("VaccinationProcedure")},
	{ids: "GPCM-SD-GE-194", res: "Immunization", fn: fixed("status", "completed")},
	{ids: "GPCM-SD-GE-195", res: "Immunization", fn: fixed("notGiven", "true", "false")},
	{ids: "GPCM-SD-GE-196", res: "Immunization", fn: coded("vaccineCode")},
	{ids: "GPCM-SD-GE-197", res: "Immunization", fn: refTo("patient", "Patient")},
	{ids: "GPCM-SD-GE-201", res: "Immunization", fn: absentWhen(func(n node) bool { return str(n["primarySource"]) != "false" }, "unless primarySource is false", "reportOrigin")},
	{ids: "GPCM-SD-GE-206", res: "Immunization", fn: absentWhen(notGiven, "when the vaccine was not given", "site")},
	{ids: "GPCM-SD-GE-207", res: "Immunization", fn: absentWhen(notGiven, "when the vaccine was not given", "route")},
	{ids: "GPCM-SD-GE-208", res: "Immunization", fn: absentWhen(notGiven, "when the vaccine was not given", "doseQuantity")},
	{ids: "GPCM-SD-GE-210", res: "Immunization", fn: func(c *checker, e *entry, r rep) {
		for i, p := range list(e.res["practitioner"]) {
			pm, _ := p.(node)
			if has(pm, "role") && !hasCode(pm, "role", "", "EP") && !hasCode(pm, "role", "", "AP") {
				r.bad(fmt.Sprintf("%s.practitioner[%d].role", e.path, i), "Immunization.practitioner.role must be EP (recorder) or AP (administrator)")
			}
		}
	}},
	{ids: "GPCM-SD-GE-211", res: "Immunization", fn: func(c *checker, e *entry, r rep) {
		for i, p := range list(e.res["practitioner"]) {
			if pm, _ := p.(node); has(pm, "role") && !has(pm, "actor") {
				r.bad(fmt.Sprintf("%s.practitioner[%d].actor", e.path, i), "Immunization.practitioner.actor is required when a role is given")
			}
		}
	}},
	{ids: "GPCM-SD-GE-213", res: "Immunization", fn: absentWhen(notGiven, "when the vaccine was not given", "explanation.reason")},
	{ids: "GPCM-SD-GE-214", res: "Immunization", fn: absentWhen(given, "when the vaccine was given", "explanation.reasonNotGiven")},
	{ids: "GPCM-SD-GE-215", res: "Immunization", fn: absentWhen(notGiven, "when the vaccine was not given", "vaccinationProtocol")},
	{ids: "GPCM-SD-GE-219", res: "Immunization", fn: func(c *checker, e *entry, r rep) {
		for i, p := range list(e.res["vaccinationProtocol"]) {
			if pm, _ := p.(node); !has(pm, "targetDisease") {
				r.bad(fmt.Sprintf("%s.vaccinationProtocol[%d].targetDisease", e.path, i), "vaccinationProtocol.targetDisease is required")
			}
		}
	}},
	{ids: "GPCM-SD-GE-220", res: "Immunization", fn: func(c *checker, e *entry, r rep) {
		for i, p := range list(e.res["vaccinationProtocol"]) {
			if pm, _ := p.(node); !hasCode(pm, "doseStatus", "", "count") {
				r.bad(fmt.Sprintf("%s.vaccinationProtocol[%d].doseStatus", e.path, i), "vaccinationProtocol.doseStatus must be count")
			}
		}
	}},

	// ProblemHeader (Condition).
	{ids: "GPCM-SD-GE-223", res: "Condition", fn: func(c *checker, e *entry, r rep) {
		for _, x := range extNamed(e.res, "RelatedProblemHeader") {
			if t := subExt(x, "type"); t == nil || !anyIn(valueOf(t), "parent", "child", "sibling") {
				r.bad(e.path+".extension", "relatedProblemHeader.type must be parent, child or sibling")
			}
		}
	}},
	{ids: "GPCM-SD-GE-224", res: "Condition", fn: func(c *checker, e *entry, r rep) {
		for _, x := range extNamed(e.res, "RelatedProblemHeader") {
			t := subExt(x, "target")
			if t == nil {
				r.bad(e.path+".extension", "relatedProblemHeader.target is missing")
				continue
			}
			if ref := c.resolve(valueOf(t), "Condition"); ref == nil || ref.typ != "Condition" {
				r.bad(e.path+".extension", "relatedProblemHeader.target must reference a ProblemHeader (Condition) in the bundle")
			}
		}
	}},
	{ids: "GPCM-SD-GE-226", res: "Condition", fn: func(c *checker, e *entry, r rep) {
		xs := extNamed(e.res, "ProblemSignificance")
		if len(xs) == 0 || !anyIn(valueOf(xs[0]), "major", "minor") {
			r.bad(e.path+".extension", "the problemSignificance extension must be major or minor")
		}
	}},
	{ids: "GPCM-SD-GE-227", res: "Condition", fn: fixed("clinicalStatus", "active", "inactive")},
	{ids: "GPCM-SD-GE-228", res: "Condition", fn: codeIn("category", "problem-list-item")},
	{ids: "GPCM-SD-GE-229", res: "Condition", fn: coded("code")},
	{ids: "GPCM-SD-GE-230", res: "Condition", fn: refTo("subject", "Patient")},
	{ids: "GPCM-SD-GE-234", res: "Condition", fn: required("assertedDate")},
	{ids: "GPCM-SD-GE-235", res: "Condition", fn: refTo("asserter", "Practitioner")},

	// ProcedureRequest.
	{ids: "GPCM-SD-GE-237", res: "ProcedureRequest", fn: fixed("status", "active")},
	{ids: "GPCM-SD-GE-238", res: "ProcedureRequest", fn: fixed("intent", "order")},
	{ids: "GPCM-SD-GE-239", res: "ProcedureRequest", fn: coded("code")},
	{ids: "GPCM-SD-GE-240", res: "ProcedureRequest", fn: refTo("subject", "Patient")},

	// DiagnosticReport.
	{ids: "GPCM-SD-GE-247", res: "DiagnosticReport", fn: fixed("status", "registered", "partial", "preliminary", "final")},
	{ids: "GPCM-SD-GE-249", res: "DiagnosticReport", fn: coded("code")},
	{ids: "GPCM-SD-GE-250", res: "DiagnosticReport", fn: refTo("subject", "Patient")},
	{ids: "GPCM-SD-GE-251", res: "DiagnosticReport", fn: required("issued")},

	// Specimen.
	{ids: "GPCM-SD-GE-258", res: "Specimen", fn: fixed("status", "available", "unavailable", "unsatisfactory", "entered-in-error")},
	{ids: "GPCM-SD-GE-260", res: "Specimen", fn: refTo("subject", "Patient")},
	{ids: "GPCM-SD-GE-261", res: "Specimen", fn: required("receivedTime")},

	// H. ITK3 responses.
	{ids: "GPCM-SD-CS-054 GPCM-SD-OC-153 GPCM-SD-GE-280", kind: KindResponse, fn: handlingBool("BusAckRequested", false)},
	{ids: "GPCM-SD-CS-055 GPCM-SD-OC-154 GPCM-SD-GE-281", kind: KindResponse, fn: handlingBool("InfAckRequested", false)},
	{ids: "GPCM-SD-CS-056 GPCM-SD-OC-155 GPCM-SD-GE-282", kind: KindResponse, fn: func(c *checker, _ *entry, r rep) {
		p := c.header.path + ".extension(MessageHandling).SenderReference"
		got := c.handling().str("SenderReference")
		if got == "" {
			r.bad(p, "the response must echo the original SenderReference")
			return
		}
		if o := c.opts.Original; o != nil && o.SenderReference != "" && got != o.SenderReference {
			r.bad(p, "the response's SenderReference differs from the original message's")
		}
	}},
	{ids: "GPCM-SD-CS-058 GPCM-SD-OC-157 GPCM-SD-GE-284", kind: KindResponse, fn: checkEvent("ITK008M")},
	{ids: "GPCM-SD-OC-169", kind: KindResponse, ucs: ucOC, fn: func(c *checker, _ *entry, r rep) {
		code := c.responseCode()
		if code.Class() == itk3.ClassBusAck && code > itk3.CodeDidNotAttend {
			r.bad(c.header.path+".response", "online consultation business acknowledgements use 30001–30018, not %s", code)
		}
	}},
	{ids: "GPCM-SD-041", kind: KindResponse, fn: func(c *checker, _ *entry, r rep) {
		code := c.responseCode()
		if !code.Known() {
			return
		}
		if got := first(c.header.res, "response.code"); got != code.ResponseType() {
			r.bad(c.header.path+".response.code", "response.code is %q but response code %s is %s", got, code, code.ResponseType())
		}
	}},
	{ids: "GPCM-SD-042", kind: KindResponse, fn: func(c *checker, _ *entry, r rep) {
		code := c.responseCode()
		if !code.Known() || code.Positive() {
			return
		}
		oo := c.outcome()
		if oo == nil || first(oo.res, "issue.diagnostics") == "" {
			r.bad(c.header.path+".response.details", "a negative response must explain the fault in OperationOutcome.issue.diagnostics")
		}
	}},
	{ids: "GPCM-SD-040", kind: KindResponse, fn: func(c *checker, _ *entry, r rep) {
		if o := c.opts.Original; o != nil && !o.Conformant() && c.responseCode() == itk3.CodeSuccess {
			r.bad(c.header.path+".response", "the original message breaks header or payload rules, so it is invalid; a success (20013) response is wrong")
		}
	}},
	{ids: RuleITK3Response, kind: KindResponse, fn: checkResponse},
}

func hasValueKey(m node) bool {
	for k := range m {
		if strings.HasPrefix(k, "value") {
			return true
		}
	}
	return false
}

// qrItems applies fn to every (nested) QuestionnaireResponse item.
func qrItems(fn func(it node, path string, e *entry, r rep)) ruleFn {
	return func(c *checker, e *entry, r rep) {
		var visit func(n node, base string)
		visit = func(n node, base string) {
			for i, v := range list(n["item"]) {
				it, ok := v.(node)
				if !ok {
					continue
				}
				p := fmt.Sprintf("%s.item[%d]", base, i)
				fn(it, p, e, r)
				visit(it, p)
				for j, a := range list(it["answer"]) {
					if am, ok := a.(node); ok {
						visit(am, fmt.Sprintf("%s.answer[%d]", p, j))
					}
				}
			}
		}
		visit(e.res, e.path)
	}
}

func snomedCoded(path string) ruleFn {
	return func(c *checker, e *entry, r rep) {
		for _, cd := range codings(e.res, path) {
			if str(cd["system"]) == snomedSystem {
				if !validSNOMED(str(cd["code"])) {
					r.bad(e.path+"."+path, "%s.%s code %q is not a valid SNOMED CT concept ID", e.typ, path, str(cd["code"]))
				}
				return
			}
		}
		r.bad(e.path+"."+path, "%s.%s must carry a SNOMED CT code", e.typ, path)
	}
}

func profileOfRef(path, typ string) ruleFn {
	return func(c *checker, e *entry, r rep) {
		t := c.resolve(first(e.res, path+".reference"), typ)
		if t == nil || t.typ != typ {
			return // reported by the reference rules
		}
		if want := careConnectProfile(typ); !hasProfile(t.res, want) {
			r.bad(t.path+".meta.profile", "the %s referenced by Composition.%s must declare the profile %s", typ, path, want)
		}
	}
}

func officialName(c *checker, e *entry, r rep) {
	n := 0
	for _, v := range vals(e.res, "name") {
		if m, ok := v.(node); ok && str(m["use"]) == "official" {
			n++
		}
	}
	if n != 1 {
		r.bad(e.path+".name", "the %s has %d names with use official; it must have exactly one", e.typ, n)
	}
}

func birthDate(requiredDate bool) ruleFn {
	return func(c *checker, e *entry, r rep) {
		d := str(e.res["birthDate"])
		if d == "" {
			if requiredDate {
				r.bad(e.path+".birthDate", "%s.birthDate is missing", e.typ)
			}
			return
		}
		if !validDate(d) {
			r.bad(e.path+".birthDate", "%s.birthDate must be a full date YYYY-MM-DD without time", e.typ)
		}
	}
}

func hasPhone(n node) bool {
	for _, v := range vals(n, "telecom") {
		if m, ok := v.(node); ok && str(m["system"]) == "phone" && str(m["value"]) != "" {
			return true
		}
	}
	return false
}

func nhsNumberOf(n node) string {
	for _, v := range vals(n, "identifier") {
		if m, ok := v.(node); ok && str(m["system"]) == nhsNumberSystem {
			return str(m["value"])
		}
	}
	return ""
}

func odsOf(n node) string {
	for _, v := range vals(n, "identifier") {
		if m, ok := v.(node); ok && str(m["system"]) == odsSystem {
			return str(m["value"])
		}
	}
	return ""
}

func (c *checker) headerSenderODS() string {
	if c.header == nil {
		return ""
	}
	t := c.resolve(first(c.header.res, "sender.reference"), "Organization")
	if t == nil {
		return ""
	}
	return odsOf(t.res)
}

func (c *checker) patient() *entry {
	if c.comp != nil {
		if t := c.resolve(first(c.comp.res, "subject.reference"), "Patient"); t != nil && t.typ == "Patient" {
			return t
		}
	}
	for _, e := range c.docEntries {
		if e.typ == "Patient" {
			return e
		}
	}
	return nil
}

func (c *checker) encounterEnd() time.Time {
	if c.comp == nil {
		return time.Time{}
	}
	enc := c.resolve(first(c.comp.res, "encounter.reference"), "Encounter")
	for _, p := range []string{"period.end", "period.start"} {
		if enc != nil {
			if t, err := time.Parse(time.RFC3339, first(enc.res, p)); err == nil {
				return t
			}
		}
	}
	if t, err := time.Parse(time.RFC3339, str(c.comp.res["date"])); err == nil {
		return t
	}
	return time.Time{}
}

func handlingBool(key string, want bool) ruleFn {
	return func(c *checker, _ *entry, r rep) {
		p := c.header.path + ".extension(MessageHandling)." + key
		b := c.handling().boolean(key)
		switch {
		case b == nil:
			r.bad(p, "the %s handling key is missing or not a boolean; it must be %t", key, want)
		case *b != want:
			// Readable but not what GP Connect requires: the handling
			// specification business rule code (itk3.md §3.1).
			r.c.addf(r.id, SeverityError, itk3.CodeHandlingSpecBusinessRule, p, "%s is %t; it must be %t", key, *b, want)
		}
	}
}

func checkEvent(code string) ruleFn {
	return func(c *checker, _ *entry, r rep) {
		cd, _ := c.header.res["event"].(node)
		if cd == nil || str(cd["system"]) != itk3.MessageEventSystem || str(cd["code"]) != code {
			r.bad(c.header.path+".event", "MessageHeader.event must be %s from %s", code, itk3.MessageEventSystem)
		}
	}
}

func checkTimestamp(c *checker, _ *entry, r rep) {
	ts := str(c.header.res["timestamp"])
	if _, err := time.Parse(time.RFC3339, ts); err != nil {
		r.bad(c.header.path+".timestamp", "MessageHeader.timestamp must be the build time as a FHIR instant (it is %q)", ts)
	}
}

func checkHeaderSender(c *checker, _ *entry, r rep) {
	p := c.header.path + ".sender"
	ref := first(c.header.res, "sender.reference")
	if ref == "" {
		r.bad(p, "MessageHeader.sender must reference the sending organisation")
		return
	}
	t := c.resolve(ref, "Organization")
	switch {
	case t == nil || t.inDoc:
		r.bad(p, "MessageHeader.sender does not resolve to an Organization in the message bundle")
	case t.typ != "Organization" || !hasProfile(t.res, itk3.HeaderOrganizationProfile):
		r.bad(p, "MessageHeader.sender must be an Organization with the profile %s", itk3.HeaderOrganizationProfile)
	case odsOf(t.res) == "":
		r.bad(t.path+".identifier", "the header Organization has no ODS code")
	}
}

func meshFrom(transport string) ruleFn {
	return func(c *checker, _ *entry, r rep) {
		m := c.opts.Mesh
		if m == nil || m.Transport != transport {
			return
		}
		src := first(c.header.res, "source.endpoint")
		if m.From == "" || (src != "" && !strings.EqualFold(m.From, src)) {
			r.bad("MESH.From", "the MESH sender mailbox (%s) must be the sender's mailbox, as in MessageHeader.source.endpoint (%s)", m.From, src)
		}
	}
}

func meshTo(transport string) ruleFn {
	return func(c *checker, _ *entry, r rep) {
		m := c.opts.Mesh
		if m == nil || m.Transport != transport {
			return
		}
		if transport == "ctl" && c.uc != UseCaseConsultation && !strings.HasPrefix(m.To, "GPPROVIDER_") && mailboxRE.MatchString(m.To) {
			return // OC/GE to a provider's own mailbox
		}
		g, err := ParseGPProvider(m.To)
		if err != nil {
			r.bad("MESH.To", "the MESH recipient must be GPPROVIDER_{NHS number}_{YYYYMMDD}_{surname}: %v", err)
			return
		}
		if g.LegacyDOB {
			c.addf(RuleMESHAddress, SeverityWarning, 0, "MESH.To", "the date of birth in the GPPROVIDER_ address is DDMMYYYY; MESH expects YYYYMMDD")
		}
	}
}

func meshLocalID(transport string) ruleFn {
	return func(c *checker, _ *entry, r rep) {
		m := c.opts.Mesh
		if m == nil || m.Transport != transport {
			return
		}
		ods := c.headerSenderODS()
		if m.LocalID == "" || (ods != "" && m.LocalID != ods) {
			r.bad("MESH.LocalID", "the MESH local ID must be the sender's ODS code (%s)", ods)
		}
	}
}

func meshSubject(transport string) ruleFn {
	return func(c *checker, _ *entry, r rep) {
		m := c.opts.Mesh
		if m == nil || m.Transport != transport {
			return
		}
		prefix := map[UseCase]string{UseCaseConsultation: "Consultation report for ", UseCaseOnline: "Online consultation report for ", UseCaseRegistration: "Patient registration for "}[c.uc]
		ok := true
		if c.gen == GenerationV2 || c.uc == UseCaseGeneric {
			ok = strings.Contains(m.Subject, " for ")
		} else {
			ok = strings.HasPrefix(m.Subject, prefix)
		}
		if p := c.patient(); ok && p != nil && c.uc != UseCaseRegistration {
			if nhs := nhsNumberOf(p.res); nhs != "" && !strings.Contains(m.Subject, nhs) {
				ok = false
			}
		}
		if !ok {
			r.bad("MESH.Subject", "the MESH subject does not follow the template for this use case (title, patient name and NHS number)")
		}
	}
}

func checkPatientVsAddress(c *checker, _ *entry, r rep) {
	m := c.opts.Mesh
	if m == nil || !strings.HasPrefix(m.To, "GPPROVIDER_") {
		return
	}
	g, err := ParseGPProvider(m.To)
	p := c.patient()
	if err != nil || p == nil {
		return
	}
	var diffs []string
	if nhsNumberOf(p.res) != g.NHSNumber {
		diffs = append(diffs, "NHS number")
	}
	if str(p.res["birthDate"]) != g.BirthDate {
		diffs = append(diffs, "date of birth")
	}
	fam := ""
	for _, v := range vals(p.res, "name") {
		if nm, ok := v.(node); ok && (str(nm["use"]) == "official" || fam == "") {
			fam = str(nm["family"])
		}
	}
	// The address carries the surname folded to ASCII (patient.AddressSurname):
	// compare folded with folded, so "Müller" matches GPPROVIDER_…_Muller.
	if !patient.SameAddressSurname(fam, g.Family) {
		diffs = append(diffs, "surname")
	}
	if len(diffs) > 0 {
		r.bad(p.path, "the Patient's %s differ from the GPPROVIDER_ address the message was sent to", strings.Join(diffs, ", "))
	}
}

// responseCode returns the first ITK3 response code of a response's
// OperationOutcome (0 when none).
func (c *checker) responseCode() itk3.ResponseCode {
	oo := c.outcome()
	if oo == nil {
		return 0
	}
	for _, cd := range codings(oo.res, "issue.details") {
		if str(cd["system"]) == itk3.ResponseCodeSystem {
			if rc, err := itk3.ParseResponseCode(str(cd["code"])); err == nil {
				return rc
			}
		}
	}
	return 0
}

func (c *checker) outcome() *entry {
	if c.header == nil {
		return nil
	}
	if t := c.resolve(first(c.header.res, "response.details.reference"), "OperationOutcome"); t != nil && t.typ == "OperationOutcome" {
		return t
	}
	for _, e := range c.outer {
		if e.typ == "OperationOutcome" {
			return e
		}
	}
	return nil
}

var versionRE = regexp.MustCompile(`Version:? (\d+)`)

// version returns the report version from Composition.meta.versionId or the
// narrative ("Version n"); 0 when neither says.
func (c *checker) version() int {
	if c.comp == nil {
		return 0
	}
	for _, s := range []string{first(c.comp.res, "meta.versionId"), ""} {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	if m := versionRE.FindStringSubmatch(first(c.comp.res, "text.div")); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func (c *checker) compDate() time.Time {
	if c.comp == nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339, str(c.comp.res["date"]))
	return t
}
