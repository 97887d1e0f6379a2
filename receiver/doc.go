// Package receiver is gpcm's Generic FHIR Receiver: it collects GP Connect
// messages from a practice's MESH mailbox, acknowledges them the way ITK3
// and their capability require, matches the patient against the practice
// register and puts every document in a worklist where a person files it.
//
// # Capabilities
//
// Each MESH workflow belongs to one capability (capability.go): Send
// Document (GPFED_CONSULT_REPORT, GPCONNECT_SEND_DOCUMENT; a PDF or other
// attachment) and GP Connect Update Record (GPCONNECT_UPDATE_RECORD; a
// community pharmacy's structured consultation summary, validated by
// package updaterecord, answered on GPCONNECT_UPDATE_RECORD_ACK, never
// filed without review unless Config.UpdateRecord says auto-file, answered
// 20010 when it says off). A capability decides one message's
// infrastructure response and worklist item and reads its structured
// content for staff (Receiver.DocumentContent: a docview.View and the
// document Bundle as FHIR JSON); the pipeline below is shared, with the
// same guarantees for every capability. Adding one is one file here over
// its protocol package.
//
// # Pipeline
//
// Each step is recorded in the Store before the next one starts, so a crash
// at any point repeats at most the interrupted step and never loses or
// doubles a document:
//
//  1. Collect: list the inbox for every capability's workflows
//     (GPFED_CONSULT_REPORT, GPCONNECT_SEND_DOCUMENT,
//     GPCONNECT_UPDATE_RECORD), following every page; other workflows and
//     REPORT messages are left for other handlers.
//  2. Download each message (Config.Workers at once), store its MESH
//     metadata in the Store with its payload (up to Config.InlineMax; a
//     larger payload goes to the blob store first), one transaction per
//     Config.Batch messages in arrival order, and only then acknowledge it
//     on MESH. A page's known MESH ids are looked up in one query.
//  3. Process a claimed batch (claimed with a lease, UPDATE … RETURNING,
//     so several processes can share one database; an expired lease is
//     taken over). The messages are decided in parallel, each within
//     Config.ProcessBudget (over it twice: 10009), then their
//     outcomes are recorded in arrival order in one transaction
//     (Store.CompleteMessages), so that an original is in the worklist
//     before its replacement or repeat is judged, exactly as one at a
//     time: when the store finds an item a repeat or its replacement
//     target unknown, the items before it commit and that item is decided
//     again. A message still being decided after a moment does not hold
//     up other senders' messages behind it (schedule.go). Deciding means: validate with the capability's package (senddoc, updaterecord), choose the infrastructure response
//     (20013, or the most specific negative code with the findings in
//     OperationOutcome.issue.diagnostics, GPCM-SD-041/042; 10009 with
//     response.identifier UNREADABLE-IN-ORIGINAL-MESSAGE when the message
//     cannot be read), match the patient (package patient) and choose the
//     business response per Send Document §6.4: 30001 registered, 30004
//     recently deceased, 30002 not known, 30003 left. A demographics
//     mismatch is held for review until Config.HoldFor has passed: matched
//     by hand → 30001 (30004), rejected or deadline → 30002.
//     The outcome, the document record, the duplicate keys and the acks
//     commit in one transaction. A MessageHeader.id or Bundle.identifier
//     seen before gives 20007, a Composition.identifier seen before 20008;
//     neither is filed. A replacement (Composition.relatesTo code
//     "replaces") archives the document it names, found by Composition,
//     document Bundle or message Bundle identifier among the documents of
//     the same sending organisation for the same patient, once the
//     replacement is in the workflow; any other target gives 20014, and
//     a document of that sender with that identifier becomes void
//     (GPCM-SD-033/034).
//  4. Send acks: the outbox is claimed like messages; each ack goes to the
//     original sender's mailbox with the _ACK workflow of the message's
//     generation, the InfAck before the BusAck, Config.Workers at once,
//     and is marked sent (a batch in one transaction) after MESH accepted
//     it. A message gets at most one InfAck and one BusAck
//     (a unique key per message and kind); every negative code is final.
//
// Receiver.RunOnce runs the three stages overlapped, each in a goroutine it
// waits for: processing starts as soon as the first part of a page is
// stored, sending as soon as the first outcomes are recorded.
//
// # Worklist
//
// Documents have a state: awaiting_filing, filed, held_for_review,
// not_filed (patient not known or left), rejected, replaced and void. Each shows
// the MESH subject, the document type label, For Action / For Information
// and its attachments (decoded from the stored message when opened, so the
// payload is kept once). The HTTP API (api.go, documented in API.md) lists,
// files, rejects and matches documents and imports the register.
//
// # Logging
//
// Logs carry message and document IDs only: never NHS numbers, names,
// MESH subjects or payloads.
package receiver
