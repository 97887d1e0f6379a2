package updaterecord

import (
	"encoding/base64"
	"strings"

	"github.com/gpcm/gpcm/docview"
	"github.com/gpcm/gpcm/fhir"
)

// conceptText is what a person reads of a CodeableConcept: its text, else
// the display of its first coding that has one, else the first code.
func conceptText(cc *fhir.CodeableConcept) string {
	if cc == nil {
		return ""
	}
	if t := strings.TrimSpace(cc.Text.String()); t != "" {
		return t
	}
	cds := codings(cc)
	for _, cd := range cds {
		if d := strings.TrimSpace(cd.Display.String()); d != "" {
			return d
		}
	}
	for _, cd := range cds {
		if c := cd.Code.String(); c != "" {
			return c
		}
	}
	return ""
}

// firstCoding is the first coding of cc from system (else the first
// coding at all), with the concept's text as display when the coding has
// none.
func firstCoding(cc *fhir.CodeableConcept, system string) Coding {
	cds := codings(cc)
	if len(cds) == 0 {
		return Coding{}
	}
	pick := cds[0]
	for _, cd := range cds {
		if cd.System.String() == system {
			pick = cd
			break
		}
	}
	out := Coding{System: pick.System.String(), Code: pick.Code.String(), Display: strings.TrimSpace(pick.Display.String())}
	if out.Display == "" {
		out.Display = conceptText(cc)
	}
	return out
}

// personName formats the official name (else the usual one, else the
// first): its text, else prefix, given names and family.
func personName(names []*fhir.HumanName) string {
	var pick *fhir.HumanName
	for _, use := range []string{"official", "usual", ""} {
		for _, n := range names {
			if n != nil && pick == nil && (use == "" || n.Use.String() == use) {
				pick = n
			}
		}
	}
	if pick == nil {
		return ""
	}
	if t := strings.TrimSpace(pick.Text.String()); t != "" {
		return t
	}
	var parts []string
	for _, set := range [][]*fhir.String{pick.Prefix, pick.Given, {pick.Family}} {
		for _, p := range set {
			if t := strings.TrimSpace(p.String()); t != "" {
				parts = append(parts, t)
			}
		}
	}
	return strings.Join(parts, " ")
}

// quantity returns the value (with its comparator) and unit of a
// quantity: the UCUM code when the system is UCUM, else the unit text,
// else the code.
func quantity(value *fhir.Decimal, comparator *fhir.Code, unit *fhir.String, system *fhir.URI, code *fhir.Code) (string, string) {
	v := comparator.String() + value.String()
	u := strings.TrimSpace(unit.String())
	if c := code.String(); c != "" && (system.String() == ucumSystem || u == "") {
		u = c
	}
	return v, u
}

// value formats an Observation or component value of any STU3 type.
func value(v any) (text, unit string, att *AttachmentSummary) {
	switch x := v.(type) {
	case *fhir.Quantity:
		if x != nil {
			text, unit = quantity(x.Value, x.Comparator, x.Unit, x.System, x.Code)
		}
	case *fhir.CodeableConcept:
		text = conceptText(x)
	case *fhir.String:
		text = strings.TrimSpace(x.String())
	case *fhir.Boolean:
		switch x.String() {
		case "true":
			text = "yes"
		case "false":
			text = "no"
		}
	case *fhir.Range:
		if x != nil {
			text = rangeText(x.Low, x.High)
		}
	case *fhir.Ratio:
		if x != nil {
			n, nu := quantityOf(x.Numerator)
			d, du := quantityOf(x.Denominator)
			text = strings.TrimSpace(n+" "+nu) + " / " + strings.TrimSpace(d+" "+du)
		}
	case *fhir.Period:
		if x != nil {
			text = strings.Trim(x.Start.String()+" – "+x.End.String(), " –")
		}
	case *fhir.DateTime:
		text = x.String()
	case *fhir.Time:
		text = x.String()
	case *fhir.SampledData:
		if x != nil {
			text = "(sampled data)"
		}
	case *fhir.Attachment:
		if x != nil {
			att = &AttachmentSummary{Title: strings.TrimSpace(x.Title.String()), ContentType: x.ContentType.String()}
			if d := x.Data.String(); d != "" {
				att.Size = base64.StdEncoding.DecodedLen(len(d)) - strings.Count(d, "=")
			}
			text = att.Title
			if text == "" {
				text = "(untitled report)"
			}
		}
	}
	return text, unit, att
}

// rangeText formats a range: "80–120 mm[Hg]", "≤120 mm[Hg]", "≥80 mm[Hg]".
func rangeText(low, high *fhir.SimpleQuantity) string {
	lo, lu := simple(low)
	hi, hu := simple(high)
	switch {
	case lo != "" && hi != "" && (lu == hu || lu == ""):
		return strings.TrimSpace(lo + "–" + hi + " " + hu)
	case lo != "" && hi != "":
		return strings.TrimSpace(lo+" "+lu) + "–" + strings.TrimSpace(hi+" "+hu)
	case hi != "":
		return strings.TrimSpace("≤" + hi + " " + hu)
	case lo != "":
		return strings.TrimSpace("≥" + lo + " " + lu)
	}
	return ""
}

func simple(q *fhir.SimpleQuantity) (string, string) {
	if q == nil {
		return "", ""
	}
	return quantity(q.Value, nil, q.Unit, q.System, q.Code)
}

func quantityOf(q *fhir.Quantity) (string, string) {
	if q == nil {
		return "", ""
	}
	return quantity(q.Value, q.Comparator, q.Unit, q.System, q.Code)
}

// interpretation maps the sender's Observation.interpretation to a view
// flag: HL7 v2 table 0078 codes (either host, or the CareConnect code
// system the guide names) H/HH/HU/> high, L/LL/LU/< low, A/AA abnormal, N
// normal; else the text when it is one of those words. It also returns
// the interpretation as written.
func interpretation(cc *fhir.CodeableConcept) (flag, text string) {
	if cc == nil {
		return "", ""
	}
	text = conceptText(cc)
	for _, cd := range codings(cc) {
		switch cd.System.String() {
		case "", interpretationSystem, interpretationSystemR4, interpretationSystemCC:
		default:
			continue
		}
		switch strings.ToUpper(cd.Code.String()) {
		case "H", "HH", "HU", ">":
			return docview.FlagHigh, text
		case "L", "LL", "LU", "<":
			return docview.FlagLow, text
		case "A", "AA":
			return docview.FlagAbnormal, text
		case "N":
			return docview.FlagNormal, text
		}
	}
	switch w := strings.ToLower(text); w {
	case docview.FlagHigh, docview.FlagLow, docview.FlagAbnormal, docview.FlagNormal:
		return w, text
	}
	return "", text
}

// worst combines two flags: a flag outside the normal range wins over
// normal; high and low together are abnormal.
func worst(a, b string) string {
	switch {
	case a == b || b == "":
		return a
	case a == "" || (a == docview.FlagNormal && docview.Flagged(b)):
		return b
	case b == docview.FlagNormal:
		return a
	}
	return docview.FlagAbnormal
}

// bpComponent tells a systolic from a diastolic component: by the codes of
// the digest's triplets (with the 1.1.4 typo and the ABPM 24-hour pair of
// blood pressure example 2), else by the words in its name.
func bpComponent(code, name string) (systolic, diastolic bool) {
	if systolicCodes[code] {
		return true, false
	}
	if diastolicCodes[code] {
		return false, true
	}
	n := strings.ToLower(name)
	return strings.Contains(n, "systolic"), strings.Contains(n, "diastolic")
}

var systolicCodes, diastolicCodes = func() (map[string]bool, map[string]bool) {
	s, d := map[string]bool{"314449000": true}, map[string]bool{"314462001": true, diastolicTypo: true}
	for _, t := range bpTriplets {
		s[t.systolic.Code], d[t.diastolic.Code] = true, true
	}
	return s, d
}()

func observationSummary(o *fhir.Observation) ObservationSummary {
	s := ObservationSummary{Name: conceptText(o.Code), Code: firstCoding(o.Code, snomedSystem), Heading: heading(o),
		BodySite: conceptText(o.BodySite)}
	for _, cat := range o.Category {
		if c := firstCoding(cat, categorySystem); c.Code != "" && s.Category == "" {
			s.Category = c.Code
		}
	}
	switch e := o.Effective.(type) {
	case *fhir.DateTime:
		s.Effective = e.String()
	case *fhir.Period:
		if e != nil {
			s.Effective = e.Start.String()
		}
	}
	s.Value, s.Unit, s.Attachment = value(o.Value)
	if s.Value == "" && o.DataAbsentReason != nil {
		s.Value = "not recorded: " + conceptText(o.DataAbsentReason)
	}
	s.Flag, s.Interpretation = interpretation(o.Interpretation)
	for _, rr := range o.ReferenceRange {
		if rr == nil || s.ReferenceRange != "" {
			continue
		}
		s.ReferenceRange = strings.TrimSpace(rr.Text.String())
		if s.ReferenceRange == "" {
			s.ReferenceRange = rangeText(rr.Low, rr.High)
		}
	}
	flag := s.Flag
	var sys, dia *ComponentSummary
	for _, c := range o.Component {
		if c == nil {
			continue
		}
		cs := ComponentSummary{Name: conceptText(c.Code), Code: firstCoding(c.Code, snomedSystem)}
		cs.Value, cs.Unit, _ = value(c.Value)
		cs.Flag, cs.Interpretation = interpretation(c.Interpretation)
		flag = worst(flag, cs.Flag)
		s.Components = append(s.Components, cs)
	}
	if len(s.Components) == 2 {
		for i := range s.Components {
			c := &s.Components[i]
			switch isSys, isDia := bpComponent(c.Code.Code, c.Name); {
			case isSys && !isDia:
				sys = c
			case isDia && !isSys:
				dia = c
			}
		}
	}
	if sys != nil && dia != nil && s.Value == "" && sys.Value != "" && dia.Value != "" {
		s.BloodPressure = true
		s.Value = sys.Value + "/" + dia.Value
		s.Unit = sys.Unit
		if dia.Unit != sys.Unit {
			s.Value, s.Unit = strings.TrimSpace(sys.Value+" "+sys.Unit)+"/"+strings.TrimSpace(dia.Value+" "+dia.Unit), ""
		}
		if s.Components[0] != *sys {
			s.Components[0], s.Components[1] = *sys, *dia
		}
	}
	s.Flag = flag
	return s
}

func medicineSummary(m *fhir.MedicationDispense) MedicineSummary {
	s := MedicineSummary{Status: m.Status.String(), SupplyType: conceptText(m.Type), HandedOver: m.WhenHandedOver.String()}
	switch med := m.Medication.(type) {
	case *fhir.CodeableConcept:
		s.Name, s.Code = conceptText(med), firstCoding(med, dmdSystem)
	case *fhir.Reference:
		if med != nil {
			s.Name = strings.TrimSpace(med.Display.String())
		}
	}
	if q := m.Quantity; q != nil {
		s.Quantity = q.Value.String()
		s.Unit = strings.TrimSpace(q.Unit.String())
		if s.Unit == "" {
			s.Unit = q.Code.String()
		}
	}
	if d := m.DaysSupply; d != nil && d.Value.String() != "" {
		v, u := simple(d)
		if u == "d" || u == "day" || u == "days" || u == "" {
			u = "days"
			if v == "1" {
				u = "day"
			}
		}
		s.DaysSupply = v + " " + u
	}
	var text, instr, route []string
	for _, d := range m.DosageInstruction {
		if d == nil {
			continue
		}
		if t := strings.TrimSpace(d.Text.String()); t != "" {
			text = append(text, t)
		}
		if t := strings.TrimSpace(d.PatientInstruction.String()); t != "" {
			instr = append(instr, t)
		}
		if t := conceptText(d.Route); t != "" {
			route = append(route, t)
		}
	}
	s.Dosage, s.PatientInstruction, s.Route = strings.Join(text, "; "), strings.Join(instr, "; "), strings.Join(route, "; ")
	return s
}
