package receiver_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

var exampleFiles = []string{
	"consultation_report.xml",
	"oc_consultation_report.xml",
	"oc_consultation_report_klinik.xml",
	"oc_consultation_report_consent.xml",
}

// exampleMessage reads an official example and the facts the test needs.
func exampleMessage(tb testing.TB, name string) (body []byte, headerID string, p receiver.Patient) {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("..", "testdata", "examples", name))
	if err != nil {
		tb.Fatal(err)
	}
	res, _, err := fhir.DecodeXML(bytes.NewReader(body), nil)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range res.(*fhir.Bundle).Entry {
		switch r := e.Resource.(type) {
		case *fhir.MessageHeader:
			headerID = r.ID.String()
		case *fhir.Bundle:
			for _, de := range r.Entry {
				pt, ok := de.Resource.(*fhir.Patient)
				if !ok || p.NHSNumber != "" {
					continue
				}
				for _, id := range pt.Identifier {
					if id.System.String() == "https://fhir.nhs.uk/Id/nhs-number" {
						p.NHSNumber = id.Value.String()
					}
				}
				p.BirthDate = pt.BirthDate.String()
				p.Family = pt.Name[0].Family.String()
				var gs []string
				for _, g := range pt.Name[0].Given {
					gs = append(gs, g.String())
				}
				p.Given = strings.Join(gs, " ")
				p.Status = receiver.StatusRegistered
			}
		}
	}
	return body, headerID, p
}

// TestOfficialExamples sends each official example. The examples break
// some payload rules (send-document.md §7), so a strict receiver answers
// 20009 (GPCM-SD-041) and a repeated MessageHeader.id 20007; with AcceptUsable they are filed with their
// findings and answered 20013 + 30001. The examples come in pairs sharing
// MessageHeader.id and Bundle.identifier (consultation_report and
// oc_consultation_report; klinik and consent), so the second of each pair
// is a duplicate message (20007) and is not filed.
func TestOfficialExamples(t *testing.T) {
	for _, lenient := range []bool{false, true} {
		name := "GPCM-SD-041 strict"
		if lenient {
			name = "accept usable"
		}
		t.Run(name, func(t *testing.T) {
			e := MustEnv(t, func(c *receiver.Config) { c.AllowTestNHSNumbers, c.AcceptUsable = true, lenient })
			want := map[string][]itk3.ResponseCode{}
			for _, f := range exampleFiles {
				body, hdr, p := exampleMessage(t, f)
				e.register(t, p)
				subject := "Consultation report for "
				if strings.HasPrefix(f, "oc_") {
					subject = "Online consultation report for "
				}
				subject += p.Given + " " + p.Family + ", NHS Number " + p.NHSNumber
				if _, err := e.exampleSender.Send(t.Context(), mesh.SendRequest{To: practiceMailbox, WorkflowID: senddoc.WorkflowV1,
					Subject: subject, LocalID: "GP0001", Body: bytes.NewReader(body), Size: int64(len(body))}); err != nil {
					t.Fatal(err)
				}
				switch {
				case want[hdr] != nil:
					want[hdr] = append(want[hdr], itk3.CodeDuplicateMessage)
				case !lenient:
					want[hdr] = []itk3.ResponseCode{itk3.CodePayloadValidationFailure}
				default:
					want[hdr] = []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}
				}
			}
			e.run(t)
			e.readAcks(t)
			for hdr, w := range want {
				slices.Sort(w)
				got := e.codes(hdr)
				slices.Sort(got)
				if !slices.Equal(got, w) {
					t.Errorf("acks for %s: got %v, want %v", hdr, got, w)
				}
			}
			docs, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{})
			if err != nil {
				t.Fatal(err)
			}
			wantDocs := 0
			if lenient {
				wantDocs = 2 // two pairs of examples share their MessageHeader.id
			}
			if len(docs) != wantDocs {
				t.Fatalf("documents: got %d, want %d", len(docs), wantDocs)
			}
			for _, d := range docs {
				if d.State != receiver.DocAwaitingFiling || len(d.Findings) == 0 || len(d.Attachments) == 0 {
					t.Errorf("document %d: state %s, %d findings, %d attachments", d.ID, d.State, len(d.Findings), len(d.Attachments))
				}
				for _, a := range d.Attachments {
					_, rc, err := e.rcv.OpenAttachment(t.Context(), d.ID, a.Index)
					if err != nil {
						t.Fatal(err)
					}
					rc.Close()
				}
			}
		})
	}
}
