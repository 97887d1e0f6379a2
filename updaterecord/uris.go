package updaterecord

// MESH workflow IDs, the ITK3 event and the fixed handling values of Update
// Record (digest §0.3, §3.4, §5.1).
const (
	Workflow    = "GPCONNECT_UPDATE_RECORD"
	WorkflowAck = "GPCONNECT_UPDATE_RECORD_ACK"
	// Event is MessageHeader.event of an Update Record message.
	Event        = "ITK014M"
	EventDisplay = "ITK Update Record"
	// MessageDefinition is the placeholder the guide asks for: no Update
	// Record MessageDefinition exists.
	MessageDefinition = "https://fhir.nhs.uk/MessageDefinition"
	LocalExtension    = "None"
)

// Profiles of an Update Record message (digest §3.1, §3.2).
const (
	gpcPrefix             = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-"
	ProfileDocumentBundle = "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Document-Bundle-1"
	// ProfileComposition is the CareConnect (fhir.hl7.org.uk) Composition,
	// not CareConnect-GPC-Composition-1, which forbids relatesTo (§11.2).
	ProfileComposition        = "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Composition-1"
	ProfilePatient            = gpcPrefix + "Patient-1"
	ProfileOrganization       = gpcPrefix + "Organization-1"
	ProfilePractitioner       = gpcPrefix + "Practitioner-1"
	ProfilePractitionerRole   = gpcPrefix + "PractitionerRole-1"
	ProfileEncounter          = gpcPrefix + "Encounter-1"
	ProfileObservation        = gpcPrefix + "Observation-1"
	ProfileClinicalImpression = gpcPrefix + "ClinicalImpression-1"
	ProfileCondition          = gpcPrefix + "Condition-1"
	ProfileMedicationDispense = gpcPrefix + "MedicationDispense-1"
)

// Code and identifier systems (digest §3.5).
const (
	snomedSystem           = "http://snomed.info/sct"
	ucumSystem             = "http://unitsofmeasure.org"
	dmdSystem              = "https://dmd.nhs.uk"
	nhsNumberSystem        = "https://fhir.nhs.uk/Id/nhs-number"
	odsSystem              = "https://fhir.nhs.uk/Id/ods-organization-code"
	sdsUserSystem          = "https://fhir.nhs.uk/Id/sds-user-id"
	gphcSystem             = "https://fhir.hl7.org.uk/Id/gphc-number"
	nhsVerifExtURL         = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-NHSNumberVerificationStatus-1"
	nhsVerifSystem         = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1"
	participantTypeSystem  = "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-ParticipantType-1"
	jobRoleSystem          = "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1"
	jobRoleSystemPackage   = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1"
	HeadingSystem          = "https://fhir.nhs.uk/CodeSystem/RecordStandardHeadings"
	headingSystemUKCore    = "https://fhir.hl7.org.uk/CodeSystem/UKCore-RecordStandardHeadings"
	categorySystem         = "http://hl7.org/fhir/observation-category"
	categorySystemR4       = "http://terminology.hl7.org/CodeSystem/observation-category"
	dispenseCategorySystem = "http://hl7.org/fhir/medication-dispense-category"
	supplyTypeSystem       = "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-MedicationSupplyType-1"
	interpretationSystem   = "http://hl7.org/fhir/v2/0078"
	interpretationSystemR4 = "http://terminology.hl7.org/CodeSystem/v2-0078"
	interpretationSystemCC = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-ObservationInterpretation-1"
	confidentialitySystem  = "http://hl7.org/fhir/v3/Confidentiality"
	uuidIdentSystem        = "https://tools.ietf.org/html/rfc4122"
)

// Recognise reports whether a message belongs to Update Record: by its MESH
// workflow when that is known (GPCONNECT_UPDATE_RECORD for messages,
// GPCONNECT_UPDATE_RECORD_ACK for the responses to them), otherwise by
// MessageHeader.event ITK014M. An ITK014M that travels on another workflow
// stays with that workflow's capability (Send Document 2.0.1's example
// carried ITK014M by mistake, digest §9).
func Recognise(workflowID, event string) bool {
	switch workflowID {
	case Workflow, WorkflowAck:
		return true
	case "":
		return event == Event
	}
	return false
}
