package updaterecord

import (
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
)

// Severity and Finding are shared with package senddoc, so that a receiver
// or a report handles the findings of every capability alike.
type (
	Severity = senddoc.Severity
	Finding  = senddoc.Finding
)

// Severities, most serious first.
const (
	SeverityError   = senddoc.SeverityError
	SeverityWarning = senddoc.SeverityWarning
	SeverityInfo    = senddoc.SeverityInfo
)

// Check says how far software can decide a statement (the digest's
// "Check" column).
type Check int

// Check values.
const (
	CheckNo Check = iota
	CheckPartly
	CheckYes
)

func (c Check) String() string {
	switch c {
	case CheckYes:
		return "yes"
	case CheckPartly:
		return "partly"
	}
	return "no"
}

// Requirement is one statement of the Update Record digest, labelled UR-…
// there (the guide itself has no requirement IDs): what it asks in our
// words, how serious a breach is and the ITK3 code a receiver answers it
// with (0 when no response applies: sender behaviour, or a breach that is
// only reported).
type Requirement struct {
	ID       string
	Area     string // digest §2 sub-section: A scope, B MESH, C header, D payload, E replacement, F receiver, G sender
	Level    string // the guide's RFC 2119 word, "—" when it has none
	Check    Check
	Severity Severity
	Code     itk3.ResponseCode
	Text     string
}

// Rule identifiers for findings that no UR label covers. FHIR-STU3,
// FHIR-BDL, NHS-NUMBER and MESH-ADDRESS are the identifiers package senddoc
// uses for the same rules.
const (
	RuleFHIRStructure = senddoc.RuleFHIRStructure // the codec's structural findings
	RuleFHIRBundle    = senddoc.RuleFHIRBundle    // unique fullUrls, references that resolve
	RuleNHSNumber     = senddoc.RuleNHSNumber     // modulus-11 check digit
	RuleMESHAddress   = senddoc.RuleMESHAddress   // GPPROVIDER_ address form
	RuleITK3Response  = senddoc.RuleITK3Response  // ITK3 response message rules
	// RuleProfile: an element constraint of the resource's StructureDefinition
	// in the guide's package, or a convention of the official examples
	// (digest §3.3).
	RuleProfile = "GPC-PROFILE"
	// RuleBloodPressure: the blood-pressure header/systolic/diastolic
	// triplets (digest §4.5).
	RuleBloodPressure = "GPC-BP-TRIPLET"
	// RuleIdentifierForm: the form of ODS codes and GPhC registration
	// numbers.
	RuleIdentifierForm = "ID-FORM"
)

const (
	e = SeverityError
	w = SeverityWarning
)

// inventory lists every UR label of the digest (§2) in digest order.
var inventory = []Requirement{
	{"UR-A01", "A", "—", CheckYes, e, 20006, "MESH transport; FHIR STU3 messaging per ITK3 2.10.0; GP Connect data model"},
	{"UR-A02", "A", "—", CheckPartly, e, 20009, "only the approved community pharmacy services (the four service codes)"},
	{"UR-A03", "A", "must", CheckNo, e, 0, "use cases approved by NHS England and the solution assured before production"},
	{"UR-A04", "A", "should", CheckNo, w, 0, "senders check that the recipient can receive Update Record"},
	{"UR-A05", "A", "MUST", CheckNo, e, 0, "receivers (GPCUR01) and senders (GPCUR02) implement the latest version"},
	{"UR-A06", "A", "—", CheckNo, w, 0, "routine information only; urgent matters by other channels"},
	{"UR-B01", "B", "MUST", CheckYes, e, 20006, "MESH automated routing to the registered practice (a GPPROVIDER_ address)"},
	{"UR-B02", "B", "MUST", CheckYes, e, 20006, "MESH workflow GPCONNECT_UPDATE_RECORD"},
	{"UR-B03", "B", "MUST", CheckYes, e, 20006, "acknowledgements on MESH workflow GPCONNECT_UPDATE_RECORD_ACK"},
	{"UR-B04", "B", "MUST", CheckYes, e, 20006, "Mex-From / From_DTS is the sender's mailbox (MessageHeader.source.endpoint)"},
	{"UR-B05", "B", "MUST", CheckYes, e, 20006, "Mex-To / To_DTS is GPPROVIDER_{NHS number}_{date of birth}_{surname} of the message's patient"},
	{"UR-B06", "B", "MUST", CheckPartly, w, 0, "Mex-Subject / Subject follows the title-for-patient template"},
	{"UR-B07", "B", "MUST", CheckYes, e, 20006, "Mex-LocalID / LocalId is the sender's ODS code"},
	{"UR-B08", "B", "MUST", CheckPartly, w, 0, ".ctl Version is the document version (1, then +1 per replacement)"},
	{"UR-B09", "B", "MUST", CheckPartly, e, 0, "the sender handles the MESH routing reports EPL-150…154"},
	{"UR-C01", "C", "MUST", CheckYes, e, 20006, "message Bundle: type message, an identifier unique per message"},
	{"UR-C02", "C", "MUST", CheckYes, e, 20006, "message Bundle holds the MessageHeader (ITK-MessageHeader-2) first and the document Bundle"},
	{"UR-C03", "C", "MUST", CheckYes, e, 20006, "MessageHeader.event is ITK014M from ITK-MessageEvent-2"},
	{"UR-C04", "C", "MUST", CheckYes, e, 20006, "a response's MessageHeader.event is ITK008M"},
	{"UR-C05", "C", "MUST", CheckYes, e, 20006, "MessageHeader.sender references a CareConnect-ITK-Header-Organization-1 in the message bundle"},
	{"UR-C06", "C", "MUST", CheckPartly, e, 20006, "MessageHeader.timestamp is when the message was built"},
	{"UR-C07", "C", "MUST", CheckYes, e, 20006, "MessageHeader.source.endpoint is the sender's MESH mailbox ID"},
	{"UR-C08", "C", "MUST", CheckYes, e, 20006, "MessageHeader.focus references the ITK-Document-Bundle-1"},
	{"UR-C09", "C", "—", CheckYes, e, 20006, "no destination (0..0), no response in a sent message; receiver not needed"},
	{"UR-C10", "C", "MUST", CheckYes, e, 10001, "the handling specification extension Extension-ITK-MessageHandling-2"},
	{"UR-C11", "C", "MUST", CheckYes, e, 10003, "BusAckRequested true in a message, false in a response"},
	{"UR-C12", "C", "MUST", CheckYes, e, 10002, "InfAckRequested true in a message, false in a response"},
	{"UR-C13", "C", "MUST", CheckYes, e, 10010, "RecipientType FA or FI from ITK-RecipientType-1 (GP systems treat all as FA)"},
	{"UR-C14", "C", "must", CheckYes, e, 10004, "MessageDefinition is the placeholder https://fhir.nhs.uk/MessageDefinition"},
	{"UR-C15", "C", "MUST", CheckYes, e, 10007, "SenderReference identifies the activity at the sender; a response echoes it"},
	{"UR-C16", "C", "MUST", CheckYes, e, 10001, "LocalExtension is None"},
	{"UR-D01", "D", "MUST", CheckYes, e, 20009, "document Bundle: type document, an identifier, meta.lastUpdated"},
	{"UR-D02", "D", "MUST", CheckYes, e, 20009, "document Bundle holds Composition, Patient, Organization, Practitioner, Encounter, ClinicalImpression with their GPC profiles (cardinalities §3.2)"},
	{"UR-D03", "D", "MUST", CheckYes, e, 20009, "at least one CareConnect-GPC-ClinicalImpression-1"},
	{"UR-D04", "D", "MUST NOT", CheckYes, e, 20009, "no profile outside iteration 1: the whole message is rejected with 20009"},
	{"UR-D05", "D", "MUST", CheckYes, e, 20009, "Composition.type is the SNOMED code of the service"},
	{"UR-D06", "D", "MUST", CheckYes, e, 20009, "Composition.section.entry references the Encounter and every ClinicalImpression"},
	{"UR-D07", "D", "—", CheckYes, e, 20009, "no HTML in Composition.section.text"},
	{"UR-D08", "D", "—", CheckYes, w, 0, "references and fullUrls use urn:uuid:<id>"},
	{"UR-D09", "D", "SHOULD", CheckPartly, w, 0, "resources tagged with a RecordStandardHeadings meta.tag naming the PRSB heading"},
	{"UR-D10", "D", "SHOULD NOT", CheckNo, w, 0, "a Condition is the presenting complaint, not a GP problem"},
	{"UR-D11", "D", "—", CheckYes, e, 20009, "Observation.category is vital-signs or social-history"},
	{"UR-D12", "D", "SHOULD/MUST", CheckPartly, e, 20009, "dosage: Dosage.text and Dosage.patientInstruction always; structured dosage when supported"},
	{"UR-D13", "D", "should", CheckPartly, w, 0, "dispensed medicine as medicationCodeableConcept from dm+d (https://dmd.nhs.uk)"},
	{"UR-D14", "D", "—", CheckYes, w, 0, "MedicationDispense.status completed (stopped for a declined urgent supply)"},
	{"UR-D15", "D", "recommended", CheckYes, w, 0, "MedicationDispense.type from CareConnect-MedicationSupplyType-1"},
	{"UR-D16", "D", "should", CheckYes, w, 0, "vital signs in UCUM units from the supported list"},
	{"UR-D17", "D", "should", CheckPartly, w, 0, "reference ranges with < or > go in referenceRange.text"},
	{"UR-D18", "D", "should", CheckPartly, w, 0, "pulse as one coded Observation; an irregular pulse as a separate finding"},
	{"UR-D19", "D", "—", CheckPartly, e, 20009, "a report (ABPM) as Observation.valueAttachment with content type, data and a meaningful title"},
	{"UR-D20", "D", "MUST", CheckNo, e, 0, "planned and requested actions cannot create tasks"},
	{"UR-E01", "E", "MUST", CheckPartly, e, 20014, "a replacement replaces the whole payload; the receiver archives the previous one"},
	{"UR-E02", "E", "MUST", CheckYes, e, 20009, "Composition.relatesTo code replaces with targetIdentifier"},
	{"UR-E03", "E", "SHOULD", CheckYes, w, 0, "the version in Composition.meta.versionId"},
	{"UR-E04", "E", "MAY/SHOULD", CheckPartly, w, 0, "repeated replacements each point at the previous one (avoid them)"},
	{"UR-E05", "E", "SHOULD", CheckYes, w, 0, "a replacement within 24 hours of the original"},
	{"UR-E06", "E", "SHOULD", CheckPartly, e, 20014, "a replacement that cannot be processed voids both and gets a negative response"},
	{"UR-E07", "E", "SHOULD", CheckNo, e, 0, "the sender voids both on that response"},
	{"UR-E08", "E", "—", CheckYes, w, 0, "elements that signal a replacement: meta.versionId, status, relatesTo"},
	{"UR-F01", "F", "MUST", CheckYes, e, 20009, "a message that breaks the header or payload rules is invalid"},
	{"UR-F02", "F", "MUST", CheckYes, e, 20009, "an invalid message gets the matching negative code and goes no further"},
	{"UR-F03", "F", "MUST", CheckYes, e, 20006, "a negative response explains the error in OperationOutcome.diagnostics"},
	{"UR-F04", "F", "MUST", CheckNo, e, 0, "everything in the profile list is ingested into the receiver's own model"},
	{"UR-F05", "F", "—", CheckNo, e, 0, "ingested data held for review; no auto-filing (1.1.x–1.2.0)"},
	{"UR-F05b", "F", "must", CheckNo, e, 0, "(1.2.1) a task is always created; the practice may auto-file; nothing visible to patients before review"},
	{"UR-F06", "F", "should", CheckNo, w, 0, "a practice that rejects on review tells the sender (by hand)"},
	{"UR-F07", "F", "—", CheckYes, e, 20009, "unsupported profiles reject the whole message (no partial acceptance)"},
	{"UR-F08", "F", "—", CheckYes, e, 20010, "20010 when the practice has Update Record switched off or the system does not support it"},
	{"UR-F09", "F", "—", CheckNo, w, 0, "observation display conventions (units, decimal places)"},
	{"UR-F10", "F", "—", CheckNo, w, 0, "consumers may use or override the sender's interpretation"},
	{"UR-G01", "G", "MUST", CheckNo, e, 0, "the sender tells a person when the payload is not received or managed"},
	{"UR-G02", "G", "MUST", CheckPartly, e, 0, "the sender tells a person when an acknowledgement does not arrive"},
	{"UR-G03", "G", "—", CheckNo, e, 0, "on a technical negative response, correct and resend"},
	{"UR-G04", "G", "must", CheckNo, e, 0, "on 20010, send the consultation as a PDF by another route"},
}

var inventoryIndex = func() map[string]Requirement {
	m := make(map[string]Requirement, len(inventory))
	for _, r := range inventory {
		m[r.ID] = r
	}
	return m
}()

// Requirements returns every UR label of the digest. The slice is a copy.
func Requirements() []Requirement { return append([]Requirement(nil), inventory...) }

// Lookup returns the inventory row of a UR label.
func Lookup(id string) (Requirement, bool) {
	r, ok := inventoryIndex[id]
	return r, ok
}

// Implemented reports whether the validator has a check that can report
// id (a UR label or a Rule… identifier).
func Implemented(id string) bool { return implemented[id] }
