package updaterecord

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gpcm/gpcm/fhir"
)

// allowed maps the resource types of iteration 1 to their profiles
// (digest §3.2); every other type or profile is rejected with 20009.
var allowed = map[string]string{
	"Composition":        ProfileComposition,
	"Patient":            ProfilePatient,
	"Organization":       ProfileOrganization,
	"Practitioner":       ProfilePractitioner,
	"PractitionerRole":   ProfilePractitionerRole,
	"Encounter":          ProfileEncounter,
	"Observation":        ProfileObservation,
	"ClinicalImpression": ProfileClinicalImpression,
	"Condition":          ProfileCondition,
	"MedicationDispense": ProfileMedicationDispense,
}

// cardinality of each type in the document bundle (digest §3.2); max 0 is
// unbounded.
var cardinality = []struct {
	typ      string
	min, max int
	id       string
}{
	{"Composition", 1, 1, "UR-D02"},
	{"Patient", 1, 1, "UR-D02"},
	{"Organization", 1, 1, "UR-D02"},
	{"Practitioner", 1, 0, "UR-D02"},
	{"Encounter", 1, 1, "UR-D02"},
	{"ClinicalImpression", 1, 0, "UR-D03"},
}

func (c *checker) ofType(typ string) []*entry {
	var out []*entry
	for _, e := range c.inner {
		if e.typ == typ {
			out = append(out, e)
		}
	}
	return out
}

func (c *checker) one(typ string) *entry {
	if es := c.ofType(typ); len(es) > 0 {
		return es[0]
	}
	return nil
}

// patientEntry is the Composition's subject, else the document's Patient.
func (c *checker) patientEntry() *entry {
	if c.composition != nil {
		if t := c.resolve(c.composition.Subject); t != nil && t.typ == "Patient" {
			return t
		}
	}
	return c.one("Patient")
}

func (c *checker) encounter() *entry {
	if c.composition != nil {
		if t := c.resolve(c.composition.Encounter); t != nil && t.typ == "Encounter" {
			return t
		}
	}
	return c.one("Encounter")
}

// pharmacy is the sending pharmacy in the payload: the custodian, the
// Encounter's service provider or the document's Organization.
func (c *checker) pharmacy() *entry {
	var refs []*fhir.Reference
	if c.composition != nil {
		refs = append(refs, c.composition.Custodian)
	}
	if e := c.encounter(); e != nil {
		refs = append(refs, e.res.(*fhir.Encounter).ServiceProvider)
	}
	for _, r := range refs {
		if t := c.resolve(r); t != nil && t.typ == "Organization" && t.inDoc {
			return t
		}
	}
	return c.one("Organization")
}

// checkPayload checks the document Bundle and every resource in it.
func (c *checker) checkPayload() {
	if c.doc == nil {
		return
	}
	d, p := c.docBundle, c.doc.path
	if !hasProfile(d, ProfileDocumentBundle) {
		c.fail("UR-D01", p+".meta.profile", "the document Bundle must declare the profile %s", ProfileDocumentBundle)
	}
	if t := d.Type.String(); t != "document" {
		c.fail("UR-D01", p+".type", "the document Bundle's type is %q; it must be document", t)
	}
	if d.Identifier == nil || d.Identifier.Value.String() == "" {
		c.fail("UR-D01", p+".identifier", "the document Bundle needs an identifier")
	}
	if d.Meta == nil || d.Meta.LastUpdated.String() == "" {
		c.warn("UR-D01", p+".meta.lastUpdated", "the document Bundle has no meta.lastUpdated (FHIR documents carry one)")
	}
	for _, cr := range cardinality {
		n := len(c.ofType(cr.typ))
		switch {
		case n < cr.min:
			c.fail(cr.id, p, "the document Bundle holds no %s; an Update Record must carry %s", cr.typ, allowed[cr.typ])
		case cr.max > 0 && n > cr.max:
			c.fail(cr.id, p, "the document Bundle holds %d %s resources; it may hold %d", n, cr.typ, cr.max)
		}
	}
	if len(c.inner) > 0 && c.inner[0] != c.comp && c.comp != nil {
		c.fail("UR-D02", p+".entry[0]", "the Composition must be the first entry of the document Bundle")
	}
	summaries := map[string]*entry{}
	for _, e := range c.inner {
		if !c.checkProfile(e) {
			continue
		}
		c.checkResource(e)
		if ci, ok := e.res.(*fhir.ClinicalImpression); ok && ci.Summary.String() != "" {
			if prev := summaries[ci.Summary.String()]; prev != nil {
				c.note("UR-D09", e.path+".summary", "this ClinicalImpression repeats the summary of the one at %s (one resource per heading value)", prev.path)
			} else {
				summaries[ci.Summary.String()] = e
			}
		}
	}
	if c.composition != nil {
		c.checkComposition()
	}
}

// checkProfile: the resource type is in iteration 1 and declares its
// profile (UR-D02, UR-D04); false when the type is not allowed at all.
func (c *checker) checkProfile(e *entry) bool {
	want, ok := allowed[e.typ]
	switch {
	case !ok:
		c.fail("UR-D04", e.path, "%s (%s) is not in iteration 1 of Update Record; the whole message is rejected", article(e.typ), profileText(e.res))
	case len(profiles(e.res)) == 0:
		c.fail("UR-D02", e.path+".meta.profile", "the %s must declare the profile %s", e.typ, want)
	case !hasProfile(e.res, want):
		c.fail("UR-D04", e.path+".meta.profile", "the %s declares %s, not %s: a profile outside iteration 1; the whole message is rejected", e.typ, profileText(e.res), want)
	}
	return ok
}

// checkLone checks a single payload resource against its profile.
func (c *checker) checkLone() {
	typ := c.lone.ResourceType()
	e := &entry{typ: typ, res: c.lone, path: typ, inDoc: true}
	c.inner = []*entry{e}
	if !c.checkProfile(e) {
		return
	}
	c.kind = KindResource
	c.checkResource(e)
}

func (c *checker) checkResource(e *entry) {
	switch r := e.res.(type) {
	case *fhir.Patient:
		c.checkPatient(e, r)
	case *fhir.Organization:
		c.checkOrganization(e, r)
	case *fhir.Practitioner:
		c.checkPractitioner(e, r)
	case *fhir.PractitionerRole:
		c.checkRole(e, r)
	case *fhir.Encounter:
		c.checkEncounter(e, r)
	case *fhir.Observation:
		c.checkObservation(e, r)
	case *fhir.ClinicalImpression:
		c.checkImpression(e, r)
	case *fhir.Condition:
		c.checkCondition(e, r)
	case *fhir.MedicationDispense:
		c.checkDispense(e, r)
	}
	c.checkTags(e)
	c.checkIdentifierSystems(e)
}

func (c *checker) checkComposition() {
	e, cp := c.comp, c.composition
	if cp.Status.String() == "" {
		c.fail(RuleProfile, e.path+".status", "Composition.status is missing")
	}
	if c.uc == "" {
		var codes []string
		for _, s := range services {
			codes = append(codes, s.coding.Code+" "+s.coding.Display)
		}
		c.fail("UR-D05", e.path+".type", "Composition.type must be the SNOMED CT code of the service: %s", strings.Join(codes, "; "))
	}
	c.refTo(RuleProfile, e, "subject", cp.Subject, "Patient")
	if cp.Encounter == nil {
		c.warn(RuleProfile, e.path+".encounter", "Composition.encounter should reference the Encounter")
	} else {
		c.refType(RuleProfile, e, "encounter", cp.Encounter, "Encounter")
	}
	if cp.Date.String() == "" {
		c.fail(RuleProfile, e.path+".date", "Composition.date is missing")
	}
	if len(cp.Author) == 0 {
		c.fail(RuleProfile, e.path+".author", "Composition.author must reference the pharmacist")
	}
	for i, a := range cp.Author {
		c.refType(RuleProfile, e, fmt.Sprintf("author[%d]", i), a, "Practitioner", "Patient", "RelatedPerson", "Device")
	}
	if cp.Title.String() == "" {
		c.fail(RuleProfile, e.path+".title", "Composition.title is missing")
	}
	if cp.Custodian == nil {
		c.warn(RuleProfile, e.path+".custodian", "Composition.custodian is absent (allowed for Update Record; it should name the pharmacy)")
	} else {
		c.refType(RuleProfile, e, "custodian", cp.Custodian, "Organization")
	}
	if cp.Confidentiality.String() == "" {
		c.note(RuleProfile, e.path+".confidentiality", "Composition.confidentiality is absent (allowed by CareConnect-Composition-1)")
	}
	c.checkSections(e, cp)
	for i, rt := range cp.RelatesTo {
		if rt == nil {
			continue
		}
		p := fmt.Sprintf("%s.relatesTo[%d]", e.path, i)
		if rt.Code.String() != "replaces" {
			c.fail("UR-E02", p+".code", "relatesTo.code must be replaces")
		}
		if id, ok := rt.Target.(*fhir.Identifier); !ok || id.Value.String() == "" {
			c.fail("UR-E02", p+".targetIdentifier", "a replacement names the update it replaces in relatesTo.targetIdentifier")
		}
		if c.version() < 2 {
			c.warn("UR-E03", e.path+".meta.versionId", "a replacement should carry its version (2 or more) in Composition.meta.versionId")
		}
	}
	if cp.Meta != nil && cp.Meta.VersionID.String() != "" {
		if _, err := strconv.Atoi(cp.Meta.VersionID.String()); err != nil {
			c.warn("UR-E03", e.path+".meta.versionId", "Composition.meta.versionId should be the version number (1, 2, …)")
		}
	}
}

// checkSections: the section entries reference the Encounter and every
// ClinicalImpression (UR-D06); no section text (UR-D07).
func (c *checker) checkSections(e *entry, cp *fhir.Composition) {
	listed := map[*entry]bool{}
	var visit func(ss []*fhir.CompositionSection, base string)
	visit = func(ss []*fhir.CompositionSection, base string) {
		for i, s := range ss {
			if s == nil {
				continue
			}
			p := fmt.Sprintf("%s.section[%d]", base, i)
			if s.Text != nil && strings.TrimSpace(s.Text.Div) != "" {
				c.fail("UR-D07", p+".text", "Composition.section.text is not allowed: Update Record carries structured data only, no HTML")
			}
			for _, r := range s.Entry {
				if t := c.resolve(r); t != nil {
					listed[t] = true
				}
			}
			visit(s.Section, p)
		}
	}
	visit(cp.Section, e.path)
	for _, t := range c.inner {
		if (t.typ == "Encounter" || t.typ == "ClinicalImpression") && !listed[t] {
			c.fail("UR-D06", t.path, "the %s is not referenced from Composition.section.entry", t.typ)
		}
	}
}
