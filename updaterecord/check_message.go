package updaterecord

import (
	"strconv"
	"strings"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/patient"
)

// run checks the input in the order of digest §7.1: readable, switched
// on, header, payload.
func (c *checker) run() {
	if c.lone != nil {
		c.checkLone()
		return
	}
	c.checkBundleURLs(c.outer)
	if c.mh == nil {
		c.fail("UR-C02", "Bundle.entry[0]", "the message has no MessageHeader; an ITK3 message bundle starts with one")
		return
	}
	c.kind = KindUpdateRecord
	if c.mh.Event != nil && c.mh.Event.Code.String() == itk3.EventResponse {
		c.kind = KindResponse
	}
	c.findDocument()
	if c.kind == KindUpdateRecord && c.opts.Disabled {
		c.fail("UR-F08", "Bundle", "this practice does not accept GP Connect Update Record messages; the sender should send the consultation by another route (e.g. as a PDF)")
		return
	}
	c.checkReferences()
	c.checkProfileText()
	if c.kind == KindResponse {
		c.checkResponse()
		return
	}
	c.checkEnvelope()
	c.checkHeader()
	c.checkHandling(itk3.HandlingRules{InfAckRequested: true, BusAckRequested: true, MessageDefinitions: []string{MessageDefinition},
		LocalExtension: LocalExtension, SenderReferenceRequired: true})
	c.checkPayload()
	c.checkMesh()
}

// findDocument finds the document Bundle (MessageHeader.focus, else the
// first Bundle entry), its entries and its Composition.
func (c *checker) findDocument() {
	for _, f := range c.mh.Focus {
		if t := c.resolve(f); t != nil && t.typ == "Bundle" {
			c.doc = t
		}
	}
	if c.doc == nil {
		for _, e := range c.outer {
			if e.typ == "Bundle" {
				c.doc = e
				break
			}
		}
	}
	if c.doc != nil {
		c.readDocument()
	}
}

// readDocument reads the entries of the document Bundle c.doc and finds
// its Composition and use case.
func (c *checker) readDocument() {
	c.docBundle = c.doc.res.(*fhir.Bundle)
	c.inner = entriesOf(c.docBundle, c.doc.path, true)
	c.checkBundleURLs(c.inner)
	for _, e := range c.inner {
		if cp, ok := e.res.(*fhir.Composition); ok {
			c.comp, c.composition = e, cp
			break
		}
	}
	if c.composition != nil {
		for _, cd := range codings(c.composition.Type) {
			if uc, ok := UseCaseOf(cd.Code.String()); ok && cd.System.String() == snomedSystem {
				c.uc = uc
			}
		}
	}
}

// checkBundleURLs: every entry has a fullUrl, unique in its bundle, of the
// form urn:uuid:<UUID> (UR-D08).
func (c *checker) checkBundleURLs(es []*entry) {
	seen := map[string]*entry{}
	for _, e := range es {
		switch {
		case e.fullURL == "":
			c.fail(RuleFHIRBundle, e.path, "the entry has no fullUrl")
		case seen[e.fullURL] != nil:
			c.fail(RuleFHIRBundle, e.path, "fullUrl %s is used twice in one bundle (also by the %s at %s)", e.fullURL, seen[e.fullURL].typ, seen[e.fullURL].path)
		default:
			seen[e.fullURL] = e
			if u, ok := strings.CutPrefix(e.fullURL, "urn:uuid:"); !ok || !uuidRE.MatchString(u) {
				c.warn("UR-D08", e.path, "fullUrl %s is not urn:uuid:<UUID>", e.fullURL)
			}
		}
	}
}

// checkReferences: every reference resolves inside the message (ITK3) and
// is a urn:uuid: (UR-D08).
func (c *checker) checkReferences() {
	for _, set := range [][]*entry{c.outer, c.inner} {
		for _, e := range set {
			if e.typ == "Bundle" {
				continue
			}
			walkRefs(e.res, e.path, func(path string, r *fhir.Reference) {
				ref := r.Reference.String()
				switch {
				case ref == "" || strings.HasPrefix(ref, "#"):
				case strings.Contains(path, ".extension") && (strings.HasPrefix(ref, "https://") || strings.HasPrefix(ref, "http://")):
					// a canonical URL (MessageDefinition), not a bundle reference
				default:
					t := c.resolve(r)
					switch {
					case t == nil:
						code := itk3.CodePayloadValidationFailure
						if !e.inDoc {
							code = itk3.CodeHeaderValidationFailure
						}
						c.failCode(RuleFHIRBundle, code, path, "reference %s does not resolve to a resource in the message; everything referenced must be inside it", ref)
					case ref != t.fullURL && strings.HasPrefix(t.fullURL, "urn:uuid:"):
						// a target with a non-urn:uuid fullUrl is reported once, by checkBundleURLs
						c.warn("UR-D08", path, "reference %s is not the target's fullUrl %s (Update Record references use urn:uuid:<id>)", ref, t.fullURL)
					}
				}
			})
		}
	}
}

// labelFor is the statement that names the profile of an entry.
func (c *checker) labelFor(e *entry) string {
	switch {
	case e == nil:
		return "UR-C01"
	case e.inDoc:
		return "UR-D02"
	case e == c.header:
		return "UR-C02"
	case e == c.doc:
		return "UR-D01"
	}
	return "UR-C05"
}

// checkProfileText: profile URLs with surrounding white space are read
// trimmed, and reported (blood pressure example 1).
func (c *checker) checkProfileText() {
	check := func(e *entry, r fhir.Resource, path string) {
		m := metaOf(r)
		if m == nil {
			return
		}
		for i, p := range m.Profile {
			if s := p.String(); s != strings.TrimSpace(s) {
				c.warn(c.labelFor(e), path+".meta.profile["+strconv.Itoa(i)+"]", "meta.profile %q has white space around the URL (read trimmed)", strings.TrimSpace(s))
			}
		}
	}
	check(nil, c.root, "Bundle")
	for _, set := range [][]*entry{c.outer, c.inner} {
		for _, e := range set {
			check(e, e.res, e.path)
		}
	}
}

// checkEnvelope: the message Bundle (UR-C01, UR-C02).
func (c *checker) checkEnvelope() {
	b := c.root
	if !hasProfile(b, itk3.MessageBundleProfile) {
		c.fail("UR-C01", "Bundle.meta.profile", "the message Bundle must declare the profile %s", itk3.MessageBundleProfile)
	}
	if t := b.Type.String(); t != "message" {
		c.fail("UR-C01", "Bundle.type", "the message Bundle's type is %q; it must be message", t)
	}
	switch {
	case b.Identifier == nil || b.Identifier.Value.String() == "":
		c.fail("UR-C01", "Bundle.identifier", "the message Bundle needs an identifier, unique per message")
	case b.Identifier.System.String() != uuidIdentSystem || !uuidRE.MatchString(b.Identifier.Value.String()):
		c.warn("UR-C01", "Bundle.identifier", "the message identifier is not {%s, a UUID} as ITK3 writes it (accepted: any unique identifier)", uuidIdentSystem)
	}
	if id := b.ID.String(); id != "" && !uuidRE.MatchString(id) {
		c.note("UR-C01", "Bundle.id", "Bundle.id is not a UUID (allowed: Bundle.id is optional)")
	}
	if c.outer[0] != c.header {
		c.fail("UR-C02", "Bundle.entry[0]", "the MessageHeader must be the first entry of the message Bundle")
	}
	if !hasProfile(c.mh, itk3.MessageHeaderProfile) {
		c.fail("UR-C02", c.header.path+".meta.profile", "the MessageHeader must declare the profile %s", itk3.MessageHeaderProfile)
	}
	if c.mh.ID.String() == "" {
		c.fail("UR-C02", c.header.path+".id", "the MessageHeader needs an id: responses point at it")
	}
	if c.doc == nil {
		c.fail("UR-C02", "Bundle", "the message holds no document Bundle (ITK-Document-Bundle-1)")
	}
	for _, e := range c.outer {
		switch {
		case e == c.header || e == c.doc:
		case e.typ == "Organization" && hasProfile(e.res, itk3.HeaderOrganizationProfile):
		case e.typ == "Bundle":
			c.fail("UR-C02", e.path, "the message holds more than one Bundle; ITK3 carries one payload per message")
		default:
			c.fail("UR-D04", e.path, "%s (%s) is not part of an Update Record message; the whole message is rejected", article(e.typ), profileText(e.res))
		}
	}
}

// article puts "a" or "an" before a resource type.
func article(typ string) string {
	if strings.ContainsRune("AEIOU", rune(typ[0])) {
		return "an " + typ
	}
	return "a " + typ
}

func profileText(r fhir.Resource) string {
	if ps := profiles(r); len(ps) > 0 {
		return strings.Join(ps, ", ")
	}
	return "no profile"
}

// checkHeader: the MessageHeader of a sent message (UR-C03, C05–C09).
func (c *checker) checkHeader() {
	mh, p := c.mh, c.header.path
	if ev := mh.Event; ev == nil || ev.System.String() != itk3.MessageEventSystem || ev.Code.String() != Event {
		c.fail("UR-C03", p+".event", "MessageHeader.event must be %s (%s) from %s", Event, EventDisplay, itk3.MessageEventSystem)
	}
	org := c.checkSender()
	if _, err := time.Parse(time.RFC3339, mh.Timestamp.String()); err != nil {
		c.fail("UR-C06", p+".timestamp", "MessageHeader.timestamp must be the build time as a FHIR instant")
	}
	src := ""
	if mh.Source != nil {
		src = mh.Source.Endpoint.String()
	}
	switch {
	case src == "":
		c.fail("UR-C07", p+".source.endpoint", "MessageHeader.source.endpoint must hold the sender's MESH mailbox ID")
	case !mailboxRE.MatchString(src):
		c.warn("UR-C07", p+".source.endpoint", "MessageHeader.source.endpoint is not a MESH mailbox ID (letters and digits); acknowledgements go to the MESH sender")
	}
	if len(mh.Focus) == 0 {
		c.fail("UR-C08", p+".focus", "MessageHeader.focus must reference the document Bundle")
	} else if t := c.resolve(mh.Focus[0]); t != nil && (t.typ != "Bundle" || !hasProfile(t.res, ProfileDocumentBundle)) {
		c.fail("UR-C08", p+".focus", "MessageHeader.focus must point at the document Bundle (%s)", ProfileDocumentBundle)
	}
	if len(mh.Destination) > 0 {
		c.fail("UR-C09", p+".destination", "MessageHeader.destination is not allowed (ITK-MessageHeader-2 0..0): MESH routes Update Record by patient")
	}
	if mh.Receiver != nil {
		c.warn("UR-C09", p+".receiver", "MessageHeader.receiver is not needed: MESH routes Update Record by patient")
	}
	if mh.Response != nil {
		c.fail("UR-C09", p+".response", "a sent Update Record carries no MessageHeader.response")
	}
	if ph := c.pharmacy(); org != nil && ph != nil {
		_, a := identifierValue(org.res.(*fhir.Organization).Identifier, odsSystem)
		_, b := identifierValue(ph.res.(*fhir.Organization).Identifier, odsSystem)
		if a != b {
			c.note("UR-C05", p+".sender", "the header Organization's ODS code differs from the pharmacy Organization's in the payload")
		}
	}
}

// checkSender: MessageHeader.sender → a header Organization with an ODS
// code (UR-C05); returns it.
func (c *checker) checkSender() *entry {
	p := c.header.path + ".sender"
	if c.mh.Sender == nil || c.mh.Sender.Reference.String() == "" {
		c.fail("UR-C05", p, "MessageHeader.sender must reference the sending organisation")
		return nil
	}
	t := c.resolve(c.mh.Sender)
	switch {
	case t == nil:
		return nil // reported by checkReferences
	case t.inDoc || t.typ != "Organization" || !hasProfile(t.res, itk3.HeaderOrganizationProfile):
		c.fail("UR-C05", p, "MessageHeader.sender must be an Organization in the message bundle with the profile %s", itk3.HeaderOrganizationProfile)
		return nil
	}
	_, ods := identifierValue(t.res.(*fhir.Organization).Identifier, odsSystem)
	switch {
	case ods == "":
		c.fail("UR-C05", t.path+".identifier", "the header Organization has no ODS code (%s)", odsSystem)
	case !odsRE.MatchString(ods):
		c.warn(RuleIdentifierForm, t.path+".identifier", "the header Organization's ODS code is not an ODS code (3–10 letters and digits)")
	}
	return t
}

// handlingLabels names the UR statement of each handling key.
var handlingLabels = map[string]string{
	"":                  "UR-C10",
	"BusAckRequested":   "UR-C11",
	"InfAckRequested":   "UR-C12",
	"RecipientType":     "UR-C13",
	"MessageDefinition": "UR-C14",
	"SenderReference":   "UR-C15",
	"LocalExtension":    "UR-C16",
}

// checkHandling checks the handling specification through itk3, which
// gives each breach the code Send Document uses too. A MessageDefinition
// or LocalExtension other than the guide's is accepted (digest §7.2).
func (c *checker) checkHandling(rules itk3.HandlingRules) {
	p := c.header.path + ".extension(MessageHandling)"
	for _, is := range itk3.CheckHandling(c.mh, rules) {
		id, path := handlingLabels[is.Key], p
		if is.Key != "" {
			path += "." + is.Key
		}
		if !is.Missing && (is.Key == "MessageDefinition" || is.Key == "LocalExtension") {
			c.warn(id, path, "%s (accepted: receivers do not reject on it)", is.Message)
			continue
		}
		c.failCode(id, is.Code, path, "%s", is.Message)
	}
	if c.kind != KindUpdateRecord {
		return
	}
	ref, _ := itk3.ReadHandling(c.mh)
	if enc := c.encounter(); enc != nil && ref.SenderReference != "" {
		for _, id := range enc.res.(*fhir.Encounter).Identifier {
			if id != nil && id.Value.String() == ref.SenderReference {
				return
			}
		}
		c.note("UR-C15", p+".SenderReference", "SenderReference is not the Encounter's identifier value (both identify the activity; compared exactly)")
	}
}

// checkMesh: the MESH envelope (UR-B…), when given.
func (c *checker) checkMesh() {
	m := c.opts.Mesh
	if m == nil {
		return
	}
	if m.WorkflowID != Workflow {
		c.fail("UR-B02", "MESH.WorkflowID", "the MESH workflow ID is %q; an Update Record message uses %s", m.WorkflowID, Workflow)
	}
	src := ""
	if c.mh.Source != nil {
		src = c.mh.Source.Endpoint.String()
	}
	if m.From == "" || (src != "" && !strings.EqualFold(m.From, src)) {
		c.fail("UR-B04", "MESH.From", "the MESH sender mailbox must be the sender's mailbox given in MessageHeader.source.endpoint")
	}
	c.checkAddress(m.To)
	if pt := c.patientEntry(); pt != nil {
		_, nhs := identifierValue(pt.res.(*fhir.Patient).Identifier, nhsNumberSystem)
		if !strings.Contains(m.Subject, " for ") || (nhs != "" && !strings.Contains(m.Subject, nhs)) {
			c.warn("UR-B06", "MESH.Subject", "the MESH subject does not follow the template \"<title> for <patient name>, NHS Number: <NHS number>, …\"")
		}
	}
	if org := c.resolve(c.mh.Sender); org != nil && org.typ == "Organization" {
		if _, ods := identifierValue(org.res.(*fhir.Organization).Identifier, odsSystem); m.LocalID == "" || (ods != "" && m.LocalID != ods) {
			c.fail("UR-B07", "MESH.LocalID", "the MESH local ID must be the sender's ODS code (%s)", ods)
		}
	}
	if v := c.opts.ControlVersion; v != "" {
		want := max(c.version(), 1)
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || n != want {
			c.warn("UR-B08", "MESH.Version", "the .ctl Version must be the update's version (%d): 1 for the first, +1 per replacement", want)
		}
	}
}

// checkAddress: Mex-To is the GPPROVIDER_ address of the message's patient
// (UR-B01, UR-B05).
func (c *checker) checkAddress(to string) {
	if !patient.IsGPProviderAddress(to) {
		c.fail("UR-B01", "MESH.To", "an Update Record uses MESH patient routing: the recipient must be a GPPROVIDER_ address")
		return
	}
	a, err := patient.ParseGPProviderAddress(to)
	if err != nil {
		c.fail("UR-B05", "MESH.To", "the MESH recipient must be GPPROVIDER_{NHS number}_{YYYYMMDD}_{surname}: %v", err)
		return
	}
	if a.DateFormat != patient.DateCompact {
		c.warn(RuleMESHAddress, "MESH.To", "the date of birth in the GPPROVIDER_ address is DDMMYYYY; MESH expects YYYYMMDD")
	}
	pt := c.patientEntry()
	if pt == nil {
		return
	}
	p := pt.res.(*fhir.Patient)
	var diffs []string
	if _, nhs := identifierValue(p.Identifier, nhsNumberSystem); nhs != a.NHSNumber {
		diffs = append(diffs, "NHS number")
	}
	if p.BirthDate.String() != a.BirthDate.Format(patient.DateISO) {
		diffs = append(diffs, "date of birth")
	}
	if name := officialName(p.Name); name == nil || !patient.SameFamilyName(name.Family.String(), a.Surname) {
		diffs = append(diffs, "surname")
	}
	if len(diffs) > 0 {
		c.fail("UR-B05", pt.path, "the Patient's details (%s) differ from the GPPROVIDER_ address the message was sent to", strings.Join(diffs, ", "))
	}
}
