package updaterecord

import (
	"fmt"
	"strings"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/patient"
)

// officialName returns the name with use official, else the only name.
func officialName(ns []*fhir.HumanName) *fhir.HumanName {
	for _, n := range ns {
		if n != nil && n.Use.String() == "official" {
			return n
		}
	}
	if len(ns) == 1 {
		return ns[0]
	}
	return nil
}

func (c *checker) checkPatient(e *entry, p *fhir.Patient) {
	id, nhs := identifierValue(p.Identifier, nhsNumberSystem)
	switch {
	case id == nil || nhs == "":
		c.fail(RuleNHSNumber, e.path+".identifier", "the Patient has no NHS number (identifier with system %s); the GP system matches the patient by it", nhsNumberSystem)
	default:
		if err := patient.ValidateNHSNumber(nhs); err != nil {
			if c.opts.AllowTestNHSNumbers {
				c.warn(RuleNHSNumber, e.path+".identifier", "%v (accepted as test data)", err)
			} else {
				c.fail(RuleNHSNumber, e.path+".identifier", "%v", err)
			}
		}
		switch n := verificationExtensions(id); {
		case n == 0:
			c.fail(RuleProfile, e.path+".identifier", "the NHS number needs the verification-status extension %s (1..1 in CareConnect-GPC-Patient-1)", nhsVerifExtURL)
		case n < 0:
			c.warn(RuleProfile, e.path+".identifier", "the NHS number's verification-status extension is the CareConnect (fhir.hl7.org.uk) one; CareConnect-GPC-Patient-1 uses %s", nhsVerifExtURL)
		}
	}
	n := 0
	for _, nm := range p.Name {
		if nm != nil && nm.Use.String() == "official" {
			n++
			if nm.Family.String() == "" {
				c.fail(RuleProfile, e.path+".name", "the Patient's official name has no family name")
			}
		}
	}
	if n != 1 {
		c.fail(RuleProfile, e.path+".name", "the Patient has %d names with use official; CareConnect-GPC-Patient-1 requires exactly one", n)
	}
	if p.BirthDate.String() == "" {
		c.warn(RuleProfile, e.path+".birthDate", "the Patient has no birthDate (the GP system matches on it)")
	}
}

// verificationExtensions counts the GPC NHS-number verification extensions
// of an identifier; -1 when only the CareConnect one is present.
func verificationExtensions(id *fhir.Identifier) int {
	n, cc := 0, false
	for _, x := range id.Extension {
		switch {
		case x == nil:
		case x.URL == nhsVerifExtURL:
			n++
		case strings.HasSuffix(x.URL, "/Extension-CareConnect-NHSNumberVerificationStatus-1"):
			cc = true
		}
	}
	if n == 0 && cc {
		return -1
	}
	return n
}

func (c *checker) checkOrganization(e *entry, o *fhir.Organization) {
	_, ods := identifierValue(o.Identifier, odsSystem)
	switch {
	case ods == "":
		c.fail(RuleProfile, e.path+".identifier", "the Organization has no ODS code (identifier with system %s)", odsSystem)
	case !odsRE.MatchString(ods):
		c.warn(RuleIdentifierForm, e.path+".identifier", "the Organization's ODS code is not an ODS code (3–10 letters and digits); a placeholder?")
	}
	if o.Name.String() == "" {
		c.fail(RuleProfile, e.path+".name", "Organization.name is missing (1.. in CareConnect-GPC-Organization-1)")
	}
}

func (c *checker) checkPractitioner(e *entry, pr *fhir.Practitioner) {
	switch {
	case len(pr.Name) != 1 || pr.Name[0] == nil || pr.Name[0].Family.String() == "":
		c.fail(RuleProfile, e.path+".name", "the Practitioner needs exactly one name with a family name (CareConnect-GPC-Practitioner-1)")
	case pr.Name[0].Use.String() == "":
		c.note(RuleProfile, e.path+".name", "the Practitioner's name has no use (official expected)")
	}
	if _, sds := identifierValue(pr.Identifier, sdsUserSystem); sds == "" {
		c.note(RuleProfile, e.path+".identifier", "the Practitioner has no SDS user ID (tolerated: the guide names no identifier for pharmacists)")
	}
	if _, g := identifierValue(pr.Identifier, gphcSystem); g != "" && !gphcRE.MatchString(g) {
		c.warn(RuleIdentifierForm, e.path+".identifier", "the GPhC registration number is not 7 digits; a placeholder?")
	}
}

func (c *checker) checkRole(e *entry, r *fhir.PractitionerRole) {
	c.refType(RuleProfile, e, "practitioner", r.Practitioner, "Practitioner")
	c.refType(RuleProfile, e, "organization", r.Organization, "Organization")
	for i, cc := range r.Code {
		for _, cd := range codings(cc) {
			if cd.System.String() == jobRoleSystemPackage {
				c.warn(RuleProfile, fmt.Sprintf("%s.code[%d]", e.path, i), "the job role's system is %s; the profile's sdsJobRoleName slice fixes %s (both accepted)", jobRoleSystemPackage, jobRoleSystem)
			}
		}
	}
}

func (c *checker) checkEncounter(e *entry, en *fhir.Encounter) {
	ok := false
	for _, id := range en.Identifier {
		if id != nil && id.System.String() != "" && id.Value.String() != "" {
			ok = true
			if strings.HasPrefix(id.Value.String(), "urn:uuid:") {
				c.note(RuleProfile, e.path+".identifier", "Encounter.identifier.value carries the urn:uuid: prefix (an identifier value, not a reference)")
			}
		}
	}
	if !ok {
		c.fail(RuleProfile, e.path+".identifier", "the Encounter needs an identifier with system and value (CareConnect-GPC-Encounter-1)")
	}
	if en.Status.String() == "" {
		c.fail(RuleProfile, e.path+".status", "Encounter.status is missing")
	}
	if len(en.Type) == 0 {
		c.fail(RuleProfile, e.path+".type", "Encounter.type is missing (1..1 in CareConnect-GPC-Encounter-1)")
	}
	c.refTo(RuleProfile, e, "subject", en.Subject, "Patient")
	if len(en.Participant) == 0 {
		c.fail(RuleProfile, e.path+".participant", "the Encounter needs a participant: the pharmacist")
	}
	for i, pt := range en.Participant {
		if pt == nil {
			continue
		}
		f := fmt.Sprintf("participant[%d]", i)
		c.refTo(RuleProfile, e, f+".individual", pt.Individual, "Practitioner", "RelatedPerson")
		for j, ty := range pt.Type {
			for _, cd := range codings(ty) {
				if cd.Display.String() == "" {
					c.note(RuleProfile, fmt.Sprintf("%s.%s.type[%d]", e.path, f, j), "the participant type coding has no display")
				}
			}
		}
	}
	if en.Period != nil && en.Period.Start.String() == "" {
		c.fail(RuleProfile, e.path+".period.start", "Encounter.period needs a start (CareConnect-GPC-Encounter-1)")
	}
	c.refType(RuleProfile, e, "serviceProvider", en.ServiceProvider, "Organization")
	if c.composition != nil && c.uc != "" {
		svc, _ := c.uc.Service()
		found := false
		for _, r := range en.Reason {
			found = found || codeIn(r, snomedSystem) == svc.Code
		}
		if !found {
			c.warn("UR-D05", e.path+".reason", "Encounter.reason should repeat the service code of Composition.type (%s)", svc.Code)
		}
	}
}

func (c *checker) checkImpression(e *entry, ci *fhir.ClinicalImpression) {
	if ci.Status.String() == "" {
		c.fail(RuleProfile, e.path+".status", "ClinicalImpression.status is missing")
	}
	c.refTo(RuleProfile, e, "subject", ci.Subject, "Patient")
	if strings.TrimSpace(ci.Summary.String()) == "" {
		c.fail(RuleProfile, e.path+".summary", "ClinicalImpression.summary is missing: it carries the PRSB heading's text (1.. in CareConnect-GPC-ClinicalImpression-1)")
	}
	c.refType(RuleProfile, e, "context", ci.Context, "Encounter")
	c.refType(RuleProfile, e, "assessor", ci.Assessor, "Practitioner")
	if heading(ci) == "" {
		c.warn("UR-D09", e.path+".meta.tag", "the ClinicalImpression has no RecordStandardHeadings tag naming its PRSB heading")
	}
}

func (c *checker) checkCondition(e *entry, cd *fhir.Condition) {
	if len(codings(cd.Code)) == 0 {
		c.fail(RuleProfile, e.path+".code", "Condition.code is missing (1.. in CareConnect-GPC-Condition-1)")
	}
	c.refTo(RuleProfile, e, "subject", cd.Subject, "Patient")
	if cd.AssertedDate.String() == "" {
		c.fail(RuleProfile, e.path+".assertedDate", "Condition.assertedDate is missing (1.. in CareConnect-GPC-Condition-1)")
	}
	c.refTo(RuleProfile, e, "asserter", cd.Asserter, "Practitioner", "Patient", "RelatedPerson")
	c.refType(RuleProfile, e, "context", cd.Context, "Encounter")
}

func (c *checker) checkDispense(e *entry, d *fhir.MedicationDispense) {
	switch st := d.Status.String(); st {
	case "":
		c.fail(RuleProfile, e.path+".status", "MedicationDispense.status is missing")
	case "completed", "stopped":
	default:
		c.warn("UR-D14", e.path+".status", "MedicationDispense.status is %s; the guide uses completed (stopped for a declined urgent supply)", st)
	}
	switch m := d.Medication.(type) {
	case *fhir.CodeableConcept:
		if codeIn(m, dmdSystem) == "" {
			c.warn("UR-D13", e.path+".medicationCodeableConcept", "the medicine should be a dm+d code (system %s)", dmdSystem)
		}
	case *fhir.Reference:
		c.warn("UR-D13", e.path+".medicationReference", "the medicine should be sent as medicationCodeableConcept with a dm+d code, not a Medication reference")
	default:
		c.fail(RuleProfile, e.path+".medication", "MedicationDispense.medication is missing")
	}
	c.refTo(RuleProfile, e, "subject", d.Subject, "Patient")
	c.refType(RuleProfile, e, "context", d.Context, "Encounter")
	if len(d.Performer) != 1 || d.Performer[0] == nil {
		c.fail(RuleProfile, e.path+".performer", "MedicationDispense needs exactly one performer (CareConnect-GPC-MedicationDispense-1)")
	} else {
		c.refTo(RuleProfile, e, "performer[0].actor", d.Performer[0].Actor, "Practitioner", "Organization", "Patient", "RelatedPerson", "Device")
	}
	if q := d.Quantity; q == nil || q.Value.String() == "" || q.Unit.String() == "" || q.System.String() == "" || q.Code.String() == "" {
		c.fail(RuleProfile, e.path+".quantity", "MedicationDispense.quantity needs value, unit, system and code (CareConnect-GPC-MedicationDispense-1)")
	}
	if d.Type != nil {
		sys, code := "", ""
		if cds := codings(d.Type); len(cds) > 0 {
			sys, code = cds[0].System.String(), cds[0].Code.String()
		}
		if _, ok := supplyTypes[code]; sys != supplyTypeSystem || !ok {
			c.warn("UR-D15", e.path+".type", "MedicationDispense.type should be a code from %s", supplyTypeSystem)
		}
	}
	if len(d.DosageInstruction) == 0 && d.Status.String() != "stopped" {
		c.warn("UR-D12", e.path+".dosageInstruction", "the supply carries no dosage instruction")
	}
	for i, ds := range d.DosageInstruction {
		if ds != nil && (ds.Text.String() == "" || ds.PatientInstruction.String() == "") {
			c.fail("UR-D12", fmt.Sprintf("%s.dosageInstruction[%d]", e.path, i), "Dosage.text and Dosage.patientInstruction must always be sent (with or without structured dosage)")
		}
	}
}

// checkTags: meta.tag headings come from RecordStandardHeadings (UR-D09).
func (c *checker) checkTags(e *entry) {
	for i, t := range tags(e.res) {
		if t == nil {
			continue
		}
		p := fmt.Sprintf("%s.meta.tag[%d]", e.path, i)
		sys, code := t.System.String(), t.Code.String()
		switch sys {
		case HeadingSystem:
		case headingSystemUKCore:
			c.warn("UR-D09", p, "the tag system is %s; the guide's is %s (both accepted)", headingSystemUKCore, HeadingSystem)
		default:
			continue // other tags are not headings
		}
		switch _, known := headings[code]; {
		case code == "pregnancy-state":
			c.warn("UR-D09", p, "heading pregnancy-state was renamed pregnancy-status in guide 1.1.2")
		case !known:
			c.warn("UR-D09", p, "%s is not a RecordStandardHeadings code", code)
		case code == "social-context":
			c.note("UR-D09", p, "social-context items (smoking status, date stopped smoking) were removed from the guide in 1.1.5 (accepted)")
		}
	}
}

// resourceWords are the identifier-system endings that name a resource
// type in the examples' local systems (…/identifier/observation).
var resourceWords = map[string]string{
	"bundle": "Bundle", "composition": "Composition", "encounter": "Encounter", "patient": "Patient",
	"organization": "Organization", "practitioner": "Practitioner", "practitioner-role": "PractitionerRole",
	"observation": "Observation", "clinical-impression": "ClinicalImpression", "condition": "Condition",
	"medication-dispense": "MedicationDispense", "flag": "Flag", "procedure": "Procedure", "allergy-intolerance": "AllergyIntolerance",
}

// checkIdentifierSystems notes a local identifier system named after
// another resource type (the ABPM-declined snippet's …/flag).
func (c *checker) checkIdentifierSystems(e *entry) {
	var ids []*fhir.Identifier
	switch r := e.res.(type) {
	case *fhir.Observation:
		ids = r.Identifier
	case *fhir.ClinicalImpression:
		ids = r.Identifier
	case *fhir.Condition:
		ids = r.Identifier
	case *fhir.MedicationDispense:
		ids = r.Identifier
	case *fhir.Encounter:
		ids = r.Identifier
	}
	for i, id := range ids {
		if id == nil {
			continue
		}
		s := id.System.String()
		last := s[strings.LastIndex(s, "/")+1:]
		if t, ok := resourceWords[last]; ok && t != e.typ {
			c.note(RuleProfile, fmt.Sprintf("%s.identifier[%d].system", e.path, i), "the identifier system of this %s is named after a %s", e.typ, t)
		}
	}
}
