package sender_test

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
	"github.com/gpcm/gpcm/sqlitestore"
)

// backend is the storage one end-to-end loop runs on: the MESH server's,
// the sender's and the receiver's.
type backend struct {
	mesh     meshserver.Store
	meshBlob blob.Store
	sender   sender.Store
	receiver receiver.Store
	rcvBlob  blob.Store
}

func sqliteBackend(t *testing.T) backend {
	t.Helper()
	open := func(name string) *sqlitestore.DB {
		db, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	m, s, r := open("mesh.db"), open("sender.db"), open("receiver.db")
	return backend{mesh: m.Mesh(), meshBlob: tier.New(m.Blobs(), mustFiles(t), tier.DefaultThreshold), sender: s.Sender(),
		receiver: r.Receiver(), rcvBlob: tier.New(r.Blobs(), mustFiles(t), tier.DefaultThreshold)}
}

func postgresBackend(t *testing.T) backend {
	t.Helper()
	m, s, r := pgstoretest.MustOpen(t), pgstoretest.MustOpen(t), pgstoretest.MustOpen(t)
	return backend{mesh: m.Mesh(), meshBlob: tier.New(m.Blobs(), mustFiles(t), tier.DefaultThreshold), sender: s.Sender(),
		receiver: r.Receiver(), rcvBlob: tier.New(r.Blobs(), mustFiles(t), tier.DefaultThreshold)}
}

func mustFiles(t *testing.T) blob.Store {
	t.Helper()
	fs, err := fileblob.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// auditCase is one report of the audit (issue 20) sent from gpcm's sender
// through gpcm's MESH server, routed by its GPPROVIDER_ address, to gpcm's
// receiver: it must be filed and answered 20013 + 30001.
type auditCase struct {
	name    string
	patient patientRecord
	// sub makes the submission: an input, or a ready message with its
	// envelope.
	sub   func(t *testing.T, p patientRecord) sender.Submission
	check func(t *testing.T, d receiver.Document)
}

type patientRecord struct{ nhs, family, given, birth string }

func auditInput(uc senddoc.UseCase, p patientRecord) senddoc.Input {
	in := senddoc.Example(uc, senddoc.GenerationV1)
	in.SenderMailbox, in.PDF = senderMailbox, senddoc.ExamplePDF()
	in.Patient.NHSNumber, in.Patient.Family, in.Patient.Given, in.Patient.BirthDate = p.nhs, p.family, []string{p.given}, p.birth
	in.Encounter.ID = itk3.NewUUID()
	return in
}

// ready builds in, lets edit change the message, and submits it as a ready
// message with the envelope gpcm would give it.
func ready(t *testing.T, in senddoc.Input, edit func(b *fhir.Bundle, doc *fhir.Bundle)) sender.Submission {
	t.Helper()
	b, err := senddoc.Build(in, senddoc.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range b.Message.Bundle.Entry {
		if doc, ok := e.Resource.(*fhir.Bundle); ok {
			edit(b.Message.Bundle, doc)
		}
	}
	x, err := b.XML()
	if err != nil {
		t.Fatal(err)
	}
	env := b.Envelope
	return sender.Submission{Message: x, Envelope: &env}
}

// TestAuditEndToEnd runs the audit's end-to-end cases over real MESH on
// SQLite and on PostgreSQL (issue 20 items 1, 2 and 4; the confidential
// report's practice display is TestBrowserConfidentialSubject in web).
func TestAuditEndToEnd(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 26))
	muller := patientRecord{patient.GenerateTestNHSNumber(rng), "Müller", "Jürgen", "1961-07-14"}
	smith := patientRecord{patient.GenerateTestNHSNumber(rng), "Smith", "Jane", "1967-01-26"}
	cases := []auditCase{
		{name: "1.5.2:GPCM-SD-CS-042 a report for Müller is routed, filed and acknowledged", patient: muller,
			sub: func(t *testing.T, p patientRecord) sender.Submission {
				in := auditInput(senddoc.UseCaseConsultation, p)
				return sender.Submission{Input: &in}
			},
			check: func(t *testing.T, d receiver.Document) {
				if d.Patient.Family != "Müller" {
					t.Errorf("document patient family %q, want Müller", d.Patient.Family)
				}
			}},
		{name: "1.5.2:GPCM-SD-GE-012 a generic report with a JPEG primary attachment is filed", patient: smith,
			sub: func(t *testing.T, p patientRecord) sender.Submission {
				return ready(t, auditInput(senddoc.UseCaseGeneric, p), func(_, doc *fhir.Bundle) {
					for _, e := range doc.Entry {
						if bin, ok := e.Resource.(*fhir.Binary); ok {
							bin.ContentType = fhir.NewCode("image/jpeg")
							bin.Content = fhir.NewBase64Binary("/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA==")
							break // the primary attachment
						}
					}
				})
			},
			check: func(t *testing.T, d receiver.Document) {
				if len(d.Attachments) == 0 || d.Attachments[0].ContentType != "image/jpeg" {
					t.Errorf("attachments %+v, want the JPEG first", d.Attachments)
				}
			}},
		{name: "1.5.2:GPCM-SD-CS-021 a v1.0-1.1 -Instance-1 message marked R is accepted on GPFED_CONSULT_REPORT", patient: smith,
			sub: func(t *testing.T, p patientRecord) sender.Submission {
				in := auditInput(senddoc.UseCaseConsultation, p)
				in.Confidential = true
				return ready(t, in, func(msg, _ *fhir.Bundle) {
					h := msg.Entry[0].Resource.(*fhir.MessageHeader)
					for _, x := range h.Extension {
						for _, k := range x.Extension {
							if k.URL == "MessageDefinition" {
								k.Value = &fhir.Reference{Reference: fhir.NewString(itk3.SendDocumentDefinitionV2)}
							}
						}
					}
				})
			},
			check: func(t *testing.T, d receiver.Document) {
				if senddoc.SaysWhereSeen(d.Subject) {
					t.Errorf("worklist subject %q says where the patient was seen", d.Subject)
				}
			}},
	}
	for _, store := range []struct {
		name string
		open func(t *testing.T) backend
	}{{"sqlite", sqliteBackend}, {"postgres", postgresBackend}} {
		t.Run(store.name, func(t *testing.T) {
			be := store.open(t)
			runAuditLoop(t, be, cases, []patientRecord{muller, smith})
		})
	}
}

func runAuditLoop(t *testing.T, be backend, cases []auditCase, patients []patientRecord) {
	ctx := t.Context()
	var register []meshserver.Patient
	var reg []receiver.Patient
	for _, p := range patients {
		register = append(register, meshserver.Patient{NHSNumber: p.nhs, BirthDate: strings.ReplaceAll(p.birth, "-", ""), Surname: p.family, PracticeODS: "X27"})
		reg = append(reg, receiver.Patient{NHSNumber: p.nhs, BirthDate: p.birth, Family: p.family, Given: p.given, Status: receiver.StatusRegistered})
	}
	ms := meshtest.NewServer(t, meshtest.Options{Patients: register, Store: be.mesh, Blobs: be.meshBlob})
	client := func(mailbox string) *mesh.Client {
		c, err := mesh.NewClient(mesh.Config{URL: ms.URL, Mailbox: mailbox, Password: "password", SharedKey: ms.SharedKey,
			TLS: mesh.TLSConfig{RootCAs: ms.CertPool()}, Retry: mesh.Backoff{Retries: 2, Initial: time.Millisecond, Max: 5 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	rcv, err := receiver.New(receiver.Config{Store: be.receiver, Blobs: be.rcvBlob, Mesh: client(practiceMailbox), ODSCode: "X27", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := be.receiver.UpsertPatients(ctx, reg, time.Now()); err != nil {
		t.Fatal(err)
	}
	// The edit window is the default; each report is released at once, as
	// a person pressing "Send now" does.
	svc, err := sender.New(sender.Config{Store: be.sender, Mesh: client(senderMailbox), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		tr, _, err := svc.Submit(ctx, c.sub(t, c.patient))
		if err != nil {
			t.Fatalf("%s: submit: %v", c.name, err)
		}
		if _, err := svc.SendNow(ctx, tr.ID, "test"); err != nil {
			t.Fatalf("%s: send now: %v", c.name, err)
		}
		ids[i] = tr.ID
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if _, err := svc.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if err := rcv.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PollInbox(ctx); err != nil {
			t.Fatal(err)
		}
		counts, err := be.sender.CountByState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[sender.StateComplete] == len(cases) {
			break
		}
		if counts[sender.StateFailed] > 0 || time.Now().After(deadline) {
			for i, id := range ids {
				tr, _ := be.sender.GetTransmission(ctx, id)
				t.Logf("%s: %s, acks %d/%d, %s", cases[i].name, tr.State, tr.InfAckCode, tr.BusAckCode, tr.LastError)
			}
			t.Fatalf("outbox %v, want %d complete", counts, len(cases))
		}
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := be.sender.GetTransmission(ctx, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			if tr.InfAckCode != 20013 || tr.BusAckCode != 30001 {
				t.Fatalf("acks %d/%d, want 20013/30001", tr.InfAckCode, tr.BusAckCode)
			}
			docs, err := rcv.ListDocuments(ctx, receiver.ListDocumentsParams{State: receiver.DocAwaitingFiling, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var doc *receiver.Document
			for j := range docs {
				if docs[j].HeaderID == tr.HeaderID {
					doc = &docs[j]
				}
			}
			if doc == nil {
				t.Fatalf("no document awaiting filing for %s among %d", tr.HeaderID, len(docs))
			}
			if _, err := rcv.FileDocumentBy(ctx, doc.ID, "test"); err != nil {
				t.Fatalf("file: %v", err)
			}
			if c.check != nil {
				c.check(t, *doc)
			}
		})
	}
}
