// Package itk3 reads and writes the NHS ITK3 FHIR messaging envelope (the
// message Bundle whose first entry is a MessageHeader carrying the
// MessageHandling extension) and builds the ITK3 response message (event
// ITK008M) for every infrastructure and business acknowledgement code.
//
// The response code enum (ResponseCode) carries, for each code, its display
// text, whether it is an infrastructure (InfAck, 10001–20015) or business
// (BusAck, 30001–30025) acknowledgement, whether it is positive, and the
// MessageHeader.response.code / OperationOutcome severity and issue type that
// ITK3 maps it to.
//
// A response always points at the original MessageHeader.id (never the Bundle
// id); when that cannot be read it carries UnreadableIdentifier.
package itk3
