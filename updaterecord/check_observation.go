package updaterecord

import (
	"fmt"
	"strings"

	"github.com/gpcm/gpcm/fhir"
)

func (c *checker) checkObservation(e *entry, o *fhir.Observation) {
	ok := false
	for _, id := range o.Identifier {
		ok = ok || (id != nil && id.System.String() != "" && id.Value.String() != "")
	}
	if !ok {
		c.fail(RuleProfile, e.path+".identifier", "the Observation needs an identifier with system and value (1..* in CareConnect-GPC-Observation-1)")
	}
	if o.Status.String() == "" {
		c.fail(RuleProfile, e.path+".status", "Observation.status is missing")
	}
	if len(codings(o.Code)) == 0 {
		c.fail(RuleProfile, e.path+".code", "Observation.code is missing")
	}
	c.refTo(RuleProfile, e, "subject", o.Subject, "Patient")
	c.refType(RuleProfile, e, "context", o.Context, "Encounter")
	if o.Issued.String() == "" {
		c.fail(RuleProfile, e.path+".issued", "Observation.issued is missing (1..1 in CareConnect-GPC-Observation-1)")
	}
	category := c.checkCategory(e, o)
	if category == "social-history" && heading(o) == "" {
		c.note("UR-D11", e.path+".category", "a social-history Observation without a PRSB heading tag: the guide's social-history items are headed (pregnancy status, procedures and therapies)")
	}
	c.checkPregnancyDisplay(e, o)
	switch v := o.Value.(type) {
	case *fhir.Quantity:
		c.checkQuantity(e.path+".valueQuantity", v, codeIn(o.Code, snomedSystem))
	case *fhir.Attachment:
		p := e.path + ".valueAttachment"
		if v.ContentType.String() == "" || (v.Data.String() == "" && v.URL.String() == "") {
			c.fail("UR-D19", p, "a report attachment needs a contentType and its data")
		}
		if strings.TrimSpace(v.Title.String()) == "" {
			c.warn("UR-D19", p+".title", "a report attachment should carry a meaningful title: the GP system lists it by that title")
		}
	}
	for i, cp := range o.Component {
		if cp == nil {
			continue
		}
		if q, ok := cp.Value.(*fhir.Quantity); ok {
			c.checkQuantity(fmt.Sprintf("%s.component[%d].valueQuantity", e.path, i), q, "")
		}
	}
	c.checkBloodPressure(e, o)
}

// checkCategory: vital-signs or social-history from observation-category
// (UR-D11); returns the category code.
func (c *checker) checkCategory(e *entry, o *fhir.Observation) string {
	got := ""
	for i, cc := range o.Category {
		for _, cd := range codings(cc) {
			p := fmt.Sprintf("%s.category[%d]", e.path, i)
			switch cd.System.String() {
			case categorySystem:
			case categorySystemR4:
				c.warn("UR-D11", p, "the category system is the FHIR R4 URI %s; STU3's is %s (both accepted)", categorySystemR4, categorySystem)
			default:
				continue
			}
			switch code := cd.Code.String(); code {
			case "vital-signs", "social-history":
				got = code
			default:
				c.fail("UR-D11", p, "Observation.category is %s; Update Record observations are vital-signs or social-history", code)
			}
		}
	}
	return got
}

// checkPregnancyDisplay: a pregnancy-status code whose display says the
// opposite (the guide's pregnancy snippet). The code is what is filed.
func (c *checker) checkPregnancyDisplay(e *entry, o *fhir.Observation) {
	for _, cd := range codings(o.Code) {
		d := strings.ToLower(cd.Display.String())
		neg := strings.Contains(d, "not pregnant")
		if cd.System.String() == snomedSystem && ((cd.Code.String() == codePregnant && neg) || (cd.Code.String() == codeNotPregnant && d != "" && !neg)) {
			c.warn(RuleProfile, e.path+".code", "the display %q contradicts SNOMED CT %s; the code is what the GP system files", cd.Display.String(), cd.Code.String())
		}
	}
}

// checkQuantity: UCUM units from the supported list, the unit that fits a
// known vital sign (UR-D16).
func (c *checker) checkQuantity(p string, q *fhir.Quantity, vital string) {
	code := q.Code.String()
	switch {
	case q.System.String() != ucumSystem:
		c.warn("UR-D16", p, "vital signs should be in UCUM units (system %s)", ucumSystem)
		return
	case ucumUnits[code] == "":
		c.warn("UR-D16", p, "%s is not one of the supported vital-sign units (%s)", code, strings.Join(UCUMUnits(), ", "))
		return
	}
	if units, ok := vitalUnits[vital]; ok && !anyIn(code, units...) {
		c.warn("UR-D16", p, "%s does not fit SNOMED CT %s (expected %s)", code, vital, strings.Join(units, " or "))
	}
	if u, name := q.Unit.String(), ucumUnits[code]; u != name && strings.EqualFold(u, name) {
		c.note("UR-D16", p+".unit", "unit text %q differs from the usual %q only in case", u, name)
	}
}

// checkBloodPressure: an Observation with two mm[Hg] components is a
// blood-pressure reading, whose codes should be one of the guide's
// triplets (digest §4.5).
func (c *checker) checkBloodPressure(e *entry, o *fhir.Observation) {
	if len(o.Component) != 2 {
		return
	}
	var comp [2]string
	for i, cp := range o.Component {
		if cp == nil {
			return
		}
		q, ok := cp.Value.(*fhir.Quantity)
		if !ok || q.Code.String() != "mm[Hg]" {
			return
		}
		comp[i] = codeIn(cp.Code, snomedSystem)
	}
	header := codeIn(o.Code, snomedSystem)
	for i := range comp {
		if comp[i] == diastolicTypo {
			c.warn(RuleBloodPressure, fmt.Sprintf("%s.component[%d].code", e.path, i), "%s is the misprint of diastolic arterial pressure 1091811000000102 in guide 1.1.4; read as 1091811000000102", diastolicTypo)
			comp[i] = "1091811000000102"
		}
	}
	for _, t := range bpTriplets {
		if t.header.Code == header && ((comp[0] == t.systolic.Code && comp[1] == t.diastolic.Code) || (comp[1] == t.systolic.Code && comp[0] == t.diastolic.Code)) {
			return
		}
	}
	c.note(RuleBloodPressure, e.path+".code", "the blood-pressure codes %s / %s / %s are not in the guide's triplet tables (accepted)", header, comp[0], comp[1])
}
