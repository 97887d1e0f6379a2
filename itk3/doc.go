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
// CheckHandling checks the handling specification of a received message
// against what its payload specification asks (HandlingRules) and gives
// each breach the ITK3 code a receiver answers it with (10001, 10002,
// 10003, 10004, 10007, 10010), so every capability answers handling faults
// alike.
//
// A response always points at the original MessageHeader.id (never the Bundle
// id); when that cannot be read it carries UnreadableIdentifier.
package itk3
