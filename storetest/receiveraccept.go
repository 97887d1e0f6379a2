package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/gpcm/gpcm/receiver"
)

// runReceiverAcceptance checks what the receiver's acceptance policy keeps
// (issue 17): a message beyond the size limit recorded with its head only.
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
}
