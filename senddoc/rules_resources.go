package senddoc

import (
	"fmt"
	"regexp"
	"strings"
)

// Rules of the payload resources (digest §2 E) added after the first
// release of the validator; issue 22 moves the rest of rules.go into files
// by area like this one.
var resourceRules = []rule{
	{ids: "GPCM-SD-CS-020 GPCM-SD-OC-004 GPCM-SD-GE-004", res: "Composition", fn: compositionDate},
	{ids: "GPCM-SD-OC-031 GPCM-SD-GE-031", res: "Device", fn: snomedCoded("type")},
	{ids: "GPCM-SD-OC-097 GPCM-SD-GE-097", res: "AllergyIntolerance", fn: coded("code")},
	{ids: "GPCM-SD-GE-153", res: "MedicationRequest", fn: func(c *checker, e *entry, r rep) {
		for _, x := range extNamed(e.res, "StatusReason") {
			if subExt(x, "statusChangeDate") == nil {
				r.bad(e.path+".extension", "the statusReason extension needs statusChangeDate, the date the medication was stopped")
			}
		}
	}},
	{ids: "GPCM-SD-GE-156", res: "MedicationRequest", fn: func(c *checker, e *entry, r rep) {
		ids := identifiers(e.res)
		if len(ids) == 0 {
			r.bad(e.path+".identifier", "MedicationRequest.identifier is missing; it must be a persistent identifier namespaced by the provider (system and value)")
			return
		}
		for _, other := range c.docEntries {
			if other == e || other.typ != "MedicationRequest" {
				continue
			}
			for id := range identifiers(other.res) {
				if ids[id] {
					r.bad(e.path+".identifier", "MedicationRequest.identifier is also used by the MedicationRequest at %s; it must identify one prescription", other.path)
					return
				}
			}
		}
	}},
	{ids: "GPCM-SD-GE-200", res: "Immunization", fn: fixed("primarySource", "true", "false")},
	{ids: "GPCM-SD-GE-216", res: "Immunization", fn: func(c *checker, e *entry, r rep) {
		for i, p := range list(e.res["vaccinationProtocol"]) {
			pm, _ := p.(node)
			if (has(pm, "series") || has(pm, "seriesDoses")) && !has(pm, "doseSequence") {
				r.bad(fmt.Sprintf("%s.vaccinationProtocol[%d].doseSequence", e.path, i), "the vaccination is part of a series; vaccinationProtocol.doseSequence must say which dose it was")
			}
		}
	}},
	{ids: "GPCM-SD-GE-225", res: "Condition", fn: func(c *checker, e *entry, r rep) {
		for _, x := range extNamed(e.res, "RelatedClinicalContent") {
			ref := valueOf(x)
			if c.resolve(ref) == nil {
				r.bad(e.path+".extension", "the relatedClinicalContent extension must reference an item or encounter in the bundle")
			}
		}
	}},
}

// identifiers returns a resource's identifiers that have both a system and
// a value, as "system|value".
func identifiers(n node) map[string]bool {
	out := map[string]bool{}
	for _, v := range vals(n, "identifier") {
		if m, ok := v.(node); ok && str(m["system"]) != "" && str(m["value"]) != "" {
			out[str(m["system"])+"|"+str(m["value"])] = true
		}
	}
	return out
}

// dateTimeRE is the FHIR dateTime form: a year, month or day, or a full
// date and time with a time zone.
var dateTimeRE = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$`)

// compositionDate: Composition.date is when the message was made
// (GPCM-SD-CS-020): present, a FHIR dateTime, and a time rather than a day.
func compositionDate(c *checker, e *entry, r rep) {
	d := str(e.res["date"])
	switch {
	case d == "":
		r.bad(e.path+".date", "Composition.date is missing; it must be the date and time the message was created")
	case !dateTimeRE.MatchString(d):
		r.bad(e.path+".date", "Composition.date is not a FHIR dateTime (YYYY-MM-DDThh:mm:ss+zz:zz)")
	case !strings.Contains(d, "T"):
		r.warn(e.path+".date", "Composition.date gives a day only; it should be the time the message was created")
	}
}

// performedByPatient: an Observation of an online consultation or generic
// document names the Patient the document is about as its performer: that
// marks the data as entered by the patient (GPCM-SD-OC-052, GPCM-SD-GE-052).
func performedByPatient(c *checker, e *entry, r rep) {
	hs := walk(e.res, e.path, "performer.reference")
	if len(hs) == 0 {
		r.bad(e.path+".performer", "Observation.performer is missing; it must reference the Patient (patient-entered data)")
		return
	}
	pat := c.patient()
	var names []string
	for _, h := range hs {
		t := c.resolve(str(h.v), "Patient")
		if t == nil {
			names = append(names, "an unresolved reference")
			continue
		}
		if t.typ == "Patient" && (pat == nil || t == pat) {
			return
		}
		names = append(names, "a "+t.typ)
	}
	r.bad(hs[0].path, "Observation.performer names %s; it must reference the Patient the document is about (that marks the data as patient-entered)", strings.Join(names, " and "))
}
