package senddoc

import (
	"strings"

	"github.com/gpcm/gpcm/itk3"
)

// sendDocumentDefinitionBase is the Send Document MessageDefinition URI
// without its version suffix ("1", "Instance-1").
const sendDocumentDefinitionBase = "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-"

// knownDefinition reports whether md is a supported Send Document
// MessageDefinition, also as a canonical "url|version".
func knownDefinition(md string) bool {
	url, _, _ := strings.Cut(md, "|")
	return url == itk3.SendDocumentDefinition || url == itk3.SendDocumentDefinitionV2
}

// otherDefinitionVersion reports whether md names the Send Document
// MessageDefinition in a version other than the supported ones (its URI
// ends in another version suffix).
func otherDefinitionVersion(md string) bool {
	url, _, _ := strings.Cut(md, "|")
	return strings.HasPrefix(url, sendDocumentDefinitionBase) && !knownDefinition(md)
}
