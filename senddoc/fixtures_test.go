package senddoc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
)

type M = map[string]any
type A = []any

// msg is a message as a FHIR JSON tree that tests mutate.
type msg struct {
	root M
	n    int
}

func newMsg(tb testing.TB, uc senddoc.UseCase, gen int) (*msg, *senddoc.Built) {
	tb.Helper()
	_, b := MustBuild(tb, uc, gen)
	return &msg{root: senddoc.TreeOf(b.Message.Bundle)}, b
}

func newResponseMsg(tb testing.TB, code itk3.ResponseCode) *msg {
	tb.Helper()
	m, err := itk3.NewResponse(itk3.ResponseParams{Code: code, OriginalHeaderID: "5e1b2a6c-0d2f-4a51-9c77-2b1f2f8f9a10",
		SenderReference: "6d6b8a8e-6f0c-4c1f-9a1e-8e0f3b1e2d4c", ResponderODS: "B82005", ResponderMailbox: "B82005OT001",
		Diagnostics: "test", Now: time.Date(2026, 11, 24, 10, 5, 0, 0, time.UTC)})
	if err != nil {
		tb.Fatal(err)
	}
	return &msg{root: senddoc.TreeOf(m.Bundle)}
}

func (m *msg) entries() A { return m.root["entry"].(A) }

func (m *msg) header() M { return m.entries()[0].(M)["resource"].(M) }

func (m *msg) doc() M {
	for _, e := range m.entries() {
		r := e.(M)["resource"].(M)
		if r["resourceType"] == "Bundle" {
			return r
		}
	}
	return nil
}

func (m *msg) outer(typ string) M {
	for _, e := range m.entries() {
		if r := e.(M)["resource"].(M); r["resourceType"] == typ {
			return r
		}
	}
	return nil
}

// res returns the first resource of a type in the document bundle.
func (m *msg) res(typ string) M {
	for _, e := range m.doc()["entry"].(A) {
		r := e.(M)["resource"].(M)
		if r["resourceType"] == typ {
			return r
		}
	}
	return nil
}

func (m *msg) url(typ string) string {
	for _, e := range m.doc()["entry"].(A) {
		if e.(M)["resource"].(M)["resourceType"] == typ {
			return e.(M)["fullUrl"].(string)
		}
	}
	return ""
}

// add puts a resource into the document bundle with a fresh fullUrl, id and
// its CareConnect profile, and returns the fullUrl.
func (m *msg) add(typ string, r M) string {
	m.n++
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", m.n)
	r["resourceType"] = typ
	r["id"] = id
	if _, ok := r["meta"]; !ok {
		prof := "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-" + typ + "-1"
		switch typ {
		case "Condition":
			prof = "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-ProblemHeader-Condition-1"
		case "Device":
			prof = "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Device-1"
		}
		r["meta"] = M{"profile": A{prof}}
	}
	d := m.doc()
	d["entry"] = append(d["entry"].(A), M{"fullUrl": "urn:uuid:" + id, "resource": r})
	return "urn:uuid:" + id
}

func (m *msg) handling(key string) M {
	for _, x := range m.header()["extension"].(A) {
		for _, k := range x.(M)["extension"].(A) {
			if k.(M)["url"] == key {
				return k.(M)
			}
		}
	}
	return nil
}

func (m *msg) patient() string { return m.url("Patient") }
func (m *msg) prac() string    { return m.url("Practitioner") }
func ref(u string) M           { return M{"reference": u} }
func cc(system, code, display string) M {
	return M{"coding": A{M{"system": system, "code": code, "display": display}}}
}

const sct = "http://snomed.info/sct"

func (m *msg) validate(tb testing.TB, opts senddoc.Options) senddoc.Report {
	tb.Helper()
	b, err := json.Marshal(m.root)
	if err != nil {
		tb.Fatal(err)
	}
	rep, err := senddoc.Validate(context.Background(), bytes.NewReader(b), opts)
	if err != nil {
		tb.Fatalf("Validate: %v", err)
	}
	return rep
}

// fixture adds a valid resource of a type (and what it needs) to the
// document bundle and returns it.
func (m *msg) fixture(typ string) M {
	pat, prac := m.patient(), m.prac()
	var r M
	switch typ {
	case "Observation":
		r = M{"status": "final", "code": cc(sct, "271649006", "Systolic blood pressure"), "subject": ref(pat),
			"issued": "2026-11-24T09:40:00Z", "performer": A{ref(pat)}, "valueString": "120"}
		u := m.add(typ, r)
		m.add("List", M{"status": "current", "mode": "snapshot", "title": "Miscellaneous record",
			"code": cc(sct, "826501000000100", "Miscellaneous record"), "subject": ref(pat), "entry": A{M{"item": ref(u)}}})
		return r
	case "List":
		r = M{"status": "current", "mode": "snapshot", "title": "Miscellaneous record",
			"code": cc(sct, "826501000000100", "Miscellaneous record"), "subject": ref(pat)}
		obs := M{"status": "final", "code": cc(sct, "271649006", "Systolic blood pressure"), "subject": ref(pat), "issued": "2026-11-24T09:40:00Z", "performer": A{ref(pat)}}
		u := m.add("Observation", obs)
		r["entry"] = A{M{"item": ref(u)}}
	case "Questionnaire":
		r = M{"status": "active", "item": A{M{"linkId": "1", "text": "Any fever?", "type": "boolean"}}}
	case "QuestionnaireResponse":
		r = M{"status": "completed", "subject": ref(pat), "authored": "2026-11-24T09:00:00Z",
			"item": A{M{"linkId": "1", "text": "Any fever?", "answer": A{M{"valueBoolean": false}}}}}
	case "ReferralRequest":
		r = M{"status": "unknown", "intent": "order", "subject": ref(pat), "requester": M{"agent": ref(prac)}}
	case "DocumentReference":
		r = M{"status": "current", "type": cc(sct, "823701000000103", "Letter"), "subject": ref(pat),
			"content": A{M{"attachment": M{"contentType": "application/pdf", "title": "letter"}}}}
	case "AllergyIntolerance":
		r = M{"clinicalStatus": "active", "verificationStatus": "unconfirmed", "category": A{"medication"},
			"code": cc(sct, "91936005", "Allergy to penicillin"), "patient": ref(pat), "assertedDate": "2026-11-24", "recorder": ref(prac)}
	case "FamilyMemberHistory":
		r = M{"status": "completed", "patient": ref(pat), "relationship": cc("http://hl7.org/fhir/v3/RoleCode", "MTH", "mother")}
	case "Task":
		r = M{"status": "requested", "intent": "order", "priority": "routine"}
		r["priority"] = "normal"
	case "Consent":
		r = M{"status": "active", "patient": ref(pat)}
	case "Location":
		r = M{"status": "active", "name": "Park Row site", "identifier": A{M{"system": "https://fhir.nhs.uk/Id/ods-site-code", "value": "X26AB"}},
			"telecom": A{M{"system": "phone", "value": "0113 496 0101"}}}
	case "RelatedPerson":
		r = M{"patient": ref(pat), "name": A{M{"family": "Smith", "given": A{"Mary"}}}, "birthDate": "1957-03-02"}
	case "Device":
		r = M{"type": cc(sct, "706689003", "Application program software"), "manufacturer": "Example Ltd"}
	case "Medication":
		r = M{"code": cc(sct, "322236009", "Paracetamol 500mg tablets")}
	case "MedicationRequest":
		med := m.add("Medication", M{"code": cc(sct, "322236009", "Paracetamol 500mg tablets")})
		r = M{"extension": A{M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-PrescriptionType-1", "valueCodeableConcept": cc("https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-PrescriptionType-1", "acute", "Acute")}},
			"identifier": A{M{"system": "https://fhir.example.org/Id/prescription", "value": "rx-1001"}}, "status": "active", "intent": "order", "medicationReference": ref(med), "subject": ref(pat), "authoredOn": "2026-11-24",
			"recorder": ref(prac), "dosageInstruction": A{M{"text": "One tablet four times a day"}},
			"dispenseRequest": M{"validityPeriod": M{"start": "2026-11-24"}}}
	case "MedicationStatement":
		med := m.add("Medication", M{"code": cc(sct, "322236009", "Paracetamol 500mg tablets")})
		plan := m.add("MedicationRequest", M{"extension": A{M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-PrescriptionType-1", "valueCodeableConcept": cc("https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-PrescriptionType-1", "repeat", "Repeat")}},
			"identifier": A{M{"system": "https://fhir.example.org/Id/prescription", "value": "rx-plan-1"}}, "status": "active", "intent": "plan", "medicationReference": ref(med), "subject": ref(pat), "authoredOn": "2026-11-24",
			"recorder": ref(prac), "dosageInstruction": A{M{"text": "One tablet four times a day"}},
			"dispenseRequest": M{"validityPeriod": M{"start": "2026-11-24"}}})
		r = M{"extension": A{M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-PrescribingAgency-1", "valueCodeableConcept": cc("https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-PrescribingAgency-1", "prescribed-at-gp-practice", "Prescribed at GP practice")}},
			"basedOn": A{ref(plan)}, "status": "active", "medicationReference": ref(med), "effectivePeriod": M{"start": "2026-11-24"},
			"dateAsserted": "2026-11-24", "subject": ref(pat), "taken": "unk", "dosage": A{M{"text": "One tablet four times a day"}}}
	case "Immunization":
		r = M{"extension": A{
			M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-DateRecorded-1", "valueDateTime": "2026-11-24"},
			M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-VaccinationProcedure-1", "valueCodeableConcept": cc(sct, "1037121000000109", "Administration of vaccine product")}},
			"status": "completed", "notGiven": false, "vaccineCode": cc(sct, "39114911000001105", "Influenza vaccine"), "patient": ref(pat),
			"primarySource": true, "site": cc(sct, "368208006", "Left upper arm"), "route": cc(sct, "78421000", "Intramuscular"),
			"doseQuantity":        M{"value": 0.5, "unit": "ml"},
			"practitioner":        A{M{"role": cc("http://hl7.org/fhir/v2/0443", "AP", "Administering Provider"), "actor": ref(prac)}},
			"explanation":         M{"reason": A{cc(sct, "185903001", "Needs influenza immunisation")}},
			"vaccinationProtocol": A{M{"targetDisease": A{cc(sct, "6142004", "Influenza")}, "doseStatus": cc("http://hl7.org/fhir/vaccination-protocol-dose-status", "count", "Counts")}}}
	case "Condition":
		other := m.add("Condition", M{"extension": A{M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-ProblemSignificance-1", "valueCode": "minor"}},
			"clinicalStatus": "active", "category": A{cc("http://hl7.org/fhir/condition-category", "problem-list-item", "Problem List Item")},
			"code": cc(sct, "38341003", "Hypertension"), "subject": ref(pat), "assertedDate": "2026-11-24", "asserter": ref(prac)})
		r = M{"extension": A{
			M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-ProblemSignificance-1", "valueCode": "major"},
			M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-RelatedProblemHeader-1", "extension": A{
				M{"url": "type", "valueCode": "child"}, M{"url": "target", "valueReference": ref(other)}}}},
			"clinicalStatus": "active", "category": A{cc("http://hl7.org/fhir/condition-category", "problem-list-item", "Problem List Item")},
			"code": cc(sct, "195967001", "Asthma"), "subject": ref(pat), "assertedDate": "2026-11-24", "asserter": ref(prac)}
	case "ProcedureRequest":
		r = M{"status": "active", "intent": "order", "code": cc(sct, "252167001", "Full blood count"), "subject": ref(pat)}
	case "DiagnosticReport":
		r = M{"status": "final", "code": cc(sct, "721981007", "Diagnostic studies report"), "subject": ref(pat), "issued": "2026-11-24T12:00:00Z"}
	case "Specimen":
		r = M{"status": "available", "subject": ref(pat), "receivedTime": "2026-11-24T11:00:00Z"}
	default:
		panic("no fixture for " + typ)
	}
	m.add(typ, r)
	return r
}

func findingsFor(rep senddoc.Report, id string) []senddoc.Finding {
	var out []senddoc.Finding
	for _, f := range rep.Findings {
		if f.Requirement == id {
			out = append(out, f)
		}
	}
	return out
}

func errorsOf(rep senddoc.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.Severity == senddoc.SeverityError {
			out = append(out, f.String())
		}
	}
	return out
}

func idOf(name string) string { return strings.Fields(name)[0] }
