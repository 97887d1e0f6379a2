package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gpcm/gpcm/receiver"
)

// runReceiverAcceptance checks what the receiver's acceptance policy keeps
// (issue 17): a message beyond the size limit recorded with its head only,
// the MESH findings and sending organisation of a document, replacements
// limited to the same organisation and patient, voiding on 20014, and the
// lookup of sent acks by MESH id.
func runReceiverAcceptance(t *testing.T, open func(t *testing.T) receiver.Store) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	t.Run("a too-large message keeps its head and flag", func(t *testing.T) {
		s := open(t)
		head := []byte("<Bundle>head")
		rs, err := s.RecordMessages(t.Context(), []receiver.RecordMessageParams{{MeshID: "B1", WorkflowID: "GPFED_CONSULT_REPORT",
			From: "X26ABC1", To: "X26ABC2", Size: 1 << 20, ReceivedAt: t0, Payload: head, TooLarge: true},
			{MeshID: "B2", WorkflowID: "GPFED_CONSULT_REPORT", BlobKey: "k/B2", Size: 5, ReceivedAt: t0}})
		if err != nil || len(rs) != 2 || !rs[0].Message.TooLarge || rs[1].Message.TooLarge {
			t.Fatalf("RecordMessages: %+v, %v", rs, err)
		}
		ms, err := s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: "w", Now: t0, Lease: time.Minute, Limit: 2})
		if err != nil || len(ms) != 2 || !ms[0].TooLarge || !bytes.Equal(ms[0].Payload, head) || ms[1].TooLarge {
			t.Fatalf("ClaimMessages: %+v, %v; want the first too large with its head", ms, err)
		}
		if m, err := s.GetMessageByMeshID(t.Context(), "B1"); err != nil || !m.TooLarge {
			t.Fatalf("GetMessageByMeshID: %+v, %v", m, err)
		}
	})

	t.Run("a document keeps its MESH findings and sending organisation", func(t *testing.T) {
		s := open(t)
		rs, err := s.RecordMessages(t.Context(), []receiver.RecordMessageParams{{MeshID: "F1", WorkflowID: "GPFED_CONSULT_REPORT",
			From: "X26ABC1", To: "X26ABC2", BlobKey: "k/F1", Size: 5, ReceivedAt: t0}})
		if err != nil || len(rs) != 1 {
			t.Fatalf("RecordMessages: %+v, %v", rs, err)
		}
		ms, err := s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: "w", Now: t0, Lease: time.Minute, Limit: 1})
		if err != nil || len(ms) != 1 {
			t.Fatalf("ClaimMessages: %d, %v", len(ms), err)
		}
		mf := []receiver.DocFinding{{Requirement: "GPCM-SD-CS-068", Path: "MESH.Subject", Message: "off template"},
			{Requirement: "GPCM-SD-CS-080", Path: "MESH.LocalID", Message: "not the ODS code"}}
		d, err := s.CompleteMessage(t.Context(), receiver.CompleteParams{ID: ms[0].ID, Owner: "w", Now: t0, State: receiver.MessageAccepted,
			HeaderID: "hdr-f1", InfAckCode: 20013, Keys: []string{"header:hdr-f1"},
			Document: &receiver.NewDocument{DocumentID: "doc-f1", State: receiver.DocAwaitingFiling, Subject: "s", TypeLabel: "Report",
				RecipientType: "FA", Patient: receiver.DocPatient{NHSNumber: "9434765919"}, MeshFindings: mf, SenderODS: "X26"}})
		if err != nil {
			t.Fatalf("CompleteMessage: %v", err)
		}
		got, err := s.GetDocument(t.Context(), d.ID)
		if err != nil || !slices.Equal(got.MeshFindings, mf) || got.SenderODS != "X26" {
			t.Fatalf("GetDocument: MESH findings %+v, sender %q, %v", got.MeshFindings, got.SenderODS, err)
		}
		page, err := s.QueryDocuments(t.Context(), receiver.DocumentQuery{})
		if ds := page.Documents; err != nil || len(ds) != 1 || len(ds[0].MeshFindings) != 2 {
			t.Fatalf("QueryDocuments: %+v, %v", page, err)
		}
	})

	// complete records one claimed message with outcome p (ID and Owner
	// filled in).
	complete := func(t *testing.T, s receiver.Store, meshID string, p receiver.CompleteParams) (receiver.Document, error) {
		t.Helper()
		if _, err := s.RecordMessages(t.Context(), []receiver.RecordMessageParams{{MeshID: meshID, WorkflowID: "GPFED_CONSULT_REPORT",
			From: "X26ABC1", To: "X26ABC2", BlobKey: "k/" + meshID, Size: 5, ReceivedAt: t0}}); err != nil {
			t.Fatal(err)
		}
		ms, err := s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: "w", Now: t0, Lease: time.Minute, Limit: 1})
		if err != nil || len(ms) != 1 {
			t.Fatalf("ClaimMessages: %d, %v", len(ms), err)
		}
		p.ID, p.Owner, p.Now = ms[0].ID, "w", t0
		if p.State == "" {
			p.State = receiver.MessageAccepted
		}
		return s.CompleteMessage(t.Context(), p)
	}
	doc := func(docID, ods, from, nhs, replaces string) *receiver.NewDocument {
		return &receiver.NewDocument{DocumentID: docID, State: receiver.DocAwaitingFiling, Subject: "s", TypeLabel: "Report", RecipientType: "FA",
			Patient: receiver.DocPatient{NHSNumber: nhs}, SenderODS: ods, From: from, ReplacesIdentifier: replaces}
	}
	t.Run("GPCM-SD-033 a replacement replaces only the same organisation's document for the same patient", func(t *testing.T) {
		s := open(t)
		orig, err := complete(t, s, "R1", receiver.CompleteParams{HeaderID: "h1", Keys: []string{"header:h1"}, Document: doc("d1", "X26", "X26ABC1", "9434765919", "")})
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name string
			d    *receiver.NewDocument
		}{
			{"another organisation", doc("d2", "X27", "X27ABC1", "9434765919", "d1")},
			{"another patient", doc("d3", "X26", "X26ABC1", "9434765870", "d1")},
			{"unknown", doc("d4", "X26", "X26ABC1", "9434765919", "nothing")},
		} {
			if _, err := complete(t, s, "R-"+tt.d.DocumentID, receiver.CompleteParams{HeaderID: "h-" + tt.d.DocumentID, Document: tt.d}); !errors.Is(err, receiver.ErrReplacementTarget) {
				t.Errorf("%s: got %v, want ErrReplacementTarget", tt.name, err)
			}
		}
		// Same organisation, another mailbox of it: replaced.
		nd, err := complete(t, s, "R5", receiver.CompleteParams{HeaderID: "h5", Document: doc("d5", "X26", "X26ABC9", "9434765919", "d1")})
		if err != nil || nd.ReplacesID != orig.ID {
			t.Fatalf("same organisation and patient: %+v, %v", nd, err)
		}
		if got, _ := s.GetDocument(t.Context(), orig.ID); got.State != receiver.DocReplaced {
			t.Errorf("original: state %s, want replaced", got.State)
		}
	})
	t.Run("GPCM-SD-034 a failed replacement voids the same organisation's original only", func(t *testing.T) {
		s := open(t)
		mine, err := complete(t, s, "V1", receiver.CompleteParams{HeaderID: "v1", Document: doc("shared", "X26", "X26ABC1", "9434765919", "")})
		if err != nil {
			t.Fatal(err)
		}
		legacy, err := complete(t, s, "V2", receiver.CompleteParams{HeaderID: "v2", Document: doc("legacy", "", "X26ABC1", "9434765919", "")})
		if err != nil {
			t.Fatal(err)
		}
		rejected := func(meshID string, v *receiver.VoidTarget) {
			t.Helper()
			if _, err := complete(t, s, meshID, receiver.CompleteParams{State: receiver.MessageRejected, InfAckCode: 20014, Void: v}); err != nil {
				t.Fatal(err)
			}
		}
		rejected("V3", &receiver.VoidTarget{Identifier: "shared", SenderODS: "X27", From: "X27ABC1", Reason: "void: test"})
		rejected("V4", &receiver.VoidTarget{Identifier: "legacy", SenderODS: "", From: "X27ABC1", Reason: "void: test"})
		for _, id := range []int64{mine.ID, legacy.ID} {
			if got, _ := s.GetDocument(t.Context(), id); got.State != receiver.DocAwaitingFiling {
				t.Errorf("document %d voided by another sender: state %s", id, got.State)
			}
		}
		rejected("V5", &receiver.VoidTarget{Identifier: "shared", SenderODS: "X26", From: "X26ABC7", Reason: "void: test"})
		rejected("V6", &receiver.VoidTarget{Identifier: "legacy", SenderODS: "X26", From: "X26ABC1", Reason: "void: test"})
		for _, id := range []int64{mine.ID, legacy.ID} {
			if got, _ := s.GetDocument(t.Context(), id); got.State != receiver.DocVoid || got.Reason != "void: test" {
				t.Errorf("document %d: state %s reason %q, want void", id, got.State, got.Reason)
			}
		}
		if n, err := s.CountDocuments(t.Context()); err != nil || n[receiver.DocVoid] != 2 {
			t.Errorf("CountDocuments: %v, %v; want 2 void", n, err)
		}
	})

	t.Run("sent acks are found by their MESH ids", func(t *testing.T) {
		s := open(t)
		ack := func(kind receiver.AckKind) receiver.NewAck {
			return receiver.NewAck{Kind: kind, Code: 20013, To: "X26ABC1", WorkflowID: "GPFED_CONSULT_REPORT_ACK", HeaderID: "r-" + string(kind), Body: []byte("<Bundle/>")}
		}
		if _, err := complete(t, s, "A1", receiver.CompleteParams{State: receiver.MessageRejected, InfAckCode: 20009,
			Acks: []receiver.NewAck{ack(receiver.AckInf)}}); err != nil {
			t.Fatal(err)
		}
		acks, err := s.ClaimAcks(t.Context(), receiver.ClaimParams{Owner: "w", Now: t0, Lease: time.Minute, Limit: 5})
		if err != nil || len(acks) != 1 {
			t.Fatalf("ClaimAcks: %d, %v", len(acks), err)
		}
		if got, err := s.SentAckMeshIDs(t.Context(), []string{"M-ACK-1"}); err != nil || len(got) != 0 {
			t.Fatalf("before sending: %v, %v", got, err)
		}
		if err := s.MarkAcksSent(t.Context(), []receiver.AckSent{{ID: acks[0].ID, MeshID: "M-ACK-1"}}, t0); err != nil {
			t.Fatal(err)
		}
		got, err := s.SentAckMeshIDs(t.Context(), []string{"M-ACK-1", "M-OTHER", ""})
		if err != nil || len(got) != 1 || !got["M-ACK-1"] {
			t.Fatalf("SentAckMeshIDs: %v, %v; want only M-ACK-1", got, err)
		}
	})
}
