package updaterecord

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
)

// BuildOptions tunes Build.
type BuildOptions struct {
	// NewID returns a fresh UUID (default itk3.NewUUID).
	NewID func() string
	// Now is the build time (default time.Now): MessageHeader.timestamp,
	// meta.lastUpdated and Observation.issued.
	Now func() time.Time
}

// Built is a built Update Record message.
type Built struct {
	Message  *itk3.Message
	Envelope senddoc.Envelope
	// HeaderID is what responses carry in response.identifier; BundleID
	// the message Bundle.id; DocumentID the Composition.identifier value
	// that a replacement names.
	HeaderID   string
	BundleID   string
	DocumentID string
	// Version is the update's version (the .ctl Version).
	Version int
}

// WriteXML writes the message as FHIR XML.
func (b *Built) WriteXML(w io.Writer) error { return fhir.EncodeXML(w, b.Message.Bundle, nil) }

// WriteJSON writes the message as FHIR JSON.
func (b *Built) WriteJSON(w io.Writer) error { return fhir.EncodeJSON(w, b.Message.Bundle, nil) }

// XML returns the message as FHIR XML.
func (b *Built) XML() ([]byte, error) {
	var buf bytes.Buffer
	err := b.WriteXML(&buf)
	return buf.Bytes(), err
}

// builder holds the ids of one message while its resources are made.
type builder struct {
	in      Input
	newID   func() string
	now     time.Time
	date    string // consultation date as given
	pat     string // fullUrls of the shared resources
	org     string
	prac    string
	enc     string
	entries []*fhir.BundleEntry
	section []*fhir.Reference
}

func urn(id string) string { return "urn:uuid:" + id }

func ref(u string) *fhir.Reference { return &fhir.Reference{Reference: fhir.NewString(u)} }

func coding(c Coding) *fhir.Coding {
	out := &fhir.Coding{System: fhir.NewURI(c.System), Code: fhir.NewCode(c.Code)}
	if c.Display != "" {
		out.Display = fhir.NewString(c.Display)
	}
	return out
}

// concept is a CodeableConcept with one coding and the display as text, as
// the official examples write them.
func concept(c Coding) *fhir.CodeableConcept {
	cc := &fhir.CodeableConcept{Coding: []*fhir.Coding{coding(c)}}
	if c.Display != "" {
		cc.Text = fhir.NewString(c.Display)
	}
	return cc
}

func strs(ss []string) []*fhir.String {
	var out []*fhir.String
	for _, s := range ss {
		out = append(out, fhir.NewString(s))
	}
	return out
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func ident(system, value string) []*fhir.Identifier {
	return []*fhir.Identifier{{System: fhir.NewURI(system), Value: fhir.NewString(value)}}
}

// meta is meta.profile (and meta.tag when heading is set).
func (b *builder) meta(profile, heading string) *fhir.Meta {
	m := &fhir.Meta{LastUpdated: fhir.NewInstant(b.now.Format(time.RFC3339)), Profile: []*fhir.URI{fhir.NewURI(profile)}}
	if heading != "" {
		m.Tag = []*fhir.Coding{coding(Coding{System: HeadingSystem, Code: heading, Display: headings[heading]})}
	}
	return m
}

// add places a resource in the document bundle (and its section) and
// returns its fullUrl.
func (b *builder) add(id string, r fhir.Resource) string {
	u := urn(id)
	b.entries = append(b.entries, &fhir.BundleEntry{FullURL: fhir.NewURI(u), Resource: r})
	b.section = append(b.section, ref(u))
	return u
}

// Build turns an update description into an ITK3 Update Record message and
// its MESH envelope. The input is defaulted and validated first.
func Build(in Input, opts BuildOptions) (*Built, error) {
	in.applyDefaults()
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if opts.NewID == nil {
		opts.NewID = itk3.NewUUID
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	env, err := in.Envelope()
	if err != nil {
		return nil, err
	}
	b := &builder{in: in, newID: opts.NewID, now: opts.Now().UTC().Truncate(time.Second), date: in.Consultation.Date}
	svc, _ := in.UseCase.Service()
	compID, docID := b.newID(), b.newID()
	patID, orgID, pracID, encID := b.newID(), b.newID(), b.newID(), b.newID()
	b.pat, b.org, b.prac, b.enc = urn(patID), urn(orgID), urn(pracID), urn(encID)

	b.add(encID, b.encounter(encID, svc))
	b.add(orgID, b.organization(orgID))
	b.add(pracID, b.practitioner(pracID))
	roleID := b.newID()
	b.add(roleID, &fhir.PractitionerRole{
		ID: fhir.NewID(roleID), Meta: b.meta(ProfilePractitionerRole, ""),
		Practitioner: ref(b.prac), Organization: ref(b.org), Code: []*fhir.CodeableConcept{concept(*in.Pharmacist.Role)},
	})
	b.add(patID, b.patient(patID))
	for _, o := range in.Observations {
		id := b.newID()
		b.add(id, b.observation(id, o))
	}
	for _, m := range in.Medicines {
		id := b.newID()
		b.add(id, b.dispense(id, m))
	}
	for _, c := range in.Conditions {
		id := b.newID()
		b.add(id, &fhir.Condition{
			ID: fhir.NewID(id), Meta: b.meta(ProfileCondition, "presenting-complaints-or-issues"),
			Identifier: ident(uuidIdentSystem, id), ClinicalStatus: fhir.NewCode(c.ClinicalStatus),
			Code: concept(c.Code), Subject: ref(b.pat), Context: ref(b.enc),
			AssertedDate: fhir.NewDateTime(b.date), Asserter: ref(b.prac),
		})
	}
	for _, n := range in.Notes {
		id := b.newID()
		b.add(id, &fhir.ClinicalImpression{
			ID: fhir.NewID(id), Meta: b.meta(ProfileClinicalImpression, n.Heading),
			Identifier: ident(uuidIdentSystem, id), Status: fhir.NewCode("completed"),
			Subject: ref(b.pat), Context: ref(b.enc), Date: fhir.NewDateTime(b.date),
			Assessor: ref(b.prac), Summary: fhir.NewString(n.Text),
		})
	}

	comp := b.composition(compID, svc)
	doc := &fhir.Bundle{
		ID: fhir.NewID(docID), Meta: b.meta(ProfileDocumentBundle, ""),
		Identifier: &fhir.Identifier{System: fhir.NewURI(uuidIdentSystem), Value: fhir.NewString(docID)},
		Type:       fhir.NewCode("document"),
		Entry:      append([]*fhir.BundleEntry{{FullURL: fhir.NewURI(urn(compID)), Resource: comp}}, b.entries...),
	}
	msg, err := itk3.NewMessage(itk3.Header{
		BundleID: b.newID(), BundleIdentifier: b.newID(), HeaderID: b.newID(),
		Event: Event, EventDisplay: EventDisplay, Timestamp: b.now,
		SourceEndpoint: in.SenderMailbox, SenderODS: in.Pharmacy.ODSCode,
		Handling: itk3.Handling{
			BusAckRequested: true, InfAckRequested: true, RecipientType: in.RecipientType,
			MessageDefinition: MessageDefinition, SenderReference: in.Consultation.ID, LocalExtension: LocalExtension,
		},
	}, urn(docID), itk3.Entry{FullURL: urn(docID), Resource: doc})
	if err != nil {
		return nil, err
	}
	return &Built{Message: msg, Envelope: env, HeaderID: msg.Header.ID.String(), BundleID: msg.Bundle.ID.String(),
		DocumentID: compID, Version: in.Version}, nil
}

func (b *builder) composition(id string, svc Coding) *fhir.Composition {
	in := b.in
	c := &fhir.Composition{
		ID: fhir.NewID(id), Meta: b.meta(ProfileComposition, ""),
		Identifier: &fhir.Identifier{System: fhir.NewURI(uuidIdentSystem), Value: fhir.NewString(id)},
		Status:     fhir.NewCode("final"), Type: concept(svc),
		Subject: ref(b.pat), Encounter: ref(b.enc), Date: fhir.NewDateTime(b.date),
		Author: []*fhir.Reference{ref(b.prac)}, Title: fhir.NewString(in.Title()),
		Confidentiality: fhir.NewCode("N"), Custodian: ref(b.org),
		Section: []*fhir.CompositionSection{{Entry: b.section}},
	}
	if in.Version > 1 {
		c.Meta.VersionID = fhir.NewID(strconv.Itoa(in.Version))
	}
	if in.Replaces != nil {
		c.RelatesTo = []*fhir.CompositionRelatesTo{{Code: fhir.NewCode("replaces"),
			Target: &fhir.Identifier{System: fhir.NewURI(uuidIdentSystem), Value: fhir.NewString(in.Replaces.DocumentID)}}}
	}
	return c
}

func (b *builder) encounter(id string, svc Coding) *fhir.Encounter {
	sys := uuidIdentSystem
	if !uuidRE.MatchString(b.in.Consultation.ID) {
		sys = b.in.IdentifierSystem
	}
	return &fhir.Encounter{
		ID: fhir.NewID(id), Meta: b.meta(ProfileEncounter, ""),
		Identifier: ident(sys, b.in.Consultation.ID), Status: fhir.NewCode("finished"),
		Type: []*fhir.CodeableConcept{concept(encounterType)}, Subject: ref(b.pat),
		Participant: []*fhir.EncounterParticipant{{
			Type:       []*fhir.CodeableConcept{concept(Coding{System: participantTypeSystem, Code: "REC", Display: "recorder"})},
			Individual: ref(b.prac),
		}},
		Period: &fhir.Period{Start: fhir.NewDateTime(b.date)}, Reason: []*fhir.CodeableConcept{concept(svc)},
		ServiceProvider: ref(b.org),
	}
}

func (b *builder) organization(id string) *fhir.Organization {
	p := b.in.Pharmacy
	o := &fhir.Organization{ID: fhir.NewID(id), Meta: b.meta(ProfileOrganization, ""),
		Identifier: ident(odsSystem, p.ODSCode), Name: fhir.NewString(p.Name)}
	if p.Phone != "" {
		o.Telecom = []*fhir.ContactPoint{{System: fhir.NewCode("phone"), Value: fhir.NewString(p.Phone), Use: fhir.NewCode("work")}}
	}
	if p.Address != nil {
		o.Address = []*fhir.Address{address(p.Address, "work")}
	}
	return o
}

func (b *builder) practitioner(id string) *fhir.Practitioner {
	ph := b.in.Pharmacist
	pr := &fhir.Practitioner{ID: fhir.NewID(id), Meta: b.meta(ProfilePractitioner, ""),
		Name: []*fhir.HumanName{{Use: fhir.NewCode("official"), Family: fhir.NewString(ph.Family), Given: strs(ph.Given), Prefix: strs(nonEmpty(ph.Prefix))}}}
	if ph.SDSUserID != "" {
		pr.Identifier = append(pr.Identifier, ident(sdsUserSystem, ph.SDSUserID)...)
	}
	if ph.GPhCNumber != "" {
		pr.Identifier = append(pr.Identifier, ident(gphcSystem, ph.GPhCNumber)...)
	}
	return pr
}

func (b *builder) patient(id string) *fhir.Patient {
	p := b.in.Patient
	nhs := ident(nhsNumberSystem, p.NHSNumber)
	nhs[0].Extension = []*fhir.Extension{{URL: nhsVerifExtURL,
		Value: concept(Coding{System: nhsVerifSystem, Code: "01", Display: "Number present and verified"})}}
	pat := &fhir.Patient{ID: fhir.NewID(id), Meta: b.meta(ProfilePatient, ""), Identifier: nhs,
		Name:      []*fhir.HumanName{{Use: fhir.NewCode("official"), Family: fhir.NewString(p.Family), Given: strs(p.Given), Prefix: strs(nonEmpty(p.Prefix))}},
		BirthDate: fhir.NewDate(p.BirthDate)}
	if p.Gender != "" {
		pat.Gender = fhir.NewCode(p.Gender)
	}
	if p.Address != nil {
		pat.Address = []*fhir.Address{address(p.Address, "home")}
	}
	return pat
}

func address(a *Address, use string) *fhir.Address {
	out := &fhir.Address{Use: fhir.NewCode(use), Line: strs(a.Lines)}
	if a.City != "" {
		out.City = fhir.NewString(a.City)
	}
	if a.Postcode != "" {
		out.PostalCode = fhir.NewString(a.Postcode)
	}
	return out
}

func ucum(value, unit string) *fhir.Quantity {
	return &fhir.Quantity{Value: fhir.NewDecimal(value), Unit: fhir.NewString(ucumUnits[unit]), System: fhir.NewURI(ucumSystem), Code: fhir.NewCode(unit)}
}

var categoryDisplay = map[string]string{"vital-signs": "Vital Signs", "social-history": "Social History"}

func (b *builder) observation(id string, o ObservationInput) *fhir.Observation {
	obs := &fhir.Observation{
		ID: fhir.NewID(id), Meta: b.meta(ProfileObservation, o.Heading),
		Identifier: ident(uuidIdentSystem, id), Status: fhir.NewCode("final"),
		Category: []*fhir.CodeableConcept{concept(Coding{System: categorySystem, Code: o.Category, Display: categoryDisplay[o.Category]})},
		Subject:  ref(b.pat), Context: ref(b.enc), Effective: fhir.NewDateTime(b.date),
		Issued: fhir.NewInstant(b.now.Format(time.RFC3339)), Performer: []*fhir.Reference{ref(b.prac)},
	}
	switch {
	case o.BloodPressure != nil:
		t := bpReadings[o.BloodPressure.Reading]
		obs.Code = concept(t.header)
		obs.Component = []*fhir.ObservationComponent{
			{Code: concept(t.systolic), Value: ucum(string(o.BloodPressure.Systolic), "mm[Hg]")},
			{Code: concept(t.diastolic), Value: ucum(string(o.BloodPressure.Diastolic), "mm[Hg]")},
		}
	case o.Value != nil:
		obs.Code = concept(*o.Code)
		obs.Value = ucum(string(o.Value.Value), o.Value.Unit)
	case o.Attachment != nil:
		obs.Code = concept(*o.Code)
		obs.Value = &fhir.Attachment{ContentType: fhir.NewCode(o.Attachment.ContentType),
			Data: fhir.NewBase64Binary(base64.StdEncoding.EncodeToString(o.Attachment.Data)), Title: fhir.NewString(o.Attachment.Title)}
	default:
		obs.Code = concept(*o.Code)
	}
	if o.Interpretation != "" {
		obs.Interpretation = concept(Coding{System: interpretationSystem, Code: o.Interpretation, Display: interpretations[o.Interpretation]})
	}
	if o.BodySite != nil {
		obs.BodySite = concept(*o.BodySite)
	}
	return obs
}

func (b *builder) dispense(id string, m MedicineInput) *fhir.MedicationDispense {
	d := &fhir.MedicationDispense{
		ID: fhir.NewID(id), Meta: b.meta(ProfileMedicationDispense, ""),
		Identifier: ident(uuidIdentSystem, id), Status: fhir.NewCode(m.Status),
		Category:   concept(Coding{System: dispenseCategorySystem, Code: "community", Display: "Community"}),
		Medication: concept(m.Medication), Subject: ref(b.pat), Context: ref(b.enc),
		Performer: []*fhir.MedicationDispensePerformer{{Actor: ref(b.prac)}},
		Type:      concept(Coding{System: supplyTypeSystem, Code: m.SupplyType, Display: supplyTypes[m.SupplyType]}),
		Quantity: &fhir.SimpleQuantity{Value: fhir.NewDecimal(string(m.Quantity.Value)), Unit: fhir.NewString(m.Quantity.Unit.Display),
			System: fhir.NewURI(m.Quantity.Unit.System), Code: fhir.NewCode(m.Quantity.Unit.Code)},
		WhenPrepared: fhir.NewDateTime(b.date), WhenHandedOver: fhir.NewDateTime(b.date),
	}
	if m.DaysSupply != "" {
		d.DaysSupply = &fhir.SimpleQuantity{Value: fhir.NewDecimal(string(m.DaysSupply)), Unit: fhir.NewString("day"),
			System: fhir.NewURI(ucumSystem), Code: fhir.NewCode("d")}
	}
	if m.Status == "stopped" {
		d.WhenHandedOver = nil
	}
	ds := &fhir.Dosage{Text: fhir.NewString(m.Dosage.Text), PatientInstruction: fhir.NewString(m.Dosage.PatientInstruction)}
	if m.Dosage.Frequency > 0 {
		ds.Timing = &fhir.Timing{Repeat: &fhir.TimingRepeat{Frequency: fhir.NewInteger(int64(m.Dosage.Frequency)),
			Period: fhir.NewDecimal(string(m.Dosage.Period)), PeriodUnit: fhir.NewCode(m.Dosage.PeriodUnit)}}
	}
	if m.Dosage.Route != nil {
		ds.Route = concept(*m.Dosage.Route)
	}
	d.DosageInstruction = []*fhir.Dosage{ds}
	return d
}

// Title is the Composition title: "<pharmacy> - <service>", as in the
// official examples.
func (in Input) Title() string {
	svc, _ := in.UseCase.Service()
	return fmt.Sprintf("%s - %s", in.Pharmacy.Name, svc.Display)
}
