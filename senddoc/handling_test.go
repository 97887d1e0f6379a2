package senddoc_test

import (
	"testing"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
)

// TestHandlingCodes: the response code follows what is wrong with a
// handling key (send-document.md §6.4, itk3.md §3.1): a readable false
// acknowledgement flag is a handling-specification business rule error
// (10008); a MessageDefinition naming another version of the Send
// Document definition 10005; an unknown one 10004.
func TestHandlingCodes(t *testing.T) {
	rows := []struct {
		name string
		uc   senddoc.UseCase
		key  string
		set  M
		code itk3.ResponseCode // 0: no error
	}{
		{"GPCM-SD-CS-045 InfAckRequested false 10008", cs, "InfAckRequested", M{"valueBoolean": false}, itk3.CodeHandlingSpecBusinessRule},
		{"GPCM-SD-CS-044 BusAckRequested false 10008", cs, "BusAckRequested", M{"valueBoolean": false}, itk3.CodeHandlingSpecBusinessRule},
		{"GPCM-SD-OC-144 InfAckRequested false 10008", oc, "InfAckRequested", M{"valueBoolean": false}, itk3.CodeHandlingSpecBusinessRule},
		{"GPCM-SD-GE-270 BusAckRequested false 10008", ge, "BusAckRequested", M{"valueBoolean": false}, itk3.CodeHandlingSpecBusinessRule},
		{"GPCM-SD-CS-045 InfAckRequested not a boolean 10002", cs, "InfAckRequested", M{"valueString": "true"}, itk3.CodeInfAckValueError},
		{"GPCM-SD-CS-044 BusAckRequested not a boolean 10003", cs, "BusAckRequested", M{"valueString": "yes"}, itk3.CodeBusAckValueError},
		{"GPCM-SD-CS-047 MessageDefinition version 2 10005", cs, "MessageDefinition",
			M{"valueReference": M{"reference": "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-2"}}, itk3.CodeMessageDefinitionVersion},
		{"GPCM-SD-GE-273 MessageDefinition version Instance-2 10005", ge, "MessageDefinition",
			M{"valueReference": M{"reference": "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-Instance-2"}}, itk3.CodeMessageDefinitionVersion},
		{"GPCM-SD-CS-047 unknown MessageDefinition 10004", cs, "MessageDefinition",
			M{"valueReference": M{"reference": "https://example.org/MessageDefinition/Other"}}, itk3.CodeMessageDefinitionError},
		{"GPCM-SD-CS-047 canonical with a version accepted", cs, "MessageDefinition",
			M{"valueReference": M{"reference": itk3.SendDocumentDefinition + "|1.0.0"}}, 0},
		{"GPCM-SD-CS-046 SenderReference None 10007", cs, "SenderReference", M{"valueString": "None"}, itk3.CodeSenderReferenceError},
		{"GPCM-SD-CS-043 RecipientType FI for a consultation summary 10010", cs, "RecipientType",
			M{"valueCoding": M{"system": itk3.RecipientTypeSystem, "code": "FI"}}, itk3.CodeRecipientTypeError},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			m, _ := newMsg(t, r.uc, 1)
			h := m.handling(r.key)
			for k := range h {
				if k != "url" {
					delete(h, k)
				}
			}
			for k, v := range r.set {
				h[k] = v
			}
			rep := m.validate(t, senddoc.Options{})
			want := r.code
			if want == 0 {
				want = itk3.CodeSuccess
			}
			if rep.ResponseCode != want {
				t.Fatalf("response code %s, want %s (errors %v)", rep.ResponseCode, want, errorsOf(rep))
			}
			if r.code != 0 {
				id := idOf(r.name)
				fs := findingsFor(rep, id)
				if len(fs) == 0 || fs[0].Code != r.code {
					t.Errorf("findings for %s: %v, want one with code %s", id, fs, r.code)
				}
			}
		})
	}
}

// TestHandlingSpecMissing: a message without the MessageHandling extension
// gets the generic handling-specification code 10001 (ITK3 RC-HS-01).
func TestHandlingSpecMissing(t *testing.T) {
	m, _ := newMsg(t, cs, 1)
	delete(m.header(), "extension")
	rep := m.validate(t, senddoc.Options{})
	if rep.ResponseCode != itk3.CodeHandlingSpecError || len(findingsFor(rep, "GPCM-SD-CS-048")) == 0 {
		t.Fatalf("response code %s, want 10001 with a GPCM-SD-CS-048 finding (errors %v)", rep.ResponseCode, errorsOf(rep))
	}
}
