package updaterecord_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/updaterecord"
)

// richInput is the Pharmacy First example with a blood-pressure reading, a
// pregnancy status and an ABPM report added, so that every resource type
// of iteration 1 is present.
func richInput() updaterecord.Input {
	in := updaterecord.Example(updaterecord.UseCasePharmacyFirst)
	in.Observations = append(in.Observations,
		updaterecord.ObservationInput{BloodPressure: &updaterecord.BloodPressureInput{Reading: "standard", Systolic: "128", Diastolic: "82"}},
		updaterecord.ObservationInput{Code: &updaterecord.Coding{Code: "60001007", Display: "Not pregnant"}, Heading: "pregnancy-status"},
		updaterecord.ObservationInput{Code: &updaterecord.Coding{Code: "725956001", Display: "Ambulatory blood pressure monitoring report"},
			Attachment: &updaterecord.AttachmentInput{Title: "ABPM report", ContentType: "application/pdf", Data: []byte("%PDF-1.4\n%%EOF\n")}},
	)
	return in
}

// Observations of richInput in document order.
const (
	obsTemperature = iota
	obsPulse
	obsBP
	obsPregnancy
	obsReport
)

func (m msg) obs(i int) *fhir.Observation { return m.nth("Observation", i).(*fhir.Observation) }

func (m msg) dispense() *fhir.MedicationDispense {
	return m.nth("MedicationDispense", 0).(*fhir.MedicationDispense)
}

func (m msg) patient() *fhir.Patient { return m.nth("Patient", 0).(*fhir.Patient) }

type ruleCase struct {
	name   string // starts with the label the case breaks
	id     string
	sev    updaterecord.Severity
	code   itk3.ResponseCode // Report.ResponseCode; 0 = 20013
	mutate func(m msg)
	opts   func(o *updaterecord.Options)
}

// noMesh validates without MESH metadata (for changes to the patient, whom
// the GPPROVIDER_ address names).
func noMesh(o *updaterecord.Options) { o.Mesh = nil }

var ruleCases = []ruleCase{
	{name: "UR-F08 practice has Update Record switched off", id: "UR-F08", sev: E, code: 20010, opts: func(o *updaterecord.Options) { o.Disabled = true }},
	{name: "UR-C01 bundle type collection", id: "UR-C01", sev: E, code: 20006, mutate: func(m msg) { m.b.Type = fhir.NewCode("collection") }},
	{name: "UR-C01 no message identifier", id: "UR-C01", sev: E, code: 20006, mutate: func(m msg) { m.b.Identifier = nil }},
	{name: "UR-C01 identifier not a UUID accepted", id: "UR-C01", sev: W, mutate: func(m msg) { m.b.Identifier.Value = fhir.NewString("msg-1") }},
	{name: "UR-C02 header not first", id: "UR-C02", sev: E, code: 20006, mutate: func(m msg) { m.b.Entry[0], m.b.Entry[1] = m.b.Entry[1], m.b.Entry[0] }},
	{name: "UR-C02 header profile missing", id: "UR-C02", sev: E, code: 20006, mutate: func(m msg) { m.header().Meta = nil }},
	{name: "UR-C03 Send Document event", id: "UR-C03", sev: E, code: 20006, mutate: func(m msg) { m.header().Event.Code = fhir.NewCode("ITK007C") }},
	{name: "UR-C05 sender is the payload Organization", id: "UR-C05", sev: E, code: 20006, mutate: func(m msg) { m.header().Sender = ref(m.url("Organization")) }},
	{name: "UR-C06 no timestamp", id: "UR-C06", sev: E, code: 20006, mutate: func(m msg) { m.header().Timestamp = nil }},
	{name: "UR-C07 no source endpoint", id: "UR-C07", sev: E, code: 20006, mutate: func(m msg) { m.header().Source.Endpoint = nil }},
	{name: "UR-C08 focus on the header Organization", id: "UR-C08", sev: E, code: 20006, mutate: func(m msg) { m.header().Focus[0] = m.header().Sender }},
	{name: "UR-C09 destination", id: "UR-C09", sev: E, code: 20006, mutate: func(m msg) {
		m.header().Destination = []*fhir.MessageHeaderDestination{{Endpoint: fhir.NewURI("B82005OT001")}}
	}},
	{name: "UR-C10 no handling specification", id: "UR-C10", sev: E, code: 10001, mutate: func(m msg) { m.header().Extension = nil }},
	{name: "UR-C11 BusAckRequested false", id: "UR-C11", sev: E, code: 10003, mutate: func(m msg) { m.handling("BusAckRequested").Value = fhir.NewBoolean(false) }},
	{name: "UR-C12 InfAckRequested false", id: "UR-C12", sev: E, code: 10002, mutate: func(m msg) { m.handling("InfAckRequested").Value = fhir.NewBoolean(false) }},
	{name: "UR-C13 RecipientType XX", id: "UR-C13", sev: E, code: 10010, mutate: func(m msg) { m.handling("RecipientType").Value.(*fhir.Coding).Code = fhir.NewCode("XX") }},
	{name: "UR-C14 Send Document MessageDefinition accepted", id: "UR-C14", sev: W, mutate: func(m msg) {
		m.handling("MessageDefinition").Value = ref(itk3.SendDocumentDefinition)
	}},
	{name: "UR-C14 MessageDefinition missing", id: "UR-C14", sev: E, code: 10004, mutate: func(m msg) { m.handling("MessageDefinition").Value = nil }},
	{name: "UR-C15 SenderReference None", id: "UR-C15", sev: E, code: 10007, mutate: func(m msg) { m.handling("SenderReference").Value = fhir.NewString("None") }},
	{name: "UR-C16 LocalExtension other accepted", id: "UR-C16", sev: W, mutate: func(m msg) { m.handling("LocalExtension").Value = fhir.NewString("SendDocument-Generic") }},
	{name: "UR-C16 LocalExtension missing", id: "UR-C16", sev: E, code: 10001, mutate: func(m msg) { m.handling("LocalExtension").URL = "LocalExt" }},
	{name: "UR-D01 document bundle of type collection", id: "UR-D01", sev: E, code: 20009, mutate: func(m msg) { m.doc().Type = fhir.NewCode("collection") }},
	{name: "UR-D02 no Patient", id: "UR-D02", sev: E, code: 20009, mutate: func(m msg) {
		m.drop("Patient")
		m.comp().Subject = nil
	}},
	{name: "UR-D02 Patient without profile", id: "UR-D02", sev: E, code: 20009, mutate: func(m msg) { m.patient().Meta = nil }},
	{name: "UR-D03 no ClinicalImpression", id: "UR-D03", sev: E, code: 20009, mutate: func(m msg) { m.drop("ClinicalImpression") }},
	{name: "UR-D04 AllergyIntolerance", id: "UR-D04", sev: E, code: 20009, mutate: func(m msg) {
		m.add(&fhir.AllergyIntolerance{ID: fhir.NewID("0f0e0d0c-0b0a-4999-8888-777766665555"), Meta: profile("https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-AllergyIntolerance-1")}, "0f0e0d0c-0b0a-4999-8888-777766665555")
	}},
	{name: "UR-D04 safeguarding Flag", id: "UR-D04", sev: E, code: 20009, mutate: func(m msg) {
		m.add(&fhir.Flag{ID: fhir.NewID("1f0e0d0c-0b0a-4999-8888-777766665555"), Meta: profile("https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Flag-1")}, "1f0e0d0c-0b0a-4999-8888-777766665555")
	}},
	{name: "UR-D04 Patient of another profile", id: "UR-D04", sev: E, code: 20009, mutate: func(m msg) {
		m.patient().Meta = profile("https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1")
	}},
	{name: "UR-D04 extra resource in the message bundle", id: "UR-D04", sev: E, code: 20009, mutate: func(m msg) {
		m.b.Entry = append(m.b.Entry, &fhir.BundleEntry{FullURL: fhir.NewURI("urn:uuid:2f0e0d0c-0b0a-4999-8888-777766665555"), Resource: &fhir.Binary{ID: fhir.NewID("2f0e0d0c-0b0a-4999-8888-777766665555")}})
	}},
	{name: "UR-D05 unknown service code", id: "UR-D05", sev: E, code: 20009, mutate: func(m msg) { m.comp().Type.Coding[0].Code = fhir.NewCode("371531000") }},
	{name: "UR-D05 Encounter.reason differs", id: "UR-D05", sev: W, mutate: func(m msg) {
		m.nth("Encounter", 0).(*fhir.Encounter).Reason[0].Coding[0].Code = fhir.NewCode("1659111000000107")
	}},
	{name: "UR-D06 ClinicalImpression not in the section", id: "UR-D06", sev: E, code: 20009, mutate: func(m msg) {
		s := m.comp().Section[0]
		s.Entry = s.Entry[:len(s.Entry)-1]
	}},
	{name: "UR-D07 HTML in the section", id: "UR-D07", sev: E, code: 20009, mutate: func(m msg) {
		m.comp().Section[0].Text = &fhir.Narrative{Status: fhir.NewCode("generated"), Div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>Seen today</p></div>`}
	}},
	{name: "UR-D08 reference by type and id", id: "UR-D08", sev: W, mutate: func(m msg) {
		m.comp().Subject = ref("Patient/" + m.patient().ID.String())
	}},
	{name: "UR-D09 ClinicalImpression without heading", id: "UR-D09", sev: W, mutate: func(m msg) {
		m.nth("ClinicalImpression", 0).(*fhir.ClinicalImpression).Meta.Tag = nil
	}},
	{name: "UR-D09 unknown heading code", id: "UR-D09", sev: W, mutate: func(m msg) {
		m.nth("ClinicalImpression", 0).(*fhir.ClinicalImpression).Meta.Tag[0].Code = fhir.NewCode("gossip")
	}},
	{name: "UR-D11 laboratory category", id: "UR-D11", sev: E, code: 20009, mutate: func(m msg) { m.obs(obsTemperature).Category[0].Coding[0].Code = fhir.NewCode("laboratory") }},
	{name: "UR-D12 dosage without patient instruction", id: "UR-D12", sev: E, code: 20009, mutate: func(m msg) { m.dispense().DosageInstruction[0].PatientInstruction = nil }},
	{name: "UR-D12 no dosage instruction", id: "UR-D12", sev: W, mutate: func(m msg) { m.dispense().DosageInstruction = nil }},
	{name: "UR-D13 medicine coded in SNOMED CT", id: "UR-D13", sev: W, mutate: func(m msg) {
		m.dispense().Medication.(*fhir.CodeableConcept).Coding[0].System = fhir.NewURI("http://snomed.info/sct")
	}},
	{name: "UR-D14 dispense in progress", id: "UR-D14", sev: W, mutate: func(m msg) { m.dispense().Status = fhir.NewCode("in-progress") }},
	{name: "UR-D15 supply type from another system", id: "UR-D15", sev: W, mutate: func(m msg) {
		m.dispense().Type.Coding[0].System = fhir.NewURI("http://hl7.org/fhir/v3/ActCode")
	}},
	{name: "UR-D16 unsupported unit", id: "UR-D16", sev: W, mutate: func(m msg) { m.obs(obsTemperature).Value.(*fhir.Quantity).Code = fhir.NewCode("%") }},
	{name: "UR-D16 unit that does not fit the vital sign", id: "UR-D16", sev: W, mutate: func(m msg) { m.obs(obsPulse).Value.(*fhir.Quantity).Code = fhir.NewCode("Cel") }},
	{name: "UR-D16 not UCUM", id: "UR-D16", sev: W, mutate: func(m msg) {
		m.obs(obsTemperature).Value.(*fhir.Quantity).System = fhir.NewURI("http://snomed.info/sct")
	}},
	{name: "UR-D19 report without data", id: "UR-D19", sev: E, code: 20009, mutate: func(m msg) { m.obs(obsReport).Value.(*fhir.Attachment).Data = nil }},
	{name: "UR-D19 report without title", id: "UR-D19", sev: W, mutate: func(m msg) { m.obs(obsReport).Value.(*fhir.Attachment).Title = nil }},
	{name: "UR-E02 relatesTo code appends", id: "UR-E02", sev: E, code: 20009, mutate: func(m msg) {
		m.comp().RelatesTo = []*fhir.CompositionRelatesTo{{Code: fhir.NewCode("appends"), Target: &fhir.Identifier{Value: fhir.NewString("3f0e0d0c-0b0a-4999-8888-777766665555")}}}
		m.comp().Meta.VersionID = fhir.NewID("2")
	}},
	{name: "UR-E03 replacement without version", id: "UR-E03", sev: W, mutate: func(m msg) {
		m.comp().RelatesTo = []*fhir.CompositionRelatesTo{{Code: fhir.NewCode("replaces"), Target: &fhir.Identifier{Value: fhir.NewString("3f0e0d0c-0b0a-4999-8888-777766665555")}}}
	}},
	{name: "FHIR-BDL reference outside the message", id: updaterecord.RuleFHIRBundle, sev: E, code: 20009, mutate: func(m msg) {
		m.comp().Author[0] = ref("urn:uuid:4f0e0d0c-0b0a-4999-8888-777766665555")
	}},
	{name: "FHIR-BDL fullUrl twice", id: updaterecord.RuleFHIRBundle, sev: E, code: 20009, mutate: func(m msg) {
		d := m.doc()
		d.Entry[2].FullURL = d.Entry[1].FullURL
	}},
	{name: "NHS-NUMBER no NHS number", id: updaterecord.RuleNHSNumber, sev: E, code: 20009, mutate: func(m msg) { m.patient().Identifier = nil }, opts: noMesh},
	{name: "NHS-NUMBER wrong check digit", id: updaterecord.RuleNHSNumber, sev: E, code: 20009, mutate: func(m msg) {
		m.patient().Identifier[0].Value = fhir.NewString("9690937287")
	}, opts: noMesh},
	{name: "NHS-NUMBER wrong check digit allowed as test data", id: updaterecord.RuleNHSNumber, sev: W, mutate: func(m msg) {
		m.patient().Identifier[0].Value = fhir.NewString("9690937287")
	}, opts: func(o *updaterecord.Options) { o.AllowTestNHSNumbers, o.Mesh = true, nil }},
	{name: "GPC-PROFILE Observation without issued", id: updaterecord.RuleProfile, sev: E, code: 20009, mutate: func(m msg) { m.obs(obsPulse).Issued = nil }},
	{name: "GPC-PROFILE NHS number without verification status", id: updaterecord.RuleProfile, sev: E, code: 20009, mutate: func(m msg) {
		m.patient().Identifier[0].Extension = nil
	}},
	{name: "GPC-PROFILE ClinicalImpression without summary", id: updaterecord.RuleProfile, sev: E, code: 20009, mutate: func(m msg) {
		m.nth("ClinicalImpression", 1).(*fhir.ClinicalImpression).Summary = nil
	}},
	{name: "GPC-PROFILE Condition without asserter", id: updaterecord.RuleProfile, sev: E, code: 20009, mutate: func(m msg) {
		m.nth("Condition", 0).(*fhir.Condition).Asserter = nil
	}},
	{name: "GPC-PROFILE dispense without quantity", id: updaterecord.RuleProfile, sev: E, code: 20009, mutate: func(m msg) { m.dispense().Quantity = nil }},
	{name: "GPC-PROFILE Encounter without participant", id: updaterecord.RuleProfile, sev: E, code: 20009, mutate: func(m msg) {
		m.nth("Encounter", 0).(*fhir.Encounter).Participant = nil
	}},
	{name: "GPC-PROFILE Organization without name", id: updaterecord.RuleProfile, sev: E, code: 20009, mutate: func(m msg) {
		m.nth("Organization", 0).(*fhir.Organization).Name = nil
	}},
	{name: "GPC-BP-TRIPLET components of another triplet", id: updaterecord.RuleBloodPressure, sev: I, mutate: func(m msg) {
		m.obs(obsBP).Code.Coding[0].Code = fhir.NewCode("163035008")
	}},
	{name: "ID-FORM GPhC number of two digits", id: updaterecord.RuleIdentifierForm, sev: W, mutate: func(m msg) {
		for _, id := range m.nth("Practitioner", 0).(*fhir.Practitioner).Identifier {
			if strings.HasSuffix(id.System.String(), "gphc-number") {
				id.Value = fhir.NewString("12")
			}
		}
	}},
	{name: "UR-B01 Mex-To a mailbox", id: "UR-B01", sev: E, code: 20006, opts: func(o *updaterecord.Options) { o.Mesh.To = "B82005OT001" }},
	{name: "UR-B02 Send Document workflow", id: "UR-B02", sev: E, code: 20006, opts: func(o *updaterecord.Options) { o.Mesh.WorkflowID = "GPCONNECT_SEND_DOCUMENT" }},
	{name: "UR-B04 Mex-From another mailbox", id: "UR-B04", sev: E, code: 20006, opts: func(o *updaterecord.Options) { o.Mesh.From = "OTHER01" }},
	{name: "UR-B05 address of another patient", id: "UR-B05", sev: E, code: 20006, opts: func(o *updaterecord.Options) {
		o.Mesh.To = "GPPROVIDER_9690937286_19670126_Smyth"
	}},
	{name: "UR-B05 malformed address", id: "UR-B05", sev: E, code: 20006, opts: func(o *updaterecord.Options) { o.Mesh.To = "GPPROVIDER_9690937286" }},
	{name: "MESH-ADDRESS date of birth DDMMYYYY", id: updaterecord.RuleMESHAddress, sev: W, opts: func(o *updaterecord.Options) {
		o.Mesh.To = "GPPROVIDER_9690937286_26011967_Smith"
	}},
	{name: "UR-B06 subject without the template", id: "UR-B06", sev: W, opts: func(o *updaterecord.Options) { o.Mesh.Subject = "Pharmacy update" }},
	{name: "UR-B07 local ID another ODS code", id: "UR-B07", sev: E, code: 20006, opts: func(o *updaterecord.Options) { o.Mesh.LocalID = "Y01" }},
	{name: "UR-B08 control-file version 1.0", id: "UR-B08", sev: W, opts: func(o *updaterecord.Options) { o.ControlVersion = "1.0" }},
}

// TestRules breaks one statement at a time in an otherwise conformant
// message and checks the finding, its severity and the response code.
func TestRules(t *testing.T) {
	for _, tc := range ruleCases {
		t.Run(tc.name, func(t *testing.T) {
			b := MustBuild(t, richInput())
			m := msg{b.Message.Bundle}
			if tc.mutate != nil {
				tc.mutate(m)
			}
			opts := updaterecord.Options{Mesh: meshOf(b)}
			if tc.opts != nil {
				tc.opts(&opts)
			}
			rep := mustValidate(t, mustXML(t, b.Message.Bundle), opts)
			found := false
			for _, f := range rep.Findings {
				found = found || (f.Requirement == tc.id && f.Severity == tc.sev)
			}
			if !found {
				t.Errorf("no %s %s finding\n%s", tc.sev, tc.id, dump(rep))
			}
			want := tc.code
			if want == 0 {
				want = itk3.CodeSuccess
			}
			if rep.ResponseCode != want {
				t.Errorf("response code %s, want %s\n%s", rep.ResponseCode, want, dump(rep))
			}
		})
	}
}

// TestRichInputConformant: the base of TestRules has no finding.
func TestRichInputConformant(t *testing.T) {
	b := MustBuild(t, richInput())
	rep := mustValidate(t, mustXML(t, b.Message.Bundle), updaterecord.Options{Mesh: meshOf(b)})
	for _, f := range rep.Findings {
		t.Errorf("finding: %s", f)
	}
}

func TestUnreadable(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int64
		code     itk3.ResponseCode
	}{
		{"empty", "", 0, 10009},
		{"text", "hello", 0, 10009},
		{"broken XML", `<Bundle xmlns="http://hl7.org/fhir"><type value="message"/>`, 0, 10009},
		{"too large", `{"resourceType":"Bundle","type":"message","entry":[]}`, 10, 20015},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := updaterecord.Validate(context.Background(), strings.NewReader(tc.in), updaterecord.Options{MaxBytes: tc.max})
			if err == nil || rep.ResponseCode != tc.code || rep.MessageHeaderID != itk3.UnreadableIdentifier || rep.Findings[0].Requirement != updaterecord.RuleFHIRStructure {
				t.Fatalf("got %v, code %s, id %s; want ErrUnreadable, %s", err, rep.ResponseCode, rep.MessageHeaderID, tc.code)
			}
		})
	}
	rep := mustValidate(t, []byte(`{"resourceType":"Bundle","type":"message"}`), updaterecord.Options{})
	if rep.Kind != updaterecord.KindUnknown || rep.ResponseCode != itk3.CodeHeaderValidationFailure {
		t.Errorf("a bundle without MessageHeader: kind %s code %s", rep.Kind, rep.ResponseCode)
	}
}
