// Package sender is gpcm's durable outbox for Send Document reports: it
// validates a report before anything leaves, stores it under an idempotency
// key, sends it over MESH without ever creating a duplicate, reconciles the
// ITK3 acknowledgements and MESH REPORTs that come back, and alerts a person
// when a report fails or an acknowledgement does not arrive in time.
//
// # States
//
// A Transmission moves through
//
//	queued → sent → delivered → infack → complete
//
// with the side branches send_unknown (the first MESH POST failed ambiguously;
// the outbox is checked before anything is sent again), failed (negative
// acknowledgement, MESH REPORT, rejection), overdue (an acknowledgement
// missed its deadline), superseded (a newer version replaced it before it
// was sent) and cancelled (a person withdrew it). Every change is recorded
// as an Event with its time.
//
// # Edit window
//
// A consultation report is sent within 3 hours of the consultation's
// creation or last update, and only its latest version
// (GPCM-SD-CS-075/076); the process map has the sender wait (3 hours by
// default, configurable) so that edits collapse into one report. So a
// consultation report waits in queued until Submission.EditedAt (default:
// the submission) + Config.EditWindow (Transmission.HoldUntil); a newer
// version of the same consultation (same SenderReference, patient, sender
// and recipient) submitted meanwhile moves the waiting one to superseded in
// the transaction that stores it, and an older version than one queued or
// sent is refused (*StaleError). SendNow and Cancel release or withdraw a
// waiting report. One that goes after EditedAt + Config.SendWindow (3
// hours) is still sent, with an alert. Online consultation and generic
// reports are sent at once.
//
// # Deadlines
//
// The specification gives no number: GPCM-SD-045 asks for an alert when an
// acknowledgement does not arrive within a "reasonable timeframe" chosen by
// the supplier (itk3.md §5.3). Our defaults are 4 hours for the
// infrastructure acknowledgement (a receiver sends it straight after
// technical validation) and 3 days for the business acknowledgement (it needs
// a person at the practice; MESH itself gives up on an uncollected message
// after 5 days). Both are Config fields.
//
// # No duplicates
//
// Each attempt is recorded (attempt number, Mex-FileName "<id>-<n>.xml")
// before its POST. Mex-LocalID carries the sender ODS code as the
// specification requires (GPCM-SD-CS-080), so it cannot identify a message:
// after an ambiguous failure, or a restart that finds an attempt without an
// outcome, the transmission waits in send_unknown and the MESH outbox (rich
// outbox + tracking) is searched for that attempt's file name before
// anything is sent again.
//
// # Inbox
//
// PollInbox takes only ITK3 responses (workflow …_ACK) and REPORTs; other
// messages in the mailbox are left for their owners. A response is matched
// as itk3.md §5.2 says (MessageHeader.id, then Bundle id/identifier, then
// SenderReference), a REPORT by its linked message ID. The outcome, its
// event, any alert and the inbox record commit together, and only then is
// the message acknowledged on MESH.
//
// # Alerts
//
// A failure or a missed deadline creates exactly one Alert per reason and
// transmission (a unique index), visible in the API and handed at least once
// to the Hook (CommandHook or WebhookHook). FileDrop adds the MESH client's
// .ctl/.dat folder interface for legacy systems.
//
// # Storage and MESH
//
// The package declares the Store it needs (package sqlitestore implements it)
// and the few MESH calls it makes (Mesh, satisfied by *mesh.Client).
package sender
