package senddoc_test

import (
	"testing"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
)

var (
	cs = senddoc.UseCaseConsultation
	oc = senddoc.UseCaseOnline
	ge = senddoc.UseCaseGeneric
)

// reqRow checks one requirement: the message built for uc (plus fixture and
// setup) passes it, and the same message after breakIt fails it.
type reqRow struct {
	name      string
	uc        senddoc.UseCase
	gen       int
	resp      itk3.ResponseCode // validate an ITK3 response with this code instead
	fixture   string
	setup     func(m *msg)
	transport string // MESH metadata: "api" or "ctl"
	opts      func(o *senddoc.Options, pass bool)
	breakIt   func(m *msg, r M)
}

type fixRow struct {
	suffix  string
	fixture string
	breakIt func(m *msg, r M)
}

// ocge makes the OC and GE rows of a requirement that both catalogues hold.
func ocge(ocID, geID string, f fixRow) []reqRow {
	var out []reqRow
	if ocID != "" {
		out = append(out, reqRow{name: ocID + " " + f.suffix, uc: oc, fixture: f.fixture, breakIt: f.breakIt})
	}
	if geID != "" {
		out = append(out, reqRow{name: geID + " " + f.suffix, uc: ge, fixture: f.fixture, breakIt: f.breakIt})
	}
	return out
}

// three makes CS, OC and GE rows of a message-level requirement.
func three(csID, ocID, geID, suffix string, r reqRow) []reqRow {
	var out []reqRow
	for _, x := range []struct {
		id string
		uc senddoc.UseCase
	}{{csID, cs}, {ocID, oc}, {geID, ge}} {
		if x.id == "" {
			continue
		}
		row := r
		row.name, row.uc = x.id+" "+suffix, x.uc
		out = append(out, row)
	}
	return out
}

func set(k string, v any) func(m *msg, r M)   { return func(m *msg, r M) { r[k] = v } }
func del(k string) func(m *msg, r M)          { return func(m *msg, r M) { delete(r, k) } }
func onComp(f func(c M)) func(m *msg, r M)    { return func(m *msg, _ M) { f(m.res("Composition")) } }
func onPatient(f func(p M)) func(m *msg, r M) { return func(m *msg, _ M) { f(m.res("Patient")) } }
func onHandling(k string, v any) func(*msg, M) {
	return func(m *msg, _ M) {
		h := m.handling(k)
		for key := range h {
			if key != "url" {
				delete(h, key)
			}
		}
		for key, val := range v.(M) {
			h[key] = val
		}
	}
}
func onMesh(f func(mm *senddoc.MeshMetadata)) func(o *senddoc.Options, pass bool) {
	return func(o *senddoc.Options, pass bool) {
		if !pass {
			f(o.Mesh)
		}
	}
}
func noop(*msg, M) {}

func replaces(c M) {
	c["relatesTo"] = A{M{"code": "replaces", "targetIdentifier": M{"system": "https://tools.ietf.org/html/rfc4122", "value": "0bcb5098-ce5a-4a85-a547-2574f90310e4"}}}
}

func requirementRows() []reqRow {
	var rows []reqRow
	add := func(r ...reqRow) { rows = append(rows, r...) }

	// A. Core.
	add(reqRow{name: "GPCM-C-01 not over MESH", uc: cs, transport: "api", breakIt: noop,
		opts: onMesh(func(mm *senddoc.MeshMetadata) { mm.Transport = "smtp" })})
	add(reqRow{name: "GPCM-C-02 message bundle type", uc: cs, breakIt: func(m *msg, _ M) { m.root["type"] = "collection" }})
	add(reqRow{name: "GPCM-SD-CS-075 sent more than 3 hours after the consultation", uc: cs, transport: "api", breakIt: noop,
		opts: func(o *senddoc.Options, pass bool) {
			o.Mesh.SentAt = senddoc.Example(cs, 1).Encounter.End.Add(30 * 60e9)
			if !pass {
				o.Mesh.SentAt = o.Mesh.SentAt.Add(4 * 3600e9)
			}
		}})

	add(reqRow{name: "GPCM-SD-CS-076 an older version sent after a newer one", uc: cs, breakIt: noop, opts: func(o *senddoc.Options, pass bool) {
		o.Original = &senddoc.Report{SenderReference: senddoc.Example(cs, 1).Encounter.ID, Version: 0}
		if !pass {
			o.Original.Version = 2
		}
	}})
	add(reqRow{name: "GPCM-SD-037 replacement more than 24 hours later", uc: cs, setup: func(m *msg) { replaces(m.res("Composition")) }, breakIt: noop,
		opts: func(o *senddoc.Options, pass bool) {
			o.Original = &senddoc.Report{DocumentDate: time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)}
			if !pass {
				o.Original.DocumentDate = o.Original.DocumentDate.Add(-48 * time.Hour)
			}
		}})

	// C. MESH.
	add(reqRow{name: "GPCM-SD-CS-060 mailbox instead of patient routing", uc: cs, transport: "api", breakIt: noop,
		opts: onMesh(func(mm *senddoc.MeshMetadata) { mm.To = "B82005OT001" })})
	add(three("GPCM-SD-CS-061", "GPCM-SD-OC-160", "GPCM-SD-GE-287", "wrong workflow", reqRow{transport: "api", breakIt: noop,
		opts: onMesh(func(mm *senddoc.MeshMetadata) { mm.WorkflowID = "GPFED_CONSULT_REPORT_ACK" })})...)
	add(three("GPCM-SD-CS-063", "GPCM-SD-OC-165", "GPCM-SD-GE-293", "ctl From_DTS not the source mailbox", reqRow{transport: "ctl", breakIt: noop,
		opts: onMesh(func(mm *senddoc.MeshMetadata) { mm.From = "OTHERBOX1" })})...)
	add(three("GPCM-SD-CS-066", "GPCM-SD-OC-162", "GPCM-SD-GE-289", "Mex-From not the source mailbox", reqRow{transport: "api", breakIt: noop,
		opts: onMesh(func(mm *senddoc.MeshMetadata) { mm.From = "OTHERBOX1" })})...)
	add(three("GPCM-SD-CS-064", "GPCM-SD-OC-166", "GPCM-SD-GE-294", "ctl To_DTS not GPPROVIDER", reqRow{transport: "ctl", breakIt: noop,
		opts: onMesh(func(mm *senddoc.MeshMetadata) { mm.To = "GPPROVIDER_9434765919_Smith" })})...)
	add(reqRow{name: "GPCM-SD-CS-067 Mex-To malformed", uc: cs, transport: "api", breakIt: noop,
		opts: onMesh(func(mm *senddoc.MeshMetadata) { mm.To = "GPPROVIDER_9434765919_1955-01-09_Smith" })})
	add(three("", "GPCM-SD-OC-163", "GPCM-SD-GE-290", "Mex-To neither mailbox nor GPPROVIDER", reqRow{transport: "api", breakIt: noop,
		opts: onMesh(func(mm *senddoc.MeshMetadata) { mm.To = "not a mailbox!" })})...)
	add(three("GPCM-SD-CS-079", "GPCM-SD-OC-174", "GPCM-SD-GE-296", "ctl LocalId not the ODS code", reqRow{transport: "ctl", breakIt: noop,
		opts: onMesh(func(mm *senddoc.MeshMetadata) { mm.LocalID = "encounter-42" })})...)
	add(three("GPCM-SD-CS-080", "GPCM-SD-OC-175", "GPCM-SD-GE-292", "Mex-LocalID not the ODS code", reqRow{transport: "api", breakIt: noop,
		opts: onMesh(func(mm *senddoc.MeshMetadata) { mm.LocalID = "" })})...)
	add(three("GPCM-SD-CS-065", "GPCM-SD-OC-167", "GPCM-SD-GE-295", "ctl Subject off template", reqRow{transport: "ctl", breakIt: noop,
		opts: onMesh(func(mm *senddoc.MeshMetadata) { mm.Subject = "GP report" })})...)
	add(three("GPCM-SD-CS-068", "GPCM-SD-OC-164", "GPCM-SD-GE-291", "Mex-Subject off template", reqRow{transport: "api", breakIt: noop,
		opts: onMesh(func(mm *senddoc.MeshMetadata) { mm.Subject = "GP report" })})...)
	add(three("GPCM-SD-CS-042", "GPCM-SD-OC-020", "GPCM-SD-GE-020", "patient differs from Mex-To", reqRow{transport: "api",
		breakIt: onPatient(func(p M) { p["birthDate"] = "1955-01-10" })})...)

	// D. Header.
	add(three("GPCM-SD-CS-043", "GPCM-SD-OC-141", "GPCM-SD-GE-268", "RecipientType not FA or FI", reqRow{
		breakIt: onHandling("RecipientType", M{"valueCoding": M{"system": itk3.RecipientTypeSystem, "code": "XX"}})})...)
	add(three("", "GPCM-SD-OC-142", "GPCM-SD-GE-269", "RecipientType FI without its code system", reqRow{
		breakIt: onHandling("RecipientType", M{"valueCoding": M{"code": "FI"}})})...)
	add(three("GPCM-SD-CS-044", "GPCM-SD-OC-143", "GPCM-SD-GE-270", "BusAckRequested false", reqRow{breakIt: onHandling("BusAckRequested", M{"valueBoolean": false})})...)
	add(three("GPCM-SD-CS-045", "GPCM-SD-OC-144", "GPCM-SD-GE-271", "InfAckRequested false", reqRow{breakIt: onHandling("InfAckRequested", M{"valueBoolean": false})})...)
	add(three("GPCM-SD-CS-046", "GPCM-SD-OC-145", "GPCM-SD-GE-272", "SenderReference None", reqRow{breakIt: onHandling("SenderReference", M{"valueString": "None"})})...)
	add(three("GPCM-SD-CS-047", "GPCM-SD-OC-146", "GPCM-SD-GE-273", "MessageDefinition unknown", reqRow{
		breakIt: onHandling("MessageDefinition", M{"valueReference": M{"reference": "https://example.org/md"}})})...)
	add(three("GPCM-SD-CS-048", "GPCM-SD-OC-147", "GPCM-SD-GE-274", "LocalExtension of another use case", reqRow{
		breakIt: onHandling("LocalExtension", M{"valueString": "SendDocument-Other"})})...)
	add(three("GPCM-SD-CS-049", "GPCM-SD-OC-148", "GPCM-SD-GE-275", "sender not a header Organization", reqRow{
		breakIt: func(m *msg, _ M) { m.outer("Organization")["meta"] = M{"profile": A{"https://example.org/Org"}} }})...)
	add(three("GPCM-SD-CS-050", "GPCM-SD-OC-149", "GPCM-SD-GE-276", "source endpoint missing", reqRow{
		breakIt: func(m *msg, _ M) { delete(m.header()["source"].(M), "endpoint") }})...)
	add(three("GPCM-SD-CS-051", "GPCM-SD-OC-150", "GPCM-SD-GE-277", "event not ITK007C", reqRow{
		breakIt: func(m *msg, _ M) { m.header()["event"].(M)["code"] = "ITK006D" }})...)
	add(three("GPCM-SD-CS-052", "GPCM-SD-OC-151", "GPCM-SD-GE-278", "timestamp not an instant", reqRow{
		breakIt: func(m *msg, _ M) { m.header()["timestamp"] = "yesterday" }})...)
	add(three("GPCM-SD-CS-053", "GPCM-SD-OC-152", "GPCM-SD-GE-279", "receiver present", reqRow{
		breakIt: func(m *msg, _ M) { m.header()["receiver"] = ref(m.entries()[1].(M)["fullUrl"].(string)) }})...)

	// E. Payload structure.
	add(reqRow{name: "GPCM-SD-001 document bundle without profile", uc: cs, breakIt: func(m *msg, _ M) { m.doc()["meta"] = M{"profile": A{"https://example.org/B"}} }})
	add(reqRow{name: "GPCM-SD-002 two Compositions", uc: cs, breakIt: func(m *msg, _ M) {
		m.add("Composition", M{"status": "final", "title": "x", "meta": M{"profile": A{"https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Composition-1"}}})
	}})
	add(reqRow{name: "GPCM-SD-003 custodian without CareConnect profile", uc: cs, breakIt: func(m *msg, _ M) { m.res("Organization")["meta"] = M{"profile": A{"https://example.org/O"}} }})
	add(reqRow{name: "GPCM-SD-004 subject without CareConnect profile", uc: cs, breakIt: onPatient(func(p M) { p["meta"] = M{"profile": A{"https://example.org/P"}} })})
	add(reqRow{name: "GPCM-SD-005 author without CareConnect profile", uc: cs, breakIt: func(m *msg, _ M) { m.res("Practitioner")["meta"] = M{"profile": A{"https://example.org/P"}} }})
	add(reqRow{name: "GPCM-SD-006 Encounter not referenced", uc: cs, breakIt: onComp(func(c M) { delete(c, "encounter") })})
	add(reqRow{name: "GPCM-SD-027 resource without meta", uc: cs, breakIt: func(m *msg, _ M) { delete(m.res("Encounter"), "meta") }})
	add(reqRow{name: "GPCM-SD-028 resource without id", uc: cs, breakIt: func(m *msg, _ M) { delete(m.res("Encounter"), "id") }})
	add(reqRow{name: "GPCM-SD-029 two attachments in one section", uc: cs, breakIt: func(m *msg, _ M) {
		u := m.add("Binary", M{"contentType": "image/jpeg", "content": "AAAA", "meta": M{"profile": A{"https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Attachment-Binary-1"}}})
		s := m.res("Composition")["section"].(A)[0].(M)
		s["entry"] = append(s["entry"].(A), ref(u))
	}})
	add(reqRow{name: "GPCM-SD-030 attachment without ITK profile", uc: cs, breakIt: func(m *msg, _ M) { m.res("Binary")["meta"] = M{"profile": A{"https://example.org/B"}} }})
	add(reqRow{name: "GPCM-SD-031 content not base64", uc: cs, breakIt: func(m *msg, _ M) { m.res("Binary")["content"] = "%%%not base64" }})
	add(reqRow{name: "GPCM-SD-032 PDF not first", uc: cs, breakIt: func(m *msg, _ M) {
		u := m.add("Binary", M{"contentType": "image/jpeg", "content": "AAAA", "meta": M{"profile": A{"https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Attachment-Binary-1"}}})
		c := m.res("Composition")
		c["section"] = append(A{M{"title": "photo", "entry": A{ref(u)}}}, c["section"].(A)...)
	}})

	// Composition.
	add(three("GPCM-SD-CS-017", "GPCM-SD-OC-001", "GPCM-SD-GE-001", "Composition profile", reqRow{breakIt: onComp(func(c M) { c["meta"] = M{"profile": A{"https://example.org/C"}} })})...)
	add(three("GPCM-SD-CS-018", "GPCM-SD-OC-002", "GPCM-SD-GE-002", "status preliminary", reqRow{breakIt: onComp(func(c M) { c["status"] = "preliminary" })})...)
	add(reqRow{name: "GPCM-SD-CS-019 wrong document type", uc: cs, breakIt: onComp(func(c M) { c["type"] = cc(sct, "149701000000109", "x") })})
	add(reqRow{name: "GPCM-SD-OC-003 wrong document type", uc: oc, breakIt: onComp(func(c M) { c["type"] = cc(sct, "371531000", "x") })})
	add(reqRow{name: "GPCM-SD-GE-003 document type not SNOMED", uc: ge, breakIt: onComp(func(c M) { c["type"] = cc(sct, "xxxxxxxxx", "x") })})
	add(reqRow{name: "GPCM-SD-CS-022 title", uc: cs, breakIt: onComp(func(c M) { c["title"] = "GP report" })})
	add(reqRow{name: "GPCM-SD-OC-006 title", uc: oc, breakIt: onComp(func(c M) { c["title"] = "OC" })})
	add(reqRow{name: "GPCM-SD-GE-006 title missing", uc: ge, breakIt: onComp(func(c M) { delete(c, "title") })})
	add(three("GPCM-SD-CS-023", "GPCM-SD-OC-007", "GPCM-SD-GE-007", "narrative is the template", reqRow{
		breakIt: onComp(func(c M) {
			c["text"].(M)["div"] = `<div xmlns="http://www.w3.org/1999/xhtml">Report for {Patient Name}</div>`
		})})...)
	add(reqRow{name: "GPCM-SD-CS-023 confidential narrative says where the patient was seen", uc: cs,
		setup: func(m *msg) { confidentialComp(m.res("Composition")) },
		breakIt: onComp(func(c M) {
			c["text"].(M)["div"] = `<div xmlns="http://www.w3.org/1999/xhtml">Consultation report for Richard Smith, NHS Number 9434765919, seen at Leeds Urgent Care Centre, ODS Code X26, Version 1</div>`
		})})
	add(reqRow{name: "GPCM-SD-CS-030 confidential report's subject says where the patient was seen", uc: cs, transport: "api",
		setup: func(m *msg) { confidentialComp(m.res("Composition")) }, breakIt: noop,
		opts: func(o *senddoc.Options, pass bool) {
			if pass {
				o.Mesh.Subject = senddoc.DisplaySubject(o.Mesh.Subject, "R")
			}
		}})
	add(three("GPCM-SD-CS-024", "GPCM-SD-OC-008", "GPCM-SD-GE-008", "subject not a Patient", reqRow{breakIt: func(m *msg, _ M) { m.res("Composition")["subject"] = ref(m.url("Organization")) }})...)
	add(reqRow{name: "GPCM-SD-CS-025 author not a Practitioner", uc: cs, breakIt: func(m *msg, _ M) { m.res("Composition")["author"] = A{ref(m.patient())} }})
	add(three("", "GPCM-SD-OC-009", "GPCM-SD-GE-009", "author an Organization", reqRow{breakIt: func(m *msg, _ M) { m.res("Composition")["author"] = A{ref(m.url("Organization"))} }})...)
	add(three("GPCM-SD-CS-026", "GPCM-SD-OC-010", "GPCM-SD-GE-010", "custodian missing", reqRow{breakIt: onComp(func(c M) { delete(c, "custodian") })})...)
	add(three("GPCM-SD-CS-027", "GPCM-SD-OC-011", "GPCM-SD-GE-011", "replacement without target", reqRow{setup: func(m *msg) { replaces(m.res("Composition")) },
		breakIt: onComp(func(c M) { delete(c["relatesTo"].(A)[0].(M), "targetIdentifier") })})...)
	add(reqRow{name: "GPCM-SD-038 relatesTo code appends", uc: cs, setup: func(m *msg) { replaces(m.res("Composition")) },
		breakIt: onComp(func(c M) { c["relatesTo"].(A)[0].(M)["code"] = "appends" })})
	add(reqRow{name: "GPCM-SD-039 target not a UUID", uc: cs, setup: func(m *msg) { replaces(m.res("Composition")) },
		breakIt: onComp(func(c M) { c["relatesTo"].(A)[0].(M)["targetIdentifier"].(M)["value"] = "doc-1" })})
	add(three("GPCM-SD-CS-028", "GPCM-SD-OC-012", "GPCM-SD-GE-012", "no attachment in sections", reqRow{breakIt: onComp(func(c M) {
		c["section"] = A{M{"title": "x", "entry": A{ref("urn:uuid:" + "00000000-0000-4000-8000-999999999999")}}}
	})})...)
	add(three("GPCM-SD-CS-020", "GPCM-SD-OC-004", "GPCM-SD-GE-004", "Composition.date missing", reqRow{breakIt: onComp(func(c M) { delete(c, "date") })})...)
	add(three("GPCM-SD-CS-021", "GPCM-SD-OC-005", "GPCM-SD-GE-005", "confidentiality V", reqRow{breakIt: onComp(func(c M) { c["confidentiality"] = "V" })})...)

	// Patient.
	add(three("", "GPCM-SD-OC-016", "GPCM-SD-GE-016", "no Patient", reqRow{breakIt: func(m *msg, _ M) {
		d := m.doc()
		var keep A
		for _, e := range d["entry"].(A) {
			if e.(M)["resource"].(M)["resourceType"] != "Patient" {
				keep = append(keep, e)
			}
		}
		d["entry"] = keep
	}})...)
	add(three("GPCM-SD-CS-039", "GPCM-SD-OC-017", "GPCM-SD-GE-017", "NHS number check digit", reqRow{breakIt: onPatient(func(p M) { p["identifier"].(A)[0].(M)["value"] = "9434765918" })})...)
	add(three("GPCM-SD-CS-040", "GPCM-SD-OC-018", "GPCM-SD-GE-018", "two official names", reqRow{breakIt: onPatient(func(p M) { p["name"] = append(p["name"].(A), M{"use": "official", "family": "Smyth"}) })})...)
	add(three("GPCM-SD-CS-041", "GPCM-SD-OC-019", "GPCM-SD-GE-019", "birthDate with time", reqRow{breakIt: onPatient(func(p M) { p["birthDate"] = "1955-01-09T00:00:00Z" })})...)

	// Organization.
	add(three("GPCM-SD-CS-032", "GPCM-SD-OC-021", "GPCM-SD-GE-021", "custodian outside the document", reqRow{breakIt: func(m *msg, _ M) {
		m.res("Composition")["custodian"] = ref(m.entries()[1].(M)["fullUrl"].(string))
	}})...)
	add(three("GPCM-SD-CS-033", "GPCM-SD-OC-022", "GPCM-SD-GE-022", "no ODS code", reqRow{breakIt: func(m *msg, _ M) { m.res("Organization")["identifier"].(A)[0].(M)["system"] = "https://example.org/x" }})...)
	add(three("GPCM-SD-CS-034", "GPCM-SD-OC-023", "GPCM-SD-GE-023", "no name", reqRow{breakIt: func(m *msg, _ M) { delete(m.res("Organization"), "name") }})...)
	add(three("GPCM-SD-CS-035", "GPCM-SD-OC-024", "GPCM-SD-GE-024", "no phone", reqRow{breakIt: func(m *msg, _ M) { m.res("Organization")["telecom"] = A{M{"system": "email", "value": "a@b"}} }})...)

	// Practitioner.
	add(three("GPCM-SD-CS-036", "GPCM-SD-OC-025", "GPCM-SD-GE-025", "no SDS user ID", reqRow{breakIt: func(m *msg, _ M) { delete(m.res("Practitioner"), "identifier") }})...)
	add(three("GPCM-SD-CS-037", "GPCM-SD-OC-026", "GPCM-SD-GE-026", "name not official", reqRow{breakIt: func(m *msg, _ M) { m.res("Practitioner")["name"].(A)[0].(M)["use"] = "usual" }})...)

	// Resources of online consultation and generic documents.
	for _, x := range []struct {
		ocID, geID string
		f          fixRow
	}{
		{"GPCM-SD-OC-028", "GPCM-SD-GE-028", fixRow{"RelatedPerson two names", "RelatedPerson", func(m *msg, r M) { r["name"] = append(r["name"].(A), M{"family": "X"}) }}},
		{"GPCM-SD-OC-029", "GPCM-SD-GE-029", fixRow{"RelatedPerson birthDate format", "RelatedPerson", set("birthDate", "02/03/1957")}},
		{"GPCM-SD-OC-032", "GPCM-SD-GE-032", fixRow{"Device manufacturer", "Device", del("manufacturer")}},
		{"GPCM-SD-OC-031", "GPCM-SD-GE-031", fixRow{"Device type not SNOMED", "Device", set("type", M{"text": "an app"})}},
		{"GPCM-SD-OC-097", "GPCM-SD-GE-097", fixRow{"allergy causative agent", "AllergyIntolerance", del("code")}},
		{"GPCM-SD-OC-033", "GPCM-SD-GE-033", fixRow{"Encounter status", "", func(m *msg, _ M) { m.res("Encounter")["status"] = "in-progress" }}},
		{"GPCM-SD-OC-034", "GPCM-SD-GE-034", fixRow{"Encounter type placeholder", "", func(m *msg, _ M) { m.res("Encounter")["type"] = A{cc(sct, "xxxxxxxx", "x")} }}},
		{"GPCM-SD-OC-035", "GPCM-SD-GE-035", fixRow{"Encounter subject", "", func(m *msg, _ M) { delete(m.res("Encounter"), "subject") }}},
		{"GPCM-SD-OC-040", "GPCM-SD-GE-040", fixRow{"Observation not listed", "Observation", func(m *msg, _ M) { m.res("List")["entry"] = A{} }}},
		{"GPCM-SD-OC-041", "GPCM-SD-GE-041", fixRow{"List status", "List", set("status", "retired")}},
		{"GPCM-SD-OC-042", "GPCM-SD-GE-042", fixRow{"List mode", "List", set("mode", "working")}},
		{"GPCM-SD-OC-043", "GPCM-SD-GE-043", fixRow{"List title", "List", set("title", "Observations")}},
		{"GPCM-SD-OC-044", "GPCM-SD-GE-044", fixRow{"List code", "List", set("code", cc(sct, "1234", "x"))}},
		{"GPCM-SD-OC-045", "GPCM-SD-GE-045", fixRow{"List subject", "List", del("subject")}},
		{"GPCM-SD-OC-046", "GPCM-SD-GE-046", fixRow{"List item not an Observation", "List", func(m *msg, r M) { r["entry"] = append(r["entry"].(A), M{"item": ref(m.patient())}) }}},
		{"GPCM-SD-OC-047", "GPCM-SD-GE-047", fixRow{"Observation status", "Observation", set("status", "amended")}},
		{"GPCM-SD-OC-049", "GPCM-SD-GE-049", fixRow{"Observation code", "Observation", set("code", M{})}},
		{"GPCM-SD-OC-050", "GPCM-SD-GE-050", fixRow{"Observation subject", "Observation", del("subject")}},
		{"GPCM-SD-OC-051", "GPCM-SD-GE-051", fixRow{"Observation issued", "Observation", del("issued")}},
		{"GPCM-SD-OC-052", "GPCM-SD-GE-052", fixRow{"Observation performer", "Observation", del("performer")}},
		{"GPCM-SD-OC-055", "GPCM-SD-GE-055", fixRow{"Questionnaire status", "Questionnaire", set("status", "draft")}},
		{"GPCM-SD-OC-062", "GPCM-SD-GE-062", fixRow{"Questionnaire items", "Questionnaire", del("item")}},
		{"GPCM-SD-OC-063", "GPCM-SD-GE-063", fixRow{"QuestionnaireResponse status", "QuestionnaireResponse", set("status", "in-progress")}},
		{"GPCM-SD-OC-064", "GPCM-SD-GE-064", fixRow{"QuestionnaireResponse subject", "QuestionnaireResponse", del("subject")}},
		{"GPCM-SD-OC-065", "GPCM-SD-GE-065", fixRow{"QuestionnaireResponse authored", "QuestionnaireResponse", del("authored")}},
		{"GPCM-SD-OC-066", "GPCM-SD-GE-066", fixRow{"QuestionnaireResponse items", "QuestionnaireResponse", del("item")}},
		{"GPCM-SD-OC-067", "GPCM-SD-GE-067", fixRow{"item linkId", "QuestionnaireResponse", func(m *msg, r M) { delete(r["item"].(A)[0].(M), "linkId") }}},
		{"GPCM-SD-OC-068", "GPCM-SD-GE-068", fixRow{"item text", "QuestionnaireResponse", func(m *msg, r M) { delete(r["item"].(A)[0].(M), "text") }}},
		{"GPCM-SD-OC-069", "GPCM-SD-GE-069", fixRow{"item answer", "QuestionnaireResponse", func(m *msg, r M) { delete(r["item"].(A)[0].(M), "answer") }}},
		{"GPCM-SD-OC-071", "GPCM-SD-GE-071", fixRow{"ReferralRequest status", "ReferralRequest", set("status", "active")}},
		{"GPCM-SD-OC-072", "GPCM-SD-GE-072", fixRow{"ReferralRequest intent", "ReferralRequest", set("intent", "plan")}},
		{"GPCM-SD-OC-074", "GPCM-SD-GE-074", fixRow{"ReferralRequest subject", "ReferralRequest", del("subject")}},
		{"GPCM-SD-OC-077", "GPCM-SD-GE-077", fixRow{"ReferralRequest requester agent", "ReferralRequest", func(m *msg, r M) { r["requester"] = M{"agent": ref(m.url("Encounter"))} }}},
		{"GPCM-SD-OC-082", "GPCM-SD-GE-082", fixRow{"DocumentReference status", "DocumentReference", set("status", "draft")}},
		{"GPCM-SD-OC-083", "GPCM-SD-GE-083", fixRow{"DocumentReference type", "DocumentReference", del("type")}},
		{"GPCM-SD-OC-084", "GPCM-SD-GE-084", fixRow{"DocumentReference subject", "DocumentReference", del("subject")}},
		{"GPCM-SD-OC-086", "GPCM-SD-GE-086", fixRow{"DocumentReference content", "DocumentReference", del("content")}},
		{"GPCM-SD-OC-089", "GPCM-SD-GE-089", fixRow{"resolved allergy without end", "AllergyIntolerance", set("clinicalStatus", "resolved")}},
		{"GPCM-SD-OC-090", "GPCM-SD-GE-090", fixRow{"allergy end without reason", "AllergyIntolerance", set("extension", A{M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-AllergyIntoleranceEnd-1", "extension": A{M{"url": "endDate", "valueDateTime": "2026-11-01"}}}})}},
		{"GPCM-SD-OC-091", "GPCM-SD-GE-091", fixRow{"allergy clinicalStatus", "AllergyIntolerance", set("clinicalStatus", "inactive")}},
		{"GPCM-SD-OC-092", "GPCM-SD-GE-092", fixRow{"allergy verificationStatus", "AllergyIntolerance", set("verificationStatus", "confirmed")}},
		{"GPCM-SD-OC-094", "GPCM-SD-GE-094", fixRow{"allergy category food", "AllergyIntolerance", set("category", A{"food"})}},
		{"GPCM-SD-OC-098", "GPCM-SD-GE-098", fixRow{"allergy patient", "AllergyIntolerance", del("patient")}},
		{"GPCM-SD-OC-100", "GPCM-SD-GE-100", fixRow{"allergy assertedDate", "AllergyIntolerance", del("assertedDate")}},
		{"GPCM-SD-OC-101", "GPCM-SD-GE-101", fixRow{"allergy recorder", "AllergyIntolerance", del("recorder")}},
		{"GPCM-SD-OC-109", "GPCM-SD-GE-109", fixRow{"FamilyMemberHistory status", "FamilyMemberHistory", set("status", "unknown")}},
		{"GPCM-SD-OC-110", "GPCM-SD-GE-110", fixRow{"FamilyMemberHistory patient", "FamilyMemberHistory", del("patient")}},
		{"GPCM-SD-OC-111", "GPCM-SD-GE-111", fixRow{"FamilyMemberHistory relationship", "FamilyMemberHistory", set("relationship", M{"text": "mum"})}},
		{"GPCM-SD-OC-115", "GPCM-SD-GE-115", fixRow{"Task status", "Task", set("status", "draft")}},
		{"GPCM-SD-OC-117", "GPCM-SD-GE-117", fixRow{"Task intent", "Task", set("intent", "option")}},
		{"GPCM-SD-OC-118", "GPCM-SD-GE-118", fixRow{"Task priority", "Task", set("priority", "high")}},
		{"GPCM-SD-OC-129", "GPCM-SD-GE-129", fixRow{"Consent status", "Consent", set("status", "draft")}},
		{"GPCM-SD-OC-131", "GPCM-SD-GE-131", fixRow{"Consent patient", "Consent", del("patient")}},
		{"GPCM-SD-OC-168", "GPCM-SD-GE-141", fixRow{"Location identifier", "Location", del("identifier")}},
		{"GPCM-SD-OC-169", "GPCM-SD-GE-142", fixRow{"Location status", "Location", set("status", "suspended")}},
		{"GPCM-SD-OC-170", "GPCM-SD-GE-143", fixRow{"Location name", "Location", del("name")}},
		{"GPCM-SD-OC-172", "GPCM-SD-GE-145", fixRow{"Location phone", "Location", del("telecom")}},
		{"", "GPCM-SD-GE-147", fixRow{"Medication code", "Medication", del("code")}},
		{"", "GPCM-SD-GE-148", fixRow{"repeat information on an order", "MedicationRequest", func(m *msg, r M) {
			r["extension"] = append(r["extension"].(A), M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-MedicationRepeatInformation-1", "extension": A{M{"url": "numberOfRepeatPrescriptionsAllowed", "valueUnsignedInt": 3}}})
		}}},
		{"", "GPCM-SD-GE-151", fixRow{"expiry date on an order", "MedicationRequest", func(m *msg, r M) {
			r["extension"] = append(r["extension"].(A), M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-MedicationRepeatInformation-1", "extension": A{M{"url": "authorisationExpiryDate", "valueDateTime": "2027-01-01"}}})
		}}},
		{"", "GPCM-SD-GE-152", fixRow{"stopped plan without reason", "MedicationRequest", func(m *msg, r M) { r["intent"], r["status"] = "plan", "stopped" }}},
		{"", "GPCM-SD-GE-154", fixRow{"status reason date without reason", "MedicationRequest", func(m *msg, r M) {
			r["intent"], r["status"] = "plan", "stopped"
			r["extension"] = append(r["extension"].(A), M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-MedicationStatusReason-1", "extension": A{M{"url": "statusChangeDate", "valueDateTime": "2026-11-20"}}})
		}}},
		{"", "GPCM-SD-GE-155", fixRow{"prescription type missing", "MedicationRequest", del("extension")}},
		{"", "GPCM-SD-GE-153", fixRow{"status reason without its date", "MedicationRequest", func(m *msg, r M) {
			r["intent"], r["status"] = "plan", "stopped"
			r["extension"] = append(r["extension"].(A), M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-MedicationStatusReason-1", "extension": A{M{"url": "statusReason", "valueCodeableConcept": M{"text": "side effects"}}}})
		}}},
		{"", "GPCM-SD-GE-156", fixRow{"MedicationRequest identifier", "MedicationRequest", del("identifier")}},
		{"", "GPCM-SD-GE-157", fixRow{"plan based on something", "MedicationRequest", func(m *msg, r M) { r["intent"] = "plan"; r["basedOn"] = A{ref(m.url("Medication"))} }}},
		{"", "GPCM-SD-GE-159", fixRow{"MedicationRequest status", "MedicationRequest", set("status", "draft")}},
		{"", "GPCM-SD-GE-160", fixRow{"MedicationRequest intent", "MedicationRequest", set("intent", "proposal")}},
		{"", "GPCM-SD-GE-161", fixRow{"MedicationRequest medication", "MedicationRequest", del("medicationReference")}},
		{"", "GPCM-SD-GE-162", fixRow{"MedicationRequest subject", "MedicationRequest", del("subject")}},
		{"", "GPCM-SD-GE-164", fixRow{"MedicationRequest authoredOn", "MedicationRequest", del("authoredOn")}},
		{"", "GPCM-SD-GE-166", fixRow{"MedicationRequest recorder", "MedicationRequest", del("recorder")}},
		{"", "GPCM-SD-GE-168", fixRow{"MedicationRequest dosage", "MedicationRequest", del("dosageInstruction")}},
		{"", "GPCM-SD-GE-169", fixRow{"MedicationRequest dosage text", "MedicationRequest", set("dosageInstruction", A{M{"patientInstruction": "x"}})}},
		{"", "GPCM-SD-GE-171", fixRow{"MedicationRequest validity start", "MedicationRequest", set("dispenseRequest", M{"validityPeriod": M{"end": "2027-01-01"}})}},
		{"", "GPCM-SD-GE-178", fixRow{"MedicationStatement prescribing agency", "MedicationStatement", del("extension")}},
		{"", "GPCM-SD-GE-180", fixRow{"MedicationStatement basedOn", "MedicationStatement", del("basedOn")}},
		{"", "GPCM-SD-GE-182", fixRow{"MedicationStatement status", "MedicationStatement", set("status", "intended")}},
		{"", "GPCM-SD-GE-183", fixRow{"MedicationStatement medication", "MedicationStatement", del("medicationReference")}},
		{"", "GPCM-SD-GE-184", fixRow{"MedicationStatement effective", "MedicationStatement", del("effectivePeriod")}},
		{"", "GPCM-SD-GE-185", fixRow{"MedicationStatement dateAsserted", "MedicationStatement", del("dateAsserted")}},
		{"", "GPCM-SD-GE-186", fixRow{"MedicationStatement subject", "MedicationStatement", del("subject")}},
		{"", "GPCM-SD-GE-187", fixRow{"MedicationStatement taken", "MedicationStatement", set("taken", "y")}},
		{"", "GPCM-SD-GE-189", fixRow{"MedicationStatement dosage text", "MedicationStatement", set("dosage", A{M{"patientInstruction": "x"}})}},
		{"", "GPCM-SD-GE-192", fixRow{"Immunization recordedDate", "Immunization", func(m *msg, r M) { r["extension"] = r["extension"].(A)[1:] }}},
		{"", "GPCM-SD-GE-193", fixRow{"Immunization vaccinationProcedure", "Immunization", func(m *msg, r M) { r["extension"] = r["extension"].(A)[:1] }}},
		{"", "GPCM-SD-GE-194", fixRow{"Immunization status", "Immunization", set("status", "entered-in-error")}},
		{"", "GPCM-SD-GE-195", fixRow{"Immunization notGiven", "Immunization", del("notGiven")}},
		{"", "GPCM-SD-GE-196", fixRow{"Immunization vaccineCode", "Immunization", set("vaccineCode", M{})}},
		{"", "GPCM-SD-GE-197", fixRow{"Immunization patient", "Immunization", del("patient")}},
		{"", "GPCM-SD-GE-200", fixRow{"Immunization primarySource", "Immunization", del("primarySource")}},
		{"", "GPCM-SD-GE-216", fixRow{"protocol dose sequence of a series", "Immunization", func(m *msg, r M) { r["vaccinationProtocol"].(A)[0].(M)["seriesDoses"] = 2 }}},
		{"", "GPCM-SD-GE-201", fixRow{"reportOrigin with primary source", "Immunization", set("reportOrigin", cc("http://hl7.org/fhir/immunization-origin", "record", "Written Record"))}},
		{"", "GPCM-SD-GE-206", fixRow{"site when not given", "Immunization", func(m *msg, r M) { notGivenImm(r); r["site"] = cc(sct, "368208006", "Left upper arm") }}},
		{"", "GPCM-SD-GE-207", fixRow{"route when not given", "Immunization", func(m *msg, r M) { notGivenImm(r); r["route"] = cc(sct, "78421000", "Intramuscular") }}},
		{"", "GPCM-SD-GE-208", fixRow{"dose when not given", "Immunization", func(m *msg, r M) { notGivenImm(r); r["doseQuantity"] = M{"value": 0.5} }}},
		{"", "GPCM-SD-GE-210", fixRow{"practitioner role", "Immunization", func(m *msg, r M) { r["practitioner"].(A)[0].(M)["role"] = cc("http://hl7.org/fhir/v2/0443", "OP", "x") }}},
		{"", "GPCM-SD-GE-211", fixRow{"practitioner actor", "Immunization", func(m *msg, r M) { delete(r["practitioner"].(A)[0].(M), "actor") }}},
		{"", "GPCM-SD-GE-213", fixRow{"reason when not given", "Immunization", func(m *msg, r M) { notGivenImm(r); r["explanation"] = M{"reason": A{cc(sct, "1", "x")}} }}},
		{"", "GPCM-SD-GE-214", fixRow{"not-given reason when given", "Immunization", func(m *msg, r M) { r["explanation"] = M{"reasonNotGiven": A{cc(sct, "1", "x")}} }}},
		{"", "GPCM-SD-GE-215", fixRow{"protocol when not given", "Immunization", func(m *msg, r M) {
			p := r["vaccinationProtocol"]
			notGivenImm(r)
			r["vaccinationProtocol"] = p
		}}},
		{"", "GPCM-SD-GE-219", fixRow{"protocol target disease", "Immunization", func(m *msg, r M) { delete(r["vaccinationProtocol"].(A)[0].(M), "targetDisease") }}},
		{"", "GPCM-SD-GE-220", fixRow{"protocol dose status", "Immunization", func(m *msg, r M) { r["vaccinationProtocol"].(A)[0].(M)["doseStatus"] = cc("x", "nocount", "x") }}},
		{"", "GPCM-SD-GE-223", fixRow{"related problem type", "Condition", func(m *msg, r M) {
			r["extension"].(A)[1].(M)["extension"].(A)[0].(M)["valueCode"] = "cousin"
		}}},
		{"", "GPCM-SD-GE-224", fixRow{"related problem target", "Condition", func(m *msg, r M) {
			r["extension"].(A)[1].(M)["extension"].(A)[1].(M)["valueReference"] = ref(m.patient())
		}}},
		{"", "GPCM-SD-GE-225", fixRow{"related clinical content dangling", "Condition", func(m *msg, r M) {
			r["extension"] = append(r["extension"].(A), M{"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-RelatedClinicalContent-1", "valueReference": ref("urn:uuid:00000000-0000-4000-8000-999999999998")})
		}}},
		{"", "GPCM-SD-GE-226", fixRow{"problem significance", "Condition", func(m *msg, r M) { r["extension"].(A)[0].(M)["valueCode"] = "moderate" }}},
		{"", "GPCM-SD-GE-227", fixRow{"problem clinicalStatus", "Condition", set("clinicalStatus", "remission")}},
		{"", "GPCM-SD-GE-228", fixRow{"problem category", "Condition", set("category", A{cc("http://hl7.org/fhir/condition-category", "encounter-diagnosis", "x")})}},
		{"", "GPCM-SD-GE-229", fixRow{"problem code", "Condition", del("code")}},
		{"", "GPCM-SD-GE-230", fixRow{"problem subject", "Condition", del("subject")}},
		{"", "GPCM-SD-GE-234", fixRow{"problem assertedDate", "Condition", del("assertedDate")}},
		{"", "GPCM-SD-GE-235", fixRow{"problem asserter", "Condition", del("asserter")}},
		{"", "GPCM-SD-GE-237", fixRow{"ProcedureRequest status", "ProcedureRequest", set("status", "draft")}},
		{"", "GPCM-SD-GE-238", fixRow{"ProcedureRequest intent", "ProcedureRequest", set("intent", "plan")}},
		{"", "GPCM-SD-GE-239", fixRow{"ProcedureRequest code", "ProcedureRequest", del("code")}},
		{"", "GPCM-SD-GE-240", fixRow{"ProcedureRequest subject", "ProcedureRequest", del("subject")}},
		{"", "GPCM-SD-GE-247", fixRow{"DiagnosticReport status", "DiagnosticReport", set("status", "cancelled")}},
		{"", "GPCM-SD-GE-249", fixRow{"DiagnosticReport code", "DiagnosticReport", del("code")}},
		{"", "GPCM-SD-GE-250", fixRow{"DiagnosticReport subject", "DiagnosticReport", del("subject")}},
		{"", "GPCM-SD-GE-251", fixRow{"DiagnosticReport issued", "DiagnosticReport", del("issued")}},
		{"", "GPCM-SD-GE-258", fixRow{"Specimen status", "Specimen", set("status", "lost")}},
		{"", "GPCM-SD-GE-260", fixRow{"Specimen subject", "Specimen", del("subject")}},
		{"", "GPCM-SD-GE-261", fixRow{"Specimen receivedTime", "Specimen", del("receivedTime")}},
	} {
		add(ocge(x.ocID, x.geID, x.f)...)
	}

	// H. Responses.
	respRow := func(csID, ocID, geID, suffix string, code itk3.ResponseCode, opts func(*senddoc.Options, bool), b func(m *msg, r M)) {
		for _, x := range []struct {
			id string
			uc senddoc.UseCase
		}{{csID, cs}, {ocID, oc}, {geID, ge}} {
			if x.id != "" {
				add(reqRow{name: x.id + " " + suffix, uc: x.uc, resp: code, opts: opts, breakIt: b})
			}
		}
	}
	respRow("GPCM-SD-CS-054", "GPCM-SD-OC-153", "GPCM-SD-GE-280", "response asks for a BusAck", itk3.CodeSuccess, nil, onHandling("BusAckRequested", M{"valueBoolean": true}))
	respRow("GPCM-SD-CS-055", "GPCM-SD-OC-154", "GPCM-SD-GE-281", "response asks for an InfAck", itk3.CodeSuccess, nil, onHandling("InfAckRequested", M{"valueBoolean": true}))
	respRow("GPCM-SD-CS-056", "GPCM-SD-OC-155", "GPCM-SD-GE-282", "response SenderReference not echoed", itk3.CodePatientKnown, func(o *senddoc.Options, _ bool) {
		o.Original = &senddoc.Report{MessageHeaderID: "5e1b2a6c-0d2f-4a51-9c77-2b1f2f8f9a10", SenderReference: "6d6b8a8e-6f0c-4c1f-9a1e-8e0f3b1e2d4c"}
	}, onHandling("SenderReference", M{"valueString": "other"}))
	respRow("GPCM-SD-CS-057", "GPCM-SD-OC-156", "GPCM-SD-GE-283", "response sender not a header Organization", itk3.CodeSuccess, nil,
		func(m *msg, _ M) { delete(m.header(), "sender") })
	respRow("GPCM-SD-CS-058", "GPCM-SD-OC-157", "GPCM-SD-GE-284", "response event", itk3.CodeSuccess, nil, func(m *msg, _ M) { m.header()["event"].(M)["system"] = "https://example.org" })
	respRow("GPCM-SD-CS-059", "GPCM-SD-OC-158", "GPCM-SD-GE-285", "response timestamp", itk3.CodeSuccess, nil, func(m *msg, _ M) { delete(m.header(), "timestamp") })
	respRow("GPCM-SD-CS-062", "GPCM-SD-OC-161", "GPCM-SD-GE-288", "response workflow", itk3.CodeSuccess, func(o *senddoc.Options, pass bool) {
		o.Mesh = &senddoc.MeshMetadata{Transport: "api", WorkflowID: senddoc.WorkflowV1Ack, From: "B82005OT001", To: "X26OT181"}
		if !pass {
			o.Mesh.WorkflowID = senddoc.WorkflowV1
		}
	}, noop)
	respRow("", "GPCM-SD-OC-169", "", "business ack code beyond 30018", itk3.CodePatientKnown, nil, func(m *msg, _ M) {
		m.outer("OperationOutcome")["issue"].(A)[0].(M)["details"].(M)["coding"].(A)[0].(M)["code"] = "30019"
	})
	respRow("GPCM-SD-040", "", "", "success answering an invalid message", itk3.CodeSuccess, func(o *senddoc.Options, pass bool) {
		o.Original = &senddoc.Report{MessageHeaderID: "5e1b2a6c-0d2f-4a51-9c77-2b1f2f8f9a10", SenderReference: "6d6b8a8e-6f0c-4c1f-9a1e-8e0f3b1e2d4c"}
		if !pass {
			o.Original.Findings = []senddoc.Finding{{Requirement: "GPCM-SD-CS-018", Severity: senddoc.SeverityError}}
		}
	}, noop)
	respRow("GPCM-SD-041", "", "", "negative code with response ok", itk3.CodePayloadValidationFailure, nil, func(m *msg, _ M) { m.header()["response"].(M)["code"] = "ok" })
	respRow("GPCM-SD-042", "", "", "negative code without diagnostics", itk3.CodePayloadValidationFailure, nil, func(m *msg, _ M) {
		delete(m.outer("OperationOutcome")["issue"].(A)[0].(M), "diagnostics")
	})
	return rows
}

// confidentialComp makes a built Composition confidential (R) with the
// narrative a confidential report has (no "seen at", no "ODS Code").
func confidentialComp(c M) {
	c["confidentiality"] = "R"
	c["text"].(M)["div"] = `<div xmlns="http://www.w3.org/1999/xhtml">Consultation report for Richard Smith, NHS Number 9434765919, Version 1</div>`
}

func notGivenImm(r M) {
	r["notGiven"] = true
	for _, k := range []string{"site", "route", "doseQuantity", "explanation", "vaccinationProtocol"} {
		delete(r, k)
	}
}

func (row reqRow) run(t *testing.T, pass bool) senddoc.Report {
	t.Helper()
	gen := row.gen
	if gen == 0 {
		gen = 1
	}
	var m *msg
	var opts senddoc.Options
	opts.UseCase = row.uc
	if row.resp != 0 {
		m = newResponseMsg(t, row.resp)
	} else {
		var b *senddoc.Built
		m, b = newMsg(t, row.uc, gen)
		if row.transport != "" {
			opts.Mesh = meshOf(b)
			opts.Mesh.Transport = row.transport
		}
	}
	var fix M
	if row.fixture != "" {
		fix = m.fixture(row.fixture)
	}
	if row.setup != nil {
		row.setup(m)
	}
	if row.opts != nil {
		row.opts(&opts, pass)
	}
	if !pass {
		row.breakIt(m, fix)
	}
	return m.validate(t, opts)
}

// TestRequirements has one row per machine-checkable requirement ID the
// validator implements: the row's message passes, and fails once broken.
func TestRequirements(t *testing.T) {
	for _, row := range requirementRows() {
		t.Run(row.name, func(t *testing.T) {
			id := idOf(row.name)
			if _, ok := senddoc.Lookup(id); !ok {
				t.Fatalf("%s is not in the inventory", id)
			}
			pass := row.run(t, true)
			if f := findingsFor(pass, id); len(f) > 0 {
				t.Errorf("passing message: got %v, want no %s finding", f, id)
			}
			if e := errorsOf(pass); len(e) > 0 {
				t.Errorf("passing message has errors: %v", e)
			}
			fail := row.run(t, false)
			if len(findingsFor(fail, id)) == 0 {
				t.Errorf("broken message: got findings %v, want one for %s", fail.Findings, id)
			}
		})
	}
}
