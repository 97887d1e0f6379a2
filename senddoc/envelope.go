package senddoc

import (
	"fmt"
	"strings"

	"github.com/gpcm/gpcm/itk3"
)

// checkBundle reports bundle invariants that hold for any FHIR message:
// unique fullUrls and references that resolve inside the message.
func (c *checker) checkBundle() {
	c.checkBundleURLs(c.root, "Bundle", c.outer)
	for _, e := range c.outer {
		if e.typ == "Bundle" {
			inner := entriesOf(e.res, e.path, true)
			c.checkBundleURLs(e.res, e.path, inner)
		}
	}
}

func (c *checker) checkBundleURLs(b node, base string, es []*entry) {
	seen := map[string]*entry{}
	for _, e := range es {
		if e.fullURL == "" {
			c.addf(RuleFHIRBundle, SeverityError, itk3.CodePayloadValidationFailure, e.path, "the entry has no fullUrl")
			continue
		}
		if prev, dup := seen[e.fullURL]; dup {
			c.addf(RuleFHIRBundle, SeverityError, itk3.CodePayloadValidationFailure, e.path,
				"fullUrl %s is used twice in one bundle (also by the %s at %s); references to it are ambiguous", e.fullURL, prev.typ, prev.path)
			continue
		}
		seen[e.fullURL] = e
		if u, ok := strings.CutPrefix(e.fullURL, "urn:uuid:"); ok && !uuidRE.MatchString(u) {
			c.addf(RuleFHIRBundle, SeverityWarning, 0, e.path, "fullUrl %s is not a urn:uuid: with a UUID", e.fullURL)
		}
	}
	_ = b
}

// checkReferences reports references that do not resolve in the message.
func (c *checker) checkReferences() {
	for _, set := range [][]*entry{c.outer, c.docEntries} {
		for _, e := range set {
			if e.typ == "Bundle" {
				continue
			}
			c.refsIn(e.res, e.path, func(path, ref string) {
				if strings.HasPrefix(ref, "#") {
					return
				}
				if strings.Contains(path, ".extension") && (strings.HasPrefix(ref, "https://") || strings.HasPrefix(ref, "http://")) {
					return // canonical URLs in extensions (MessageDefinition) are not bundle references
				}
				if c.resolve(ref) == nil {
					c.addf(RuleFHIRBundle, SeverityError, itk3.CodePayloadValidationFailure, path,
						"reference %s does not resolve to a resource in the message; everything referenced must be inside the bundle", ref)
				}
			})
		}
	}
}

func (c *checker) refsIn(v any, path string, fn func(path, ref string)) {
	switch t := v.(type) {
	case node:
		for k, x := range t {
			if k == "reference" {
				if s := str(x); s != "" {
					fn(path+".reference", s)
				}
				continue
			}
			if k == "contained" {
				continue
			}
			c.refsIn(x, path+"."+k, fn)
		}
	case []any:
		for i, x := range t {
			c.refsIn(x, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

// checkEnvelope checks the ITK3 message bundle (GPCM-C-02: messages follow
// ITK3).
func checkEnvelope(c *checker, _ *entry, r rep) {
	if !hasProfile(c.root, itk3.MessageBundleProfile) {
		r.bad("Bundle.meta.profile", "the message Bundle must declare the profile %s", itk3.MessageBundleProfile)
	}
	if t := str(c.root["type"]); t != "message" {
		r.bad("Bundle.type", "the message Bundle's type is %q; it must be message", t)
	}
	if first(c.root, "identifier.value") == "" {
		r.bad("Bundle.identifier", "the message Bundle needs an identifier (system %s, a UUID)", uuidIdentSystem)
	}
	if len(c.outer) == 0 || c.outer[0] != c.header {
		r.bad("Bundle.entry[0]", "the MessageHeader must be the first entry of the message Bundle")
	}
	if !hasProfile(c.header.res, itk3.MessageHeaderProfile) {
		r.bad(c.header.path+".meta.profile", "the MessageHeader must declare the profile %s", itk3.MessageHeaderProfile)
	}
	if len(ext(c.header.res, itk3.MessageHandlingURL)) == 0 {
		r.bad(c.header.path+".extension", "the MessageHeader has no MessageHandling extension (%s)", itk3.MessageHandlingURL)
	}
	if str(c.header.res["id"]) == "" {
		r.bad(c.header.path+".id", "the MessageHeader needs an id: responses point at it")
	}
}

// checkResponse checks the ITK3 response message structure.
func checkResponse(c *checker, _ *entry, r rep) {
	p := c.header.path + ".response"
	if !has(c.header.res, "response") {
		r.bad(p, "an ITK008M response needs MessageHeader.response")
		return
	}
	if first(c.header.res, "response.identifier") == "" {
		r.bad(p+".identifier", "response.identifier must hold the original MessageHeader.id (or %s)", itk3.UnreadableIdentifier)
	} else if o := c.opts.Original; o != nil && o.MessageHeaderID != "" && first(c.header.res, "response.identifier") != o.MessageHeaderID {
		r.bad(p+".identifier", "response.identifier does not match the original MessageHeader.id")
	}
	rc := first(c.header.res, "response.code")
	if rc != "ok" && rc != "fatal-error" && rc != "transient-error" {
		r.bad(p+".code", "response.code is %q; it must be ok or fatal-error", rc)
	}
	oo := c.outcome()
	if oo == nil {
		if rc != "ok" {
			r.bad(p+".details", "a negative response must carry an OperationOutcome with the ITK3 response code")
		}
		return
	}
	if !hasProfile(oo.res, itk3.ResponseOutcomeProfile) {
		r.bad(oo.path+".meta.profile", "the OperationOutcome must declare the profile %s", itk3.ResponseOutcomeProfile)
	}
	if c.responseCode() == 0 {
		r.bad(oo.path+".issue.details", "the OperationOutcome carries no known code from %s", itk3.ResponseCodeSystem)
	}
}

// checkedIDs lists every inventory ID some rule can report.
func checkedIDs() map[string]bool {
	m := map[string]bool{}
	for _, r := range allRules {
		for _, id := range strings.Fields(r.ids) {
			if _, ok := inventoryIndex[id]; ok {
				m[id] = true
			}
		}
	}
	return m
}
