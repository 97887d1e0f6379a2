module github.com/gpcm/gpcm/fhir/internal/fhirgen

go 1.26

require github.com/google/fhir/go v0.7.4

require (
	github.com/golang/protobuf v1.4.3 // indirect
	google.golang.org/protobuf v1.25.0 // indirect
)
