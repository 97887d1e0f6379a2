// Package senddoc builds and validates GP Connect Messaging Send Document
// messages (ITK3 event ITK007C) for both generations: v1.x (MESH workflow
// GPFED_CONSULT_REPORT; consultation summary, online consultation, generic and
// draft patient registration use cases) and v2 (GPCONNECT_SEND_DOCUMENT, the
// document type given by its SNOMED code).
//
// Build turns an Input (plain Go values, or JSON) into an ITK3 message and the
// MESH envelope values that go with it. Validate reads a message as FHIR XML
// or JSON and reports every finding with the requirement it breaks (a
// GPCM-SD-… ID from the release 1.5.2 catalogues, or an ITK3/FHIR rule), its
// severity, the FHIR path, a plain-English message and the ITK3 response code a
// receiver would answer with. Requirements lists the inventory of machine
// checkable requirements; LoadCatalogue reads the official YAML catalogues.
package senddoc
