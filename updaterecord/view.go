package updaterecord

import (
	"strconv"
	"strings"
	"time"

	"github.com/gpcm/gpcm/docview"
)

// Section keys for content without a PRSB heading of its own.
const (
	keyNotes        = "#notes"        // untagged ClinicalImpressions
	keyObservations = "#observations" // untagged Observations (the vital signs)
	keyMedicines    = "#medicines"
)

// sectionOrder places the sections as a GP reads a pharmacy consultation:
// what happened, what was found, what was supplied, what was advised.
// Headings not listed follow in the order they first appear.
var sectionOrder = []string{
	"clinical-summary", keyNotes, "presenting-complaints-or-issues", "history", "red-flags",
	keyObservations, "pregnancy-status", "social-context", "procedures-and-therapies",
	keyMedicines, "information-and-advice-given", "plan-and-requested-actions", "signpost-details",
}

var sectionNames = map[string]string{keyNotes: "Clinical impression", keyObservations: "Observations", keyMedicines: "Medicines supplied"}

// View lays the summary out for the practice inbox: a Consultation section
// (service, date, who saw the patient, pharmacy, replacement), then one section per
// PRSB heading with the notes, findings and complaints tagged with it, the
// untagged observations, and the medicines supplied. Observation values
// are shown as sent (no rounding) with the sender's flag.
func (s Summary) View() docview.View {
	v := docview.View{Title: s.Title, Sections: []docview.Section{s.consultation()}}
	if v.Title == "" {
		v.Title = s.Service
	}
	sections := map[string]*docview.Section{}
	var extra []string
	add := func(key string, r docview.Row) {
		sec := sections[key]
		if sec == nil {
			name, ok := sectionNames[key]
			if !ok {
				if name, ok = HeadingDisplay(key); !ok {
					name = key
				}
			}
			sec = &docview.Section{Heading: name}
			sections[key] = sec
			if !anyIn(key, sectionOrder...) {
				extra = append(extra, key)
			}
		}
		sec.Rows = append(sec.Rows, r)
	}
	for _, n := range s.Notes {
		key := n.Heading
		if key == "" {
			key = keyNotes
		}
		add(key, docview.Row{Value: n.Text})
	}
	for _, c := range s.Conditions {
		key := c.Heading
		if key == "" {
			key = "presenting-complaints-or-issues"
		}
		add(key, docview.Row{Label: "Presenting complaint", Value: c.Name, Detail: c.ClinicalStatus, Code: codeLabel(c.Code)})
	}
	for _, o := range s.Observations {
		key := o.Heading
		if key == "" {
			key = keyObservations
		}
		for _, r := range observationRows(o, key != keyObservations) {
			add(key, r)
		}
	}
	for _, m := range s.Medicines {
		add(keyMedicines, medicineRow(m))
	}
	for _, key := range append(append([]string{}, sectionOrder...), extra...) {
		if sec := sections[key]; sec != nil {
			v.Sections = append(v.Sections, *sec)
		}
	}
	return v
}

func (s Summary) consultation() docview.Section {
	sec := docview.Section{Heading: "Consultation"}
	add := func(r docview.Row) {
		if r.Value != "" {
			sec.Rows = append(sec.Rows, r)
		}
	}
	svc := docview.Row{Label: "Service", Value: s.Service, Code: codeLabel(s.ServiceCode)}
	if d := s.ServiceCode.Display; d != "" && d != s.Service {
		svc.Detail = d
	}
	add(svc)
	add(docview.Row{Label: "Date", Value: displayDate(s.Seen)})
	ph := s.Pharmacist
	add(docview.Row{Label: "Seen by", Value: ph.Name, Detail: join(" · ", ph.Role, prefixed("GPhC ", ph.GPhCNumber))})
	add(docview.Row{Label: "Pharmacy", Value: s.Pharmacy.Name, Detail: prefixed("ODS code ", s.Pharmacy.ODSCode)})
	if s.Replaces != "" {
		add(docview.Row{Label: "Replaces", Value: s.Replaces, Detail: prefixed("this is version ", itoa(s.Version))})
	} else if s.Version > 1 {
		add(docview.Row{Label: "Version", Value: itoa(s.Version)})
	}
	return sec
}

// observationRows: one row for a value or a blood-pressure pair (whose
// components it shows together), one more per other component. A coded
// finding filed under a heading (Not pregnant under Pregnancy status) is
// its own value.
func observationRows(o ObservationSummary, tagged bool) []docview.Row {
	r := docview.Row{Label: o.Name, Value: o.Value, Unit: displayUnit(o.Unit), Flag: o.Flag, Code: codeLabel(o.Code)}
	if o.Value == "" && len(o.Components) == 0 {
		r.Label, r.Value = "Finding", o.Name
		if tagged {
			r.Label = ""
		}
	}
	detail := []string{o.BodySite}
	if o.Attachment != nil {
		r.Label = join(": ", o.Name, "report")
		detail = append(detail, o.Attachment.ContentType)
	}
	if o.ReferenceRange != "" {
		detail = append(detail, "reference range "+o.ReferenceRange)
	}
	if o.Flag == "" && o.Interpretation != "" {
		detail = append(detail, "interpretation: "+o.Interpretation)
	}
	r.Detail = join(" · ", detail...)
	rows := []docview.Row{r}
	if o.BloodPressure {
		return rows
	}
	for _, c := range o.Components {
		rows = append(rows, docview.Row{Label: join(" – ", o.Name, c.Name), Value: c.Value, Unit: displayUnit(c.Unit), Flag: c.Flag, Code: codeLabel(c.Code)})
	}
	return rows
}

func medicineRow(m MedicineSummary) docview.Row {
	r := docview.Row{Label: m.Name, Value: m.Quantity, Unit: m.Unit, Code: codeLabel(m.Code)}
	status := ""
	if m.Status != "" && m.Status != "completed" {
		status = "status " + m.Status
		if m.Status == "stopped" {
			status = "not supplied (stopped)"
		}
	}
	instr := m.PatientInstruction
	if instr == m.Dosage {
		instr = "" // the examples repeat the dosage text
	}
	r.Detail = join(" · ", status, m.Dosage, instr, m.Route, prefixed("supply for ", m.DaysSupply), m.SupplyType)
	return r
}

// displayDate formats a FHIR date or dateTime for a person: "8 Aug 2023",
// "8 Aug 2023 14:30" (in the offset it was written with), "Aug 2023",
// "2023"; anything else as written.
func displayDate(s string) string {
	for _, f := range []struct{ in, out string }{
		{time.RFC3339Nano, "2 Jan 2006 15:04"}, {"2006-01-02", "2 Jan 2006"}, {"2006-01", "Jan 2006"}, {"2006", "2006"},
	} {
		if t, err := time.Parse(f.in, s); err == nil {
			return t.Format(f.out)
		}
	}
	return s
}

// ucumDisplay are the supported UCUM units (digest §4.5) as people write
// them.
var ucumDisplay = map[string]string{
	"mm[Hg]": "mmHg", "{beats}/min": "beats/min", "Cel": "°C", "[degF]": "°F", "kg/m2": "kg/m²",
	"[in_i]": "in", "[lb_av]": "lb", "{breaths}/min": "breaths/min",
}

func displayUnit(u string) string {
	if d, ok := ucumDisplay[u]; ok {
		return d
	}
	return u
}

// codeLabel names a coded concept for checking: "SNOMED CT 163020007",
// "dm+d 289411000001107", or the bare code for other systems.
func codeLabel(c Coding) string {
	switch {
	case c.Code == "":
		return ""
	case c.System == snomedSystem:
		return "SNOMED CT " + c.Code
	case c.System == dmdSystem:
		return "dm+d " + c.Code
	}
	return c.Code
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// join joins the non-empty parts.
func join(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func itoa(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}
