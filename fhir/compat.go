package fhir

// Names used before backbone types were named after their FHIR path.

// Deprecated: use MessageHeaderSource (FHIR MessageHeader.source).
type MessageHeaderMessageSource = MessageHeaderSource

// Deprecated: use MessageHeaderDestination (FHIR MessageHeader.destination).
type MessageHeaderMessageDestination = MessageHeaderDestination
