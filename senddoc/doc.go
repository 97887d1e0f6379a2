// Package senddoc builds and validates GP Connect Messaging Send Document
// messages (ITK3 event ITK007C) for both generations: v1.x (MESH workflow
// GPFED_CONSULT_REPORT; consultation summary, online consultation, generic and
// the draft patient registration use cases) and v2 (GPCONNECT_SEND_DOCUMENT,
// the document type given by its SNOMED code).
//
// # Building
//
// [Build] turns an [Input] (plain Go values, or JSON read with [ReadInput];
// [Example] returns a complete one) into an ITK3 message ([Built]) and the
// MESH values that go with it ([Envelope]: workflow, Mex-To
// GPPROVIDER_{NHS}_{YYYYMMDD}_{surname}, Mex-Subject per the use case's
// template, Mex-LocalID = the sender's ODS code; [Envelope.ControlFile]
// writes the MESH client .ctl). The PDF comes from the input or from
// [BuildOptions.RenderPDF].
//
// # Validating
//
// [Validate] reads one message as FHIR STU3 XML or JSON (sniffed) through
// package fhir and returns a [Report]: every [Finding] names the requirement
// it breaks (a GPCM-… ID of the release 1.5.2 catalogues, or one of the Rule*
// identifiers for FHIR, bundle, binding, ITK3 and MESH-address rules), its severity,
// the FHIR path, a plain-English message and the ITK3 response code a
// receiver answers with. [Report.ResponseCode] is the code the receiver sends
// (20013 when conformant; the most specific negative code otherwise; 10009
// with [ErrUnreadable] when the input is not a FHIR message). [Options.Mesh]
// adds the MESH requirements (from Mex-* headers or a .ctl read with
// [ReadControlFile]); [Options.Original] checks a response against the
// message it answers. ITK3 responses (ITK008M) are validated too.
//
// [InfAck] and [BusAck] build the ITK3 responses to a validated message.
//
// # Requirement IDs and catalogue versions
//
// Release 1.3 (and the v2 guide, which kept its numbering), release 1.5.2
// and v2 reuse numbers for different requirements: GPCM-SD-042 is the
// SenderReference rule in v1.3 and v2 but the diagnostics rule in 1.5.2.
// So findings and acknowledgement diagnostics qualify every ID by its
// catalogue version ([Finding.Cite]): a v1 message's by the 1.5.2 ID and
// the v1.3 number of the same requirement ("1.5.2:GPCM-SD-CS-046
// (v1.3:GPCM-SD-042)"), a v2 message's by the number its guide uses first
// ("v2:GPCM-SD-042 (1.5.2:GPCM-SD-CS-046)"). [FromV13], [ToV13] and
// [V13Mapping] give the mapping of all 93 v1.3 IDs. The generation is the
// MESH workflow's (GPFED_CONSULT_REPORT: v1; GPCONNECT_SEND_DOCUMENT: v2),
// as the digest's §6.3 says; only without a workflow is the
// MessageDefinition URI taken as a hint ([Report.GenerationFrom]).
//
// # Requirements
//
// [Requirements] is the inventory of the requirements the digest marks
// machine checkable (fully or partly), with severity and ITK3 code;
// [Implemented] says which the validator checks; [LoadCatalogue] reads the
// official YAML catalogues. testdata/coverage.txt lists the coverage.
package senddoc
