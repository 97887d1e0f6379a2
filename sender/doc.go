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
// acknowledgement, MESH REPORT, rejection) and overdue (an acknowledgement
// missed its deadline). Every change is recorded as an Event with its time.
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
// # Storage and MESH
//
// The package declares the Store it needs (package sqlitestore implements it)
// and the few MESH calls it makes (Mesh, satisfied by *mesh.Client).
package sender
