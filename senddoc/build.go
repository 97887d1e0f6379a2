package senddoc

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
)

// BuildOptions tunes Build.
type BuildOptions struct {
	// RenderPDF renders the report when the input carries no PDF. The CLI
	// passes package report's renderer.
	RenderPDF func(Input) ([]byte, error)
	// NewID returns a fresh UUID (default itk3.NewUUID).
	NewID func() string
	// Now is the build time (default time.Now).
	Now func() time.Time
}

// Built is a built Send Document message.
type Built struct {
	Message  *itk3.Message
	Envelope Envelope
	// HeaderID, BundleID and DocumentID identify what was sent: responses
	// carry HeaderID; a later replacement names DocumentID.
	HeaderID   string
	BundleID   string
	DocumentID string
}

// WriteXML writes the message as FHIR XML.
func (b *Built) WriteXML(w io.Writer) error { return fhir.EncodeXML(w, b.Message.Bundle, nil) }

// XML returns the message as FHIR XML.
func (b *Built) XML() ([]byte, error) {
	var buf bytes.Buffer
	err := b.WriteXML(&buf)
	return buf.Bytes(), err
}

// ErrNoPDF is returned when the input has no PDF and no renderer was given.
var ErrNoPDF = fmt.Errorf("senddoc: the input carries no pdf and no PDF renderer is configured")

// Build turns a report description into an ITK3 Send Document message and
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
	now := opts.Now().UTC().Truncate(time.Second)
	created := in.Created
	if created.IsZero() {
		created = now
	}
	pdf := in.PDF
	if len(pdf) == 0 {
		if opts.RenderPDF == nil {
			return nil, ErrNoPDF
		}
		var err error
		if pdf, err = opts.RenderPDF(in); err != nil {
			return nil, fmt.Errorf("senddoc: rendering the PDF: %w", err)
		}
	}
	env, err := in.Envelope()
	if err != nil {
		return nil, err
	}
	id := func() string { return opts.NewID() }
	urn := func(s string) string { return "urn:uuid:" + s }
	meta := func(p string) *fhir.Meta { return &fhir.Meta{Profile: []*fhir.URI{fhir.NewURI(p)}} }
	ref := func(u string) *fhir.Reference { return &fhir.Reference{Reference: fhir.NewString(u)} }
	coding := func(c Coding) *fhir.Coding {
		out := &fhir.Coding{System: fhir.NewURI(c.System), Code: fhir.NewCode(c.Code)}
		if c.Display != "" {
			out.Display = fhir.NewString(c.Display)
		}
		return out
	}
	cc := func(c Coding) *fhir.CodeableConcept { return &fhir.CodeableConcept{Coding: []*fhir.Coding{coding(c)}} }
	phone := func(v string) []*fhir.ContactPoint {
		if v == "" {
			return nil
		}
		return []*fhir.ContactPoint{{System: fhir.NewCode("phone"), Value: fhir.NewString(v), Use: fhir.NewCode("work")}}
	}
	strsOf := func(ss []string) []*fhir.String {
		var out []*fhir.String
		for _, s := range ss {
			out = append(out, fhir.NewString(s))
		}
		return out
	}

	patID, orgID, encID, compID, docID, pdfID := id(), id(), id(), id(), id(), id()
	var pracID string

	p := in.Patient
	pat := &fhir.Patient{
		ID:   fhir.NewID(patID),
		Meta: meta(profPatient),
		Identifier: []*fhir.Identifier{{
			Extension: []*fhir.Extension{{URL: nhsVerifExtURL, Value: cc(Coding{System: nhsVerifSystem, Code: "01", Display: "Number present and verified"})}},
			System:    fhir.NewURI(nhsNumberSystem), Value: fhir.NewString(p.NHSNumber),
		}},
		Name:      []*fhir.HumanName{{Use: fhir.NewCode("official"), Family: fhir.NewString(p.Family), Given: strsOf(p.Given), Prefix: strsOf(nonEmpty(p.Prefix))}},
		BirthDate: fhir.NewDate(p.BirthDate),
	}
	pat.Telecom = append(phone(p.Phone), mobile(p.Mobile)...)
	if p.Gender != "" {
		pat.Gender = fhir.NewCode(p.Gender)
	}
	if p.Address != nil {
		pat.Address = []*fhir.Address{address(p.Address, "home")}
	}
	org := &fhir.Organization{
		ID:         fhir.NewID(orgID),
		Meta:       meta(profOrganization),
		Identifier: []*fhir.Identifier{{System: fhir.NewURI(odsSystem), Value: fhir.NewString(in.Author.ODSCode)}},
		Name:       fhir.NewString(in.Author.Name),
		Telecom:    phone(in.Author.Phone),
	}
	if in.Author.Email != "" {
		org.Telecom = append(org.Telecom, &fhir.ContactPoint{System: fhir.NewCode("email"), Value: fhir.NewString(in.Author.Email), Use: fhir.NewCode("work")})
	}
	if in.Author.Address != nil {
		org.Address = []*fhir.Address{address(in.Author.Address, "work")}
	}
	encType := EncounterClinical
	if in.UseCase == UseCaseOnline {
		encType = EncounterOnline
	}
	if in.Encounter.Type != nil {
		encType = *in.Encounter.Type
	}
	enc := &fhir.Encounter{
		ID:              fhir.NewID(encID),
		Meta:            meta(profEncounter),
		Identifier:      []*fhir.Identifier{{System: fhir.NewURI(uuidIdentSystem), Value: fhir.NewString(in.Encounter.ID)}},
		Status:          fhir.NewCode("finished"),
		Type:            []*fhir.CodeableConcept{cc(encType)},
		Subject:         ref(urn(patID)),
		Period:          &fhir.Period{Start: fhir.NewDateTime(in.Encounter.Start.UTC().Format(time.RFC3339))},
		ServiceProvider: ref(urn(orgID)),
	}
	if !in.Encounter.End.IsZero() {
		enc.Period.End = fhir.NewDateTime(in.Encounter.End.UTC().Format(time.RFC3339))
	}
	var prac *fhir.Practitioner
	authorRef := urn(patID)
	if pr := in.Practitioner; pr != nil {
		pracID = id()
		authorRef = urn(pracID)
		prac = &fhir.Practitioner{
			ID:         fhir.NewID(pracID),
			Meta:       meta(profPractitioner),
			Identifier: []*fhir.Identifier{{System: fhir.NewURI(sdsUserSystem), Value: fhir.NewString(pr.SDSUserID)}},
			Name:       []*fhir.HumanName{{Use: fhir.NewCode("official"), Family: fhir.NewString(pr.Family), Given: strsOf(pr.Given), Prefix: strsOf(nonEmpty(pr.Prefix))}},
			Telecom:    phone(pr.Phone),
		}
		enc.Participant = []*fhir.EncounterParticipant{{Individual: ref(urn(pracID))}}
	}

	conf := "N"
	if in.Confidential {
		conf = "R"
	}
	comp := &fhir.Composition{
		ID:              fhir.NewID(compID),
		Meta:            meta(profComposition),
		Text:            &fhir.Narrative{Status: fhir.NewCode("generated"), Div: narrative(in)},
		Identifier:      &fhir.Identifier{System: fhir.NewURI(uuidIdentSystem), Value: fhir.NewString(compID)},
		Status:          fhir.NewCode("final"),
		Type:            cc(*in.DocumentType),
		Subject:         ref(urn(patID)),
		Encounter:       ref(urn(encID)),
		Date:            fhir.NewDateTime(created.UTC().Format(time.RFC3339)),
		Author:          []*fhir.Reference{ref(authorRef)},
		Title:           fhir.NewString(in.Title),
		Confidentiality: fhir.NewCode(conf),
		Custodian:       ref(urn(orgID)),
	}
	if in.Version > 1 {
		comp.Meta.VersionID = fhir.NewID(fmt.Sprint(in.Version))
	}
	if in.CareSetting != nil {
		comp.Extension = []*fhir.Extension{{URL: careSettingExtURL, Value: cc(*in.CareSetting)}}
	}
	if in.Replaces != nil {
		comp.RelatesTo = []*fhir.CompositionRelatesTo{{
			Code:   fhir.NewCode("replaces"),
			Target: &fhir.Identifier{System: fhir.NewURI(uuidIdentSystem), Value: fhir.NewString(strings.ToLower(in.Replaces.DocumentID))},
		}}
	}
	binary := func(bid, ct string, data []byte) *fhir.Binary {
		return &fhir.Binary{ID: fhir.NewID(bid), Meta: meta(profBinary), ContentType: fhir.NewCode(ct),
			Content: fhir.NewBase64Binary(base64.StdEncoding.EncodeToString(data))}
	}
	comp.Section = []*fhir.CompositionSection{{Title: fhir.NewString(in.Title), Entry: []*fhir.Reference{ref(urn(pdfID))}}}
	docEntries := []*fhir.BundleEntry{
		{FullURL: fhir.NewURI(urn(compID)), Resource: comp},
		{FullURL: fhir.NewURI(urn(pdfID)), Resource: binary(pdfID, "application/pdf", pdf)},
	}
	for _, a := range in.Attachments {
		aid := id()
		comp.Section = append(comp.Section, &fhir.CompositionSection{Title: fhir.NewString(a.Title), Entry: []*fhir.Reference{ref(urn(aid))}})
		docEntries = append(docEntries, &fhir.BundleEntry{FullURL: fhir.NewURI(urn(aid)), Resource: binary(aid, a.ContentType, a.Data)})
	}
	docEntries = append(docEntries,
		&fhir.BundleEntry{FullURL: fhir.NewURI(urn(patID)), Resource: pat},
		&fhir.BundleEntry{FullURL: fhir.NewURI(urn(orgID)), Resource: org},
		&fhir.BundleEntry{FullURL: fhir.NewURI(urn(encID)), Resource: enc},
	)
	if prac != nil {
		docEntries = append(docEntries, &fhir.BundleEntry{FullURL: fhir.NewURI(urn(pracID)), Resource: prac})
	}
	doc := &fhir.Bundle{
		ID:         fhir.NewID(docID),
		Meta:       meta(profDocumentBundle),
		Identifier: &fhir.Identifier{System: fhir.NewURI(uuidIdentSystem), Value: fhir.NewString(docID)},
		Type:       fhir.NewCode("document"),
		Entry:      docEntries,
	}
	md := itk3.SendDocumentDefinition
	le := map[UseCase]string{UseCaseConsultation: localExtCS, UseCaseOnline: localExtOC, UseCaseGeneric: localExtGE}[in.UseCase]
	if in.Generation == GenerationV2 {
		md = itk3.SendDocumentDefinitionV2
	}
	msg, err := itk3.NewMessage(itk3.Header{
		BundleID: id(), BundleIdentifier: id(), HeaderID: id(),
		Event: itk3.EventSendDocument, EventDisplay: "ITK GP Connect Send Document",
		Timestamp: now, SourceEndpoint: in.SenderMailbox, SenderODS: in.Author.ODSCode,
		Handling: itk3.Handling{
			BusAckRequested: true, InfAckRequested: true, RecipientType: in.RecipientType,
			MessageDefinition: md, SenderReference: in.Encounter.ID, LocalExtension: le,
		},
	}, urn(docID), itk3.Entry{FullURL: urn(docID), Resource: doc})
	if err != nil {
		return nil, err
	}
	return &Built{Message: msg, Envelope: env, HeaderID: msg.Header.ID.String(), BundleID: msg.Bundle.ID.String(), DocumentID: compID}, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func mobile(v string) []*fhir.ContactPoint {
	if v == "" {
		return nil
	}
	return []*fhir.ContactPoint{{System: fhir.NewCode("phone"), Value: fhir.NewString(v), Use: fhir.NewCode("mobile")}}
}

func address(a *Address, use string) *fhir.Address {
	out := &fhir.Address{Use: fhir.NewCode(use)}
	for _, l := range a.Lines {
		out.Line = append(out.Line, fhir.NewString(l))
	}
	if a.City != "" {
		out.City = fhir.NewString(a.City)
	}
	if a.Postcode != "" {
		out.PostalCode = fhir.NewString(a.Postcode)
	}
	return out
}

// Narrative returns the Composition narrative sentence for the input.
func (in Input) Narrative() string {
	name := patientName(in.Patient.Given, in.Patient.Family)
	switch {
	case in.Generation == GenerationV2:
		s := fmt.Sprintf("%s for %s, NHS Number: %s", in.Title, name, in.Patient.NHSNumber)
		if !in.Confidential {
			s += fmt.Sprintf(", seen at %s, %s", in.Author.Name, in.Author.ODSCode)
		}
		return s + fmt.Sprintf(", Version: %d", in.Version)
	case in.UseCase == UseCaseOnline:
		return fmt.Sprintf("Online consultation report for %s, NHS Number %s, Version %d", name, in.Patient.NHSNumber, in.Version)
	case in.UseCase == UseCaseGeneric:
		return fmt.Sprintf("%s report for %s, NHS Number %s, Version %d", strings.TrimSuffix(in.ReportName, " report"), name, in.Patient.NHSNumber, in.Version)
	}
	s := fmt.Sprintf("Consultation report for %s, NHS Number %s", name, in.Patient.NHSNumber)
	if !in.Confidential {
		s += fmt.Sprintf(", seen at %s, ODS Code %s", in.Author.Name, in.Author.ODSCode)
	}
	return s + fmt.Sprintf(", Version %d", in.Version)
}

func narrative(in Input) string {
	return `<div xmlns="http://www.w3.org/1999/xhtml"><p>` + html.EscapeString(in.Narrative()) + `</p></div>`
}
