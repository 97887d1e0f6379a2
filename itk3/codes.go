package itk3

import (
	"fmt"
	"strconv"
)

// ResponseCode is an ITK3 response code from the code system
// https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1 (ITK3 2.10.0).
type ResponseCode int

// Infrastructure acknowledgement codes (InfAck).
const (
	CodeHandlingSpecError           ResponseCode = 10001
	CodeInfAckValueError            ResponseCode = 10002
	CodeBusAckValueError            ResponseCode = 10003
	CodeMessageDefinitionError      ResponseCode = 10004
	CodeMessageDefinitionVersion    ResponseCode = 10005
	CodeSenderReferenceError        ResponseCode = 10007
	CodeHandlingSpecBusinessRule    ResponseCode = 10008
	CodeUnreadableMessage           ResponseCode = 10009
	CodeRecipientTypeError          ResponseCode = 10010
	CodeUnrecognisedRecipientPerson ResponseCode = 20001
	CodeUnrecognisedRecipientOrg    ResponseCode = 20002
	CodeUnrecognisedSender          ResponseCode = 20003
	CodeNonApprovedAttachment       ResponseCode = 20004
	CodeUnsupportedAttachment       ResponseCode = 20005
	CodeHeaderValidationFailure     ResponseCode = 20006
	CodeDuplicateMessage            ResponseCode = 20007
	CodeDuplicateDocument           ResponseCode = 20008
	CodePayloadValidationFailure    ResponseCode = 20009
	CodeUnrecognisedPayloadOrg      ResponseCode = 20010
	CodeUnrecognisedPayloadPerson   ResponseCode = 20011
	CodeUnauthorisedSender          ResponseCode = 20012
	CodeSuccess                     ResponseCode = 20013
	CodeReplacementFailed           ResponseCode = 20014
	CodeMessageTooLarge             ResponseCode = 20015
)

// Business acknowledgement codes (BusAck).
const (
	CodePatientKnown            ResponseCode = 30001
	CodePatientNotKnown         ResponseCode = 30002
	CodePatientNoLongerHere     ResponseCode = 30003
	CodePatientRecentlyDeceased ResponseCode = 30004
	CodeReferralOpen            ResponseCode = 30005
	CodeReferralCompleted       ResponseCode = 30006
	CodeReferralEscalated       ResponseCode = 30007
	CodeSignpostingToGP         ResponseCode = 30008
	CodeEscalationUTC           ResponseCode = 30009
	CodeEscalationAE            ResponseCode = 30010
	CodeAdvisedElsewhere        ResponseCode = 30011
	CodeUnableToContact         ResponseCode = 30012
	CodeClosureNotNeeded        ResponseCode = 30013
	CodeClosureNotAccepted      ResponseCode = 30014
	CodeClosureDuplicate        ResponseCode = 30015
	CodeReferralAccepted        ResponseCode = 30016
	CodeReferralRejected        ResponseCode = 30017
	CodeDidNotAttend            ResponseCode = 30018
	CodeRegistrationAccepted    ResponseCode = 30019
	CodeRegistrationPending     ResponseCode = 30020
	CodeRegistrationAlready     ResponseCode = 30021
	CodeRegistrationCapacity    ResponseCode = 30022
	CodeRegistrationBoundary    ResponseCode = 30023
	CodeRegistrationRemovedHere ResponseCode = 30024
	CodeRegistrationRemovedElse ResponseCode = 30025
)

// Class says which acknowledgement a response code belongs to.
type Class int

// Classes of response code.
const (
	ClassUnknown Class = iota
	// ClassInfAck is an infrastructure acknowledgement (1xxxx, 2xxxx).
	ClassInfAck
	// ClassBusAck is a business acknowledgement (3xxxx).
	ClassBusAck
)

func (c Class) String() string {
	switch c {
	case ClassInfAck:
		return "InfAck"
	case ClassBusAck:
		return "BusAck"
	}
	return "unknown"
}

// codeInfo is one row of the ITK3 2.10.0 response code table.
type codeInfo struct {
	display   string
	positive  bool
	severity  string // OperationOutcome.issue.severity
	issueType string // OperationOutcome.issue.code
}

var codeTable = map[ResponseCode]codeInfo{
	10001: {"Handling Specification Error", false, "fatal", "processing"},
	10002: {"Infrastructure Level Response Value - Processing Error", false, "fatal", "processing"},
	10003: {"Business Level Response Value - Processing Error", false, "fatal", "processing"},
	10004: {"Message Definition Value – Processing Error", false, "fatal", "processing"},
	10005: {"Message Definition Version Value – Processing Error", false, "fatal", "processing"},
	10007: {"Sender Reference Value - Processing Error", false, "fatal", "processing"},
	10008: {"Handling Specification Business Rule Error", false, "fatal", "processing"},
	10009: {"Unreadable message received", false, "fatal", "processing"},
	10010: {"Recipient Type - Processing Error", false, "fatal", "processing"},
	20001: {"Unrecognised Recipient Person", false, "fatal", "not-found"},
	20002: {"Unrecognised Recipient Organisation", false, "fatal", "not-found"},
	20003: {"Unrecognised Sender", false, "fatal", "not-found"},
	20004: {"Non-Approved file type received as an attachment", false, "fatal", "security"},
	20005: {"Unsupported file type received as an attachment", false, "fatal", "security"},
	20006: {"ITK3 Header validation failure", false, "fatal", "invalid"},
	20007: {"Duplicate Message received", false, "fatal", "duplicate"},
	20008: {"Duplicate Document received", false, "fatal", "duplicate"},
	20009: {"Payload validation failure", false, "fatal", "invalid"},
	20010: {"Unrecognised Payload Recipient Organisation", false, "fatal", "not-found"},
	20011: {"Unrecognised Payload Recipient Person", false, "fatal", "not-found"},
	20012: {"Unauthorised Sender", false, "fatal", "security"},
	20013: {"Success", true, "information", "informational"},
	20014: {"Unable to Process Replacement Document", false, "fatal", "processing"},
	// 20015 has no row on the ITK3 mapping page; fatal/too-long is our choice.
	20015: {"Message too large", false, "fatal", "too-long"},

	30001: {"Patient known here. (e.g. Patient is registered here)", true, "information", "informational"},
	30002: {"Patient not known here. (aka 'patient record not present in system')", false, "fatal", "not-found"},
	30003: {"Patient no longer at this clinical setting", false, "fatal", "business-rule"},
	30004: {"Patient known here and recently deceased", true, "information", "informational"},
	30005: {"Referral open", true, "information", "informational"},
	30006: {"Referral completed", true, "information", "informational"},
	30007: {"Referral escalated back to GP", false, "warning", "informational"},
	30008: {"Signposting to GP (non-urgent)", true, "information", "informational"},
	30009: {"Clinical escalation to UTC/111/GPOOH", true, "information", "informational"},
	30010: {"Clinical escalation to A&E or 999", true, "information", "informational"},
	30011: {"Advised to go elsewhere/self-referral", true, "information", "informational"},
	30012: {"Unable to contact the patient", false, "warning", "informational"},
	30013: {"Closure (service not needed)", true, "information", "informational"},
	30014: {"Closure (service not accepted)", false, "information", "informational"},
	30015: {"Closure (duplicate referral)", false, "information", "duplicate"},
	30016: {"Referral accepted", true, "information", "informational"},
	30017: {"Referral rejected", false, "warning", "informational"},
	30018: {"Did Not Attend", false, "warning", "informational"},
	30019: {"GP Registration - Application accepted", true, "information", "informational"},
	30020: {"GP Registration - Application pending (contact practice)", false, "warning", "informational"},
	30021: {"GP Registration - Application rejected (patient already registered)", false, "warning", "informational"},
	30022: {"GP Registration - Application rejected (at capacity)", false, "warning", "informational"},
	30023: {"GP Registration - Application rejected (out of boundary)", false, "warning", "informational"},
	30024: {"GP Registration - Application rejected (Previously removed from this practice)", false, "warning", "informational"},
	30025: {"GP Registration - Application rejected (Previously removed from another practice)", false, "warning", "informational"},
}

// ResponseCodeSystem is the code system of ITK3 response codes.
const ResponseCodeSystem = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1"

// Codes returns every known response code in ascending order.
func Codes() []ResponseCode {
	var out []ResponseCode
	for c := ResponseCode(10001); c <= 30025; c++ {
		if _, ok := codeTable[c]; ok {
			out = append(out, c)
		}
	}
	return out
}

// ParseResponseCode reads a response code such as "20013".
func ParseResponseCode(s string) (ResponseCode, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("itk3: response code %q is not a number", s)
	}
	c := ResponseCode(n)
	if !c.Known() {
		return 0, fmt.Errorf("itk3: %d is not an ITK3 response code (want 10001–20015 or 30001–30025)", n)
	}
	return c, nil
}

// Known reports whether c is in the ITK3 2.10.0 code table.
func (c ResponseCode) Known() bool { _, ok := codeTable[c]; return ok }

// String returns the numeric code, e.g. "20013".
func (c ResponseCode) String() string { return strconv.Itoa(int(c)) }

// Display returns the ITK3 display text, or "" for an unknown code.
func (c ResponseCode) Display() string { return codeTable[c].display }

// Class says whether c is an infrastructure or business acknowledgement.
func (c ResponseCode) Class() Class {
	switch {
	case c >= 10001 && c <= 20015:
		return ClassInfAck
	case c >= 30001 && c <= 30025:
		return ClassBusAck
	}
	return ClassUnknown
}

// Positive reports whether c tells the sender the message was accepted
// (20013, and the positive business codes such as 30001 and 30004).
func (c ResponseCode) Positive() bool { return codeTable[c].positive }

// ResponseType is the MessageHeader.response.code for c: "ok" or "fatal-error".
func (c ResponseCode) ResponseType() string {
	if c.Positive() {
		return "ok"
	}
	return "fatal-error"
}

// Severity is the OperationOutcome.issue.severity ITK3 maps c to.
func (c ResponseCode) Severity() string {
	if i, ok := codeTable[c]; ok {
		return i.severity
	}
	return "fatal"
}

// IssueType is the OperationOutcome.issue.code ITK3 maps c to.
func (c ResponseCode) IssueType() string {
	if i, ok := codeTable[c]; ok {
		return i.issueType
	}
	return "processing"
}

// UnreadableIdentifier goes in response.identifier when the original
// MessageHeader.id could not be read.
const UnreadableIdentifier = "UNREADABLE-IN-ORIGINAL-MESSAGE"

// MessageHandlingURL is the URL of the ITK3 handling-specification extension.
const MessageHandlingURL = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2"

// Profiles, systems and URIs of ITK3 messages.
const (
	MessageBundleProfile      = "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1"
	MessageHeaderProfile      = "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2"
	HeaderOrganizationProfile = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Organization-1"
	ResponseOutcomeProfile    = "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Response-OperationOutcome-1"
	MessageEventSystem        = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2"
	RecipientTypeSystem       = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1"
	ODSSystem                 = "https://fhir.nhs.uk/Id/ods-organization-code"
	UUIDIdentifierSystem      = "https://tools.ietf.org/html/rfc4122"
	// SendDocumentDefinition is the MessageDefinition of Send Document v1.
	SendDocumentDefinition = "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1"
	// SendDocumentDefinitionV2 is the MessageDefinition URI used by v2 (and v1.0/1.1).
	SendDocumentDefinitionV2 = "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-Instance-1"
	// ResponseDefinition is ITK3's MessageDefinition of the response message.
	ResponseDefinition = "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-Response-MessageDefinition-1"
	// EventSendDocument and EventResponse are the MessageHeader.event codes.
	EventSendDocument = "ITK007C"
	EventResponse     = "ITK008M"
)
