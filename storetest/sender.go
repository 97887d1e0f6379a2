package storetest

import (
	"testing"
	"time"

	"github.com/gpcm/gpcm/sender"
)

// RunSender exercises a sender.Store. open must return a fresh, empty store
// for each call and arrange its cleanup with t.Cleanup.
func RunSender(t *testing.T, open func(t *testing.T) sender.Store) {
	senderTransmissions(t, open)
	senderVersions(t, open)
	senderAlerts(t, open)
}

// senderT0 is the time the sender suites start at.
var senderT0 = time.Date(2026, 1, 15, 10, 30, 0, 123456000, time.UTC)

// newSenderTx is a transmission to store with id and idempotency key.
func newSenderTx(id, key string) sender.NewTransmission {
	t0 := senderT0
	return sender.NewTransmission{Transmission: sender.Transmission{ID: id, Key: key, State: sender.StateQueued, Source: sender.SourceInput,
		WorkflowID: "GPFED_CONSULT_REPORT", AckWorkflowID: "GPFED_CONSULT_REPORT_ACK", From: "X26ABC1", To: "GPPROVIDER_x", Subject: "s",
		LocalID: "X26", HeaderID: "h-" + id, BundleID: "b-" + id, BundleIdentifier: "bi-" + id, DocumentID: "d-" + id, SenderReference: "enc",
		Version: 1, ContentType: "application/fhir+xml", NextAttemptAt: t0},
		Payload: []byte("<Bundle/>"), Input: []byte(`{}`)}
}

func senderPtr[T any](v T) *T { return &v }
