package receiver_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

// TestAuditConfidentialDisplay: the receiver reads Composition.confidentiality;
// a confidential (R) v1 report whose MESH subject still says where the
// patient was seen is filed, and its worklist subject says neither where
// nor the ODS code (1.5.2:GPCM-SD-CS-030); one whose narrative says it is
// refused 20009 (1.5.2:GPCM-SD-CS-023) (issue 20 item 3).
func TestAuditConfidentialDisplay(t *testing.T) {
	leaky := "Consultation report for Richard Smith, NHS Number 9434765919, seen at Leeds Urgent Care Centre, ODS Code X26, Version 1"
	tests := []struct {
		name         string
		confidential bool // build it confidential (clean narrative)
		markR        bool // then mark the Composition R
		want         []itk3.ResponseCode
		wantSubject  string // the worklist subject ("" = not filed)
	}{
		{"1.5.2:GPCM-SD-CS-030 R report with a subject that says where", true, true,
			[]itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}, "Consultation report for Richard Smith, NHS Number 9434765919, Version 1"},
		{"1.5.2:GPCM-SD-CS-023 R report with a narrative that says where", false, true,
			[]itk3.ResponseCode{itk3.CodePayloadValidationFailure}, ""},
		{"1.5.2:GPCM-SD-CS-030 not confidential: the subject as sent", false, false,
			[]itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}, leaky},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t, nil)
			in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
			in.Confidential = tt.confidential
			e.register(t, regOf(in))
			b := mustBuild(t, in)
			if tt.markR {
				for _, x := range b.Message.Bundle.Entry {
					if doc, ok := x.Resource.(*fhir.Bundle); ok {
						doc.Entry[0].Resource.(*fhir.Composition).Confidentiality = fhir.NewCode("R")
					}
				}
			}
			meshID := e.send(t, mustXML(t, b), b.Envelope.WorkflowID, leaky)
			e.run(t)
			e.readAcks(t)
			if got := e.codes(b.HeaderID); !slices.Equal(got, tt.want) {
				t.Fatalf("acks: got %v, want %v", got, tt.want)
			}
			docs, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantSubject == "" {
				if len(docs) != 0 {
					t.Fatalf("got %d documents, want none", len(docs))
				}
				return
			}
			if len(docs) != 1 || docs[0].Subject != tt.wantSubject {
				t.Fatalf("worklist subject: got %+v, want %q", docs, tt.wantSubject)
			}
			if tt.markR && (strings.Contains(docs[0].Subject, "seen at") || strings.Contains(docs[0].Subject, "X26")) {
				t.Fatalf("worklist subject %q says where the patient was seen", docs[0].Subject)
			}
			m, err := e.store.GetMessageByMeshID(t.Context(), meshID)
			if err != nil || m.Subject != leaky {
				t.Fatalf("the message keeps the subject as received: got %q, %v", m.Subject, err)
			}
		})
	}
}
