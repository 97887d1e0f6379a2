// Package updaterecord builds and validates GP Connect Update Record (ITK3)
// messages: structured consultation summaries that a community pharmacy
// sends to the patient's registered GP practice over MESH (ITK3 event
// ITK014M, workflows GPCONNECT_UPDATE_RECORD and GPCONNECT_UPDATE_RECORD_ACK)
// for four services: Pharmacy First, the Blood Pressure Check, Pharmacy
// Contraception and the urgent supply of prescription items.
//
// # Building
//
// [Build] turns an [Input] (plain Go values, or JSON read with [ReadInput];
// [Example] returns a complete one per use case) into an ITK3 message
// ([Built]): a document Bundle of GP Connect profiles only (Composition,
// Encounter, the pharmacy Organization, Practitioner and PractitionerRole,
// Patient, Observations with blood-pressure triplets and UCUM units,
// MedicationDispenses, Conditions and the PRSB headings as
// ClinicalImpressions, each tagged from RecordStandardHeadings), the
// service code in Composition.type and Encounter.reason, and the MESH
// values that go with it (a senddoc.Envelope: workflow, the patient's
// GPPROVIDER_ address, subject, local ID; [Built.ControlFile] writes the
// .ctl with the update's version).
//
// # Validating
//
// [Validate] reads an Update Record message, an ITK3 response to one, or a
// single payload resource as FHIR STU3 XML or JSON (sniffed) and returns a
// [Report]. Each [Finding] (the type package senddoc uses) names the
// statement it breaks: a label of the Update Record digest (UR-B05,
// UR-D04, …; the guide has no requirement IDs of its own) or a Rule…
// identifier, with its severity, FHIR path, message and the ITK3 code a
// receiver answers it with. [Report.ResponseCode] is that answer: 20013
// when conformant; 20009 for any resource or profile outside iteration 1
// (the whole message is rejected); 20010 when [Options.Disabled] says the
// practice has Update Record switched off; the handling-specification
// codes (10001…10010) as itk3.CheckHandling gives them, exactly as for Send
// Document; 10009 (20015 when too large) for input that is not FHIR.
//
// The official examples are not production-grade (digest §11): the
// validator reads them, reports each listed defect as a warning or note
// (an error only for the invalid NHS number, a warning with
// [Options.AllowTestNHSNumbers]) and accepts them.
//
// # Reading
//
// [Read] (or [ReadMessage] over bytes) summarises a decoded message, or its
// document Bundle alone, into what a GP reads at a glance ([Summary]):
// the service, when and by whom the patient was seen at which pharmacy,
// the free-text PRSB headings, each Observation with its value, UCUM unit
// and the sender's interpretation as a flag (blood pressures as a
// systolic/diastolic pair; no flag is derived from a value, the guide
// names no threshold), the medicines supplied with dosage and quantity,
// the presenting complaints, and the replacement link. [Summary.View] lays
// it out as a [docview.View], the capability-neutral model the web UI
// renders; [WriteDocumentJSON] writes the document Bundle as canonical
// FHIR JSON for a GP system to ingest. Read is liberal: it never
// validates, takes what it finds and leaves out what is missing.
// [DemoInputs] gives a few realistic inputs per patient for demonstrations.
//
// [Requirements] lists every UR label with its level, severity and code;
// [Implemented] says which the validator checks.
package updaterecord
