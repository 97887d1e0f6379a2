package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/gpcm/gpcm/receiver"
)

// runReceiverAcceptance checks what the receiver's acceptance policy keeps
// (issue 17): a message beyond the size limit recorded with its head only,
// and the MESH findings and sending organisation of a document.
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
		ds, err := s.ListDocuments(t.Context(), receiver.ListDocumentsParams{})
		if err != nil || len(ds) != 1 || len(ds[0].MeshFindings) != 2 {
			t.Fatalf("ListDocuments: %+v, %v", ds, err)
		}
	})
}
