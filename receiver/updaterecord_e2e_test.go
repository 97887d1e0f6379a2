package receiver_test

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/docview"
	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/updaterecord"
)

// urInput is the example update of a use case for a new patient, sent
// from the sender mailbox; registered puts the patient on the practice
// register.
func urInput(t *testing.T, e *env, rng *rand.Rand, uc updaterecord.UseCase, registered bool) updaterecord.Input {
	t.Helper()
	in := updaterecord.Example(uc)
	in.SenderMailbox = senderMailbox
	in.Patient.NHSNumber = patient.GenerateTestNHSNumber(rng)
	in.Consultation.ID = itk3.NewUUID()
	if registered {
		given := ""
		if len(in.Patient.Given) > 0 {
			given = in.Patient.Given[0]
		}
		e.register(t, receiver.Patient{NHSNumber: in.Patient.NHSNumber, BirthDate: in.Patient.BirthDate, Family: in.Patient.Family,
			Given: given, Status: receiver.StatusRegistered})
	}
	return in
}

func urBuild(t *testing.T, e *env, in updaterecord.Input) *updaterecord.Built {
	t.Helper()
	b, err := updaterecord.Build(in, updaterecord.BuildOptions{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// urSend sends a built update (its XML, or x when given) on its envelope's
// workflow with its subject and local ID.
func urSend(t *testing.T, e *env, b *updaterecord.Built, x []byte) string {
	t.Helper()
	if x == nil {
		var err error
		if x, err = b.XML(); err != nil {
			t.Fatal(err)
		}
	}
	return e.send(t, x, b.Envelope.WorkflowID, b.Envelope.Subject)
}

// urSent is one update a row of TestUpdateRecordEndToEnd sent.
type urSent struct {
	built  *updaterecord.Built
	meshID string
}

type urRow struct {
	name string // names the digest labels the row checks
	send func(t *testing.T, e *env, rng *rand.Rand, prev map[string]urSent) urSent
	want []itk3.ResponseCode
	// state is the worklist state of the update's document ("" for none).
	state receiver.DocumentState
	check func(t *testing.T, e *env, s urSent, prev map[string]urSent)
}

// urRows are sent in order to a receiver whose practice reviews updates
// (the default).
func urRows() []urRow {
	var rows []urRow
	for _, uc := range updaterecord.UseCases() {
		rows = append(rows, urRow{
			name: "UR-F05 " + string(uc) + " for a registered patient: 20013, 30001, waits for review",
			send: func(t *testing.T, e *env, rng *rand.Rand, _ map[string]urSent) urSent {
				b := urBuild(t, e, urInput(t, e, rng, uc, true))
				return urSent{b, urSend(t, e, b, nil)}
			},
			want: []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}, state: receiver.DocAwaitingFiling,
			check: checkStructured(uc),
		})
	}
	return append(rows,
		urRow{
			name: "UR-D04 UR-F07 disallowed profile (AllergyIntolerance) rejects the whole message: 20009",
			send: func(t *testing.T, e *env, rng *rand.Rand, _ map[string]urSent) urSent {
				b := urBuild(t, e, urInput(t, e, rng, updaterecord.UseCasePharmacyFirst, true))
				id := itk3.NewUUID()
				doc := documentBundle(t, b)
				doc.Entry = append(doc.Entry, &fhir.BundleEntry{FullURL: fhir.NewURI("urn:uuid:" + id), Resource: &fhir.AllergyIntolerance{ID: fhir.NewID(id),
					Meta: &fhir.Meta{Profile: []*fhir.URI{fhir.NewURI("https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-AllergyIntolerance-1")}}}})
				x, err := b.XML()
				if err != nil {
					t.Fatal(err)
				}
				return urSent{b, urSend(t, e, b, x)}
			},
			want: []itk3.ResponseCode{itk3.CodePayloadValidationFailure},
			check: func(t *testing.T, e *env, s urSent, _ map[string]urSent) {
				if d := e.acks[s.built.HeaderID][0].resp.Diagnostics; !strings.Contains(d, "UR-D04") {
					t.Errorf("diagnostics %q do not name UR-D04", d)
				}
			},
		},
		urRow{
			name: "ITK3 unknown patient: 20013, 30002, not filed",
			send: func(t *testing.T, e *env, rng *rand.Rand, _ map[string]urSent) urSent {
				b := urBuild(t, e, urInput(t, e, rng, updaterecord.UseCaseBloodPressure, false))
				return urSent{b, urSend(t, e, b, nil)}
			},
			want: []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientNotKnown}, state: receiver.DocNotFiled,
		},
		urRow{
			name: "ITK3 duplicate: the same message again is answered 20007",
			send: func(t *testing.T, e *env, rng *rand.Rand, prev map[string]urSent) urSent {
				b := urBuild(t, e, urInput(t, e, rng, updaterecord.UseCaseContraception, true))
				x, err := b.XML()
				if err != nil {
					t.Fatal(err)
				}
				first := urSend(t, e, b, x)
				prev["duplicate original"] = urSent{b, first}
				return urSent{b, urSend(t, e, b, x)}
			},
			// Both answers carry the same response.identifier: the
			// original's, then the repeat's.
			want: []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown, itk3.CodeDuplicateMessage},
		},
		urRow{
			name: urOriginal,
			send: func(t *testing.T, e *env, rng *rand.Rand, _ map[string]urSent) urSent {
				b := urBuild(t, e, urInput(t, e, rng, updaterecord.UseCaseBloodPressure, true))
				return urSent{b, urSend(t, e, b, nil)}
			},
			want: []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}, state: receiver.DocReplaced,
		},
		urRow{
			name: "UR-E06 replacement of an unknown update: 20014",
			send: func(t *testing.T, e *env, rng *rand.Rand, _ map[string]urSent) urSent {
				in := urInput(t, e, rng, updaterecord.UseCasePharmacyFirst, true)
				in.Version, in.Replaces = 2, &updaterecord.Replacement{DocumentID: itk3.NewUUID()}
				b := urBuild(t, e, in)
				return urSent{b, urSend(t, e, b, nil)}
			},
			want: []itk3.ResponseCode{itk3.CodeReplacementFailed},
		},
		urRow{
			name: "UR-E01 UR-E02 replacement of a received update: accepted, the earlier version archived and linked",
			send: func(t *testing.T, e *env, rng *rand.Rand, prev map[string]urSent) urSent {
				orig := prev[urOriginal]
				in := updaterecord.Example(updaterecord.UseCaseBloodPressure)
				in.SenderMailbox = senderMailbox
				in.Patient.NHSNumber = orig.built.Envelope.To[len("GPPROVIDER_"):][:10]
				in.Consultation.ID = senderReference(t, orig.built)
				in.Version, in.Replaces = 2, &updaterecord.Replacement{DocumentID: orig.built.DocumentID}
				in.Notes[0].Text = "Corrected: " + in.Notes[0].Text
				b := urBuild(t, e, in)
				return urSent{b, urSend(t, e, b, nil)}
			},
			want: []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}, state: receiver.DocAwaitingFiling,
			check: func(t *testing.T, e *env, s urSent, prev map[string]urSent) {
				orig := prev[urOriginal]
				// Filing the replacement archives the original (UR-E01).
				nd := messageDocument(t, e, s.meshID)
				if !nd.Replacement || nd.ReplacesID == 0 || nd.SenderReference != senderReference(t, orig.built) {
					t.Errorf("replacement document: replacement %v, replaces %d, sender reference kept %v", nd.Replacement, nd.ReplacesID, nd.SenderReference == senderReference(t, orig.built))
				}
				if od := messageDocument(t, e, orig.meshID); od.State != receiver.DocReplaced || od.ReplacedByID != nd.ID {
					t.Errorf("original: state %s replaced by %d, want %s by %d", od.State, od.ReplacedByID, receiver.DocReplaced, nd.ID)
				}
			},
		},
	)
}

// urOriginal is the row whose update the last row replaces.
const urOriginal = "UR-E01 an update later replaced: 20013, 30001"

func senderReference(t *testing.T, b *updaterecord.Built) string {
	t.Helper()
	h, ok := itk3.ReadHandling(b.Message.Header)
	if !ok {
		t.Fatal("built update has no handling specification")
	}
	return h.SenderReference
}

func documentBundle(t *testing.T, b *updaterecord.Built) *fhir.Bundle {
	t.Helper()
	for _, en := range b.Message.Bundle.Entry {
		if doc, ok := en.Resource.(*fhir.Bundle); ok {
			return doc
		}
	}
	t.Fatal("no document bundle")
	return nil
}

// checkStructured checks what staff see of an accepted update and what a
// GP system reads from the API (UR-F04: the structured content, not a
// rendering).
func checkStructured(uc updaterecord.UseCase) func(t *testing.T, e *env, s urSent, _ map[string]urSent) {
	return func(t *testing.T, e *env, s urSent, _ map[string]urSent) {
		d := messageDocument(t, e, s.meshID)
		c, err := e.rcv.DocumentContent(t.Context(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		svc, _ := uc.Service()
		if c.Capability != "update-record" || !strings.Contains(c.View.Title, svc.Display) || len(c.View.Sections) == 0 {
			t.Errorf("content: capability %q, title %q, %d sections", c.Capability, c.View.Title, len(c.View.Sections))
		}
		var bundle struct {
			ResourceType string `json:"resourceType"`
			Type         string `json:"type"`
			Entry        []struct {
				Resource struct {
					ResourceType string `json:"resourceType"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(c.FHIR, &bundle); err != nil || bundle.ResourceType != "Bundle" || bundle.Type != "document" {
			t.Fatalf("FHIR JSON: %v, resourceType %q, type %q", err, bundle.ResourceType, bundle.Type)
		}
		if bundle.Entry[0].Resource.ResourceType != "Composition" {
			t.Errorf("the document bundle starts with a %s", bundle.Entry[0].Resource.ResourceType)
		}
		if uc == updaterecord.UseCaseBloodPressure {
			if !hasRow(c.View, func(r docview.Row) bool { return r.Value == "152/96" && r.Unit != "" && r.Flag == docview.FlagHigh }) {
				t.Errorf("blood pressure 152/96 with unit and flag high not in the view: %+v", c.View)
			}
		}
		// Filing records who filed it.
		fd, err := e.rcv.FileDocumentBy(t.Context(), d.ID, "Dr Jones")
		if err != nil {
			t.Fatal(err)
		}
		if fd.State != receiver.DocFiled || fd.FiledBy != "Dr Jones" || fd.FiledAt.IsZero() {
			t.Errorf("filed: state %s by %q at %v", fd.State, fd.FiledBy, fd.FiledAt)
		}
	}
}

func hasRow(v docview.View, ok func(docview.Row) bool) bool {
	for _, s := range v.Sections {
		if slices.ContainsFunc(s.Rows, ok) {
			return true
		}
	}
	return false
}

// messageDocument is the worklist document of a MESH message.
func messageDocument(t *testing.T, e *env, meshID string) receiver.Document {
	t.Helper()
	m, err := e.store.GetMessageByMeshID(t.Context(), meshID)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.MessageID == m.ID {
			return d
		}
	}
	t.Fatalf("message %s has no document", meshID)
	return receiver.Document{}
}

// TestUpdateRecordEndToEnd sends GP Connect Update Records over real MESH
// to a receiver on SQLite (+ files) and on PostgreSQL with every payload in
// S3: each
// use case for a registered patient gets exactly one 20013 and one 30001
// on GPCONNECT_UPDATE_RECORD_ACK, correlated by the original
// MessageHeader.id, and waits for review; each negative its code.
func TestUpdateRecordEndToEnd(t *testing.T) {
	for _, backend := range []struct {
		name string
		o    envOptions
	}{{"sqlite", envOptions{}}, {"postgres+s3", envOptions{postgres: true, s3: true}}} {
		t.Run(backend.name, func(t *testing.T) {
			e := mustEnvWith(t, backend.o, nil)
			rng := rand.New(rand.NewPCG(19, 4))
			rows := urRows()
			prev := map[string]urSent{}
			sent := make([]urSent, len(rows))
			// The replacement row names an update of an earlier round.
			for i, r := range rows[:len(rows)-1] {
				sent[i] = r.send(t, e, rng, prev)
				prev[r.name] = sent[i]
			}
			e.run(t)
			last := len(rows) - 1
			sent[last] = rows[last].send(t, e, rng, prev)
			e.run(t)
			e.readAcks(t)
			for i, r := range rows {
				t.Run(r.name, func(t *testing.T) {
					s := sent[i]
					got := e.codes(s.built.HeaderID)
					// The order of acks to different messages with the
					// same header id is not defined.
					if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(r.want))) {
						t.Fatalf("acks with response.identifier %s: got %v, want %v", s.built.HeaderID, got, r.want)
					}
					for _, a := range e.acks[s.built.HeaderID] {
						if a.workflow != updaterecord.WorkflowAck { // UR-B03
							t.Errorf("ack %s on workflow %s, want %s", a.resp.Code, a.workflow, updaterecord.WorkflowAck)
						}
						if !a.resp.Code.Positive() && a.resp.Diagnostics == "" {
							t.Errorf("negative %s without diagnostics (UR-F03)", a.resp.Code)
						}
					}
					if r.state != "" {
						if d := messageDocument(t, e, s.meshID); d.State != r.state {
							t.Errorf("document state %s, want %s", d.State, r.state)
						}
					}
					if r.check != nil {
						r.check(t, e, s, prev)
					}
				})
			}
		})
	}
}

// TestUpdateRecordPracticeSettings: the practice switched Update Record off
// answers 20010 (UR-F08) and keeps nothing; auto-file files an update for
// a registered patient at once, recording the setting as who filed it.
func TestUpdateRecordPracticeSettings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mode  receiver.UpdateRecordMode
		want  []itk3.ResponseCode
		state receiver.DocumentState
	}{
		{"UR-F08 off: 20010", receiver.UpdateRecordOff, []itk3.ResponseCode{itk3.CodeUnrecognisedPayloadOrg}, ""},
		{"UR-F05b auto-file: filed by the setting", receiver.UpdateRecordAutoFile, []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}, receiver.DocFiled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := MustEnv(t, func(c *receiver.Config) { c.UpdateRecord = tc.mode })
			rng := rand.New(rand.NewPCG(19, 5))
			b := urBuild(t, e, urInput(t, e, rng, updaterecord.UseCaseBloodPressure, true))
			id := urSend(t, e, b, nil)
			// Send Document is unaffected by the setting.
			sdIn := example(senddoc.UseCaseConsultation, 1)
			sdIn.Patient.NHSNumber = patient.GenerateTestNHSNumber(rng)
			e.register(t, regOf(sdIn))
			sd := mustBuild(t, sdIn)
			sdID := e.sendBuilt(t, sd)
			e.run(t)
			e.readAcks(t)
			if got := e.codes(b.HeaderID); !slices.Equal(got, tc.want) {
				t.Fatalf("acks: got %v, want %v", got, tc.want)
			}
			if got := e.codes(sd.HeaderID); !slices.Equal(got, []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}) {
				t.Errorf("Send Document acks: got %v", got)
			}
			if sdd := messageDocument(t, e, sdID); sdd.State != receiver.DocAwaitingFiling {
				t.Errorf("Send Document state %s", sdd.State)
			}
			if tc.state == "" {
				if docs, _ := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{NHSNumber: b.Envelope.To[len("GPPROVIDER_"):][:10]}); len(docs) != 0 {
					t.Errorf("a refused update made %d documents", len(docs))
				}
				return
			}
			d := messageDocument(t, e, id)
			if d.State != tc.state || d.FiledBy != receiver.AutoFiledBy {
				t.Errorf("document %s filed by %q, want %s by %q", d.State, d.FiledBy, tc.state, receiver.AutoFiledBy)
			}
		})
	}
}
