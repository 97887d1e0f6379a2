package senddoc

// Systems, profiles and fixed values used by Send Document messages.
const (
	snomedSystem       = "http://snomed.info/sct"
	nhsNumberSystem    = "https://fhir.nhs.uk/Id/nhs-number"
	odsSystem          = "https://fhir.nhs.uk/Id/ods-organization-code"
	sdsUserSystem      = "https://fhir.nhs.uk/Id/sds-user-id"
	uuidIdentSystem    = "https://tools.ietf.org/html/rfc4122"
	nhsVerifExtURL     = "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1"
	nhsVerifSystem     = "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1"
	careSettingExtURL  = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-CareSettingType-1"
	confidentialitySys = "http://hl7.org/fhir/v3/Confidentiality"
	listOrderSystem    = "http://hl7.org/fhir/list-order"
	miscRecordCode     = "826501000000100"
	miscRecordDisplay  = "Miscellaneous record"
	profDocumentBundle = "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Document-Bundle-1"
	profBinary         = "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Attachment-Binary-1"
	profDevice         = "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Device-1"
	careConnectPrefix  = "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-"
	profComposition    = careConnectPrefix + "Composition-1"
	profPatient        = careConnectPrefix + "Patient-1"
	profOrganization   = careConnectPrefix + "Organization-1"
	profPractitioner   = careConnectPrefix + "Practitioner-1"
	profEncounter      = careConnectPrefix + "Encounter-1"
	profRelatedPerson  = careConnectPrefix + "RelatedPerson-1"
	localExtCS         = "SendDocument-ConsultationReport"
	localExtCSExamples = "SendDocument-ConsultationSummary"
	localExtOC         = "SendDocument-OnlineConsultationReport"
	localExtGE         = "SendDocument-Generic"
	localExtPR         = "SendDocument-PatientRegistration"
	summaryReasonText  = "A patient recently consulted with a clinician at an organisation different to the GP practice that they are registered with. The notes contained in this document are a summary of the consultation."
)

// careConnectProfile returns the CareConnect profile URL expected for a
// resource type inside the document bundle ("" when none is fixed).
func careConnectProfile(resourceType string) string {
	switch resourceType {
	case "Binary":
		return profBinary
	case "Device":
		return profDevice
	case "Bundle":
		return profDocumentBundle
	case "Condition":
		return careConnectPrefix + "ProblemHeader-Condition-1"
	}
	return careConnectPrefix + resourceType + "-1"
}
