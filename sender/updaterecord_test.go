package sender_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/sender"
	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/updaterecord"
)

// practiceReceiver is gpcm's receiver for the practice mailbox of e, with
// the test patient on its register.
func practiceReceiver(t *testing.T, e *env, mode receiver.UpdateRecordMode) *receiver.Receiver {
	t.Helper()
	ctx := t.Context()
	db, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "receiver.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := fileblob.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := receiver.New(receiver.Config{Store: db.Receiver(), Blobs: blobs, Mesh: e.practice, ODSCode: "X27", Logger: testLogger(t), UpdateRecord: mode})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Receiver().UpsertPatients(ctx, []receiver.Patient{{NHSNumber: testPatient.NHSNumber, BirthDate: "1955-01-09",
		Family: "Smith", Given: "Richard", Status: receiver.StatusRegistered}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	return rcv
}

// urJSON is the example update of a use case for the test patient, from
// the sender mailbox, as the JSON a user submits.
func urJSON(t *testing.T, uc updaterecord.UseCase) []byte {
	t.Helper()
	in := updaterecord.Example(uc)
	in.SenderMailbox = senderMailbox
	in.Patient.NHSNumber, in.Patient.BirthDate, in.Patient.Family, in.Patient.Given = testPatient.NHSNumber, "1955-01-09", "Smith", []string{"Richard"}
	in.Consultation.ID = itk3.NewUUID()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loopUntil runs sender and receiver rounds until every transmission is
// in a final state.
func loopUntil(t *testing.T, e *env, rcv *receiver.Receiver, ids []string, done func(sender.Transmission) bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		e.sendDue(t)
		if err := rcv.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		e.poll(t)
		all := true
		for _, id := range ids {
			all = all && done(e.get(t, id))
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			for _, id := range ids {
				tr := e.get(t, id)
				t.Logf("%s: %s inf %d bus %d err %q", id, tr.State, tr.InfAckCode, tr.BusAckCode, tr.LastError)
			}
			t.Fatal("transmissions not done in time")
		}
	}
}

// TestUpdateRecordSender: gpcm send submit's path takes an Update Record
// input (told by its useCase, or by KindUpdateRecord), builds it, sends it
// on GPCONNECT_UPDATE_RECORD (UR-B02) to the patient's GPPROVIDER_ address
// (UR-B01, UR-B05) and reconciles both acks from GPCONNECT_UPDATE_RECORD_ACK
// (UR-B03) as for Send Document; a negative answer (20010, UR-F08) fails
// the transmission and alerts a person.
func TestUpdateRecordSender(t *testing.T) {
	t.Run("UR-B02 UR-B03 each use case complete with 20013 and 30001", func(t *testing.T) {
		e := mustEnv(t, envOptions{})
		rcv := practiceReceiver(t, e, receiver.UpdateRecordReview)
		var ids []string
		for i, uc := range updaterecord.UseCases() {
			kind := sender.KindAuto
			if i == 0 {
				kind = sender.KindUpdateRecord
			}
			sub, err := sender.ParseSubmissionKind(urJSON(t, uc), kind)
			if err != nil || sub.UpdateRecord == nil {
				t.Fatalf("%s: parsed as %+v, %v; want an Update Record input", uc, sub, err)
			}
			tr, created, err := e.svc.Submit(t.Context(), sub)
			if err != nil || !created {
				t.Fatalf("%s: submit: %v (created %v)", uc, err, created)
			}
			if tr.WorkflowID != updaterecord.Workflow || tr.AckWorkflowID != updaterecord.WorkflowAck || tr.To[:len("GPPROVIDER_")] != "GPPROVIDER_" {
				t.Errorf("%s: workflow %s, ack workflow %s, to %s", uc, tr.WorkflowID, tr.AckWorkflowID, tr.To)
			}
			// The same input again is the same transmission.
			if _, again, err := e.svc.Submit(t.Context(), sub); err != nil || again {
				t.Errorf("%s: second submit: %v (created %v)", uc, err, again)
			}
			ids = append(ids, tr.ID)
		}
		loopUntil(t, e, rcv, ids, func(tr sender.Transmission) bool {
			return tr.State == sender.StateComplete || tr.State == sender.StateFailed
		})
		for _, id := range ids {
			if tr := e.mustState(t, id, sender.StateComplete); tr.InfAckCode != 20013 || tr.BusAckCode != 30001 {
				t.Errorf("%s: acks %d/%d, want 20013/30001", id, tr.InfAckCode, tr.BusAckCode)
			}
		}
		docs, err := rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{State: receiver.DocAwaitingFiling})
		if err != nil || len(docs) != len(ids) {
			t.Fatalf("receiver: %d updates awaiting review, %v; want %d", len(docs), err, len(ids))
		}
	})
	t.Run("UR-F08 switched off: 20010 fails it and alerts a person", func(t *testing.T) {
		e := mustEnv(t, envOptions{})
		rcv := practiceReceiver(t, e, receiver.UpdateRecordOff)
		sub, err := sender.ParseSubmission(urJSON(t, updaterecord.UseCasePharmacyFirst))
		if err != nil {
			t.Fatal(err)
		}
		tr, _, err := e.svc.Submit(t.Context(), sub)
		if err != nil {
			t.Fatal(err)
		}
		loopUntil(t, e, rcv, []string{tr.ID}, func(tr sender.Transmission) bool {
			return tr.State == sender.StateFailed || tr.State == sender.StateComplete
		})
		got := e.mustState(t, tr.ID, sender.StateFailed)
		if got.InfAckCode != 20010 {
			t.Errorf("InfAck %d, want 20010", got.InfAckCode)
		}
		if as := e.alerts(t, tr.ID); len(as) == 0 || as[0].Code != "20010" {
			t.Errorf("alerts %+v, want one naming 20010", as)
		}
	})
	t.Run("an invalid update is refused before anything is stored", func(t *testing.T) {
		e := mustEnv(t, envOptions{})
		in := updaterecord.Example(updaterecord.UseCaseBloodPressure)
		in.SenderMailbox = senderMailbox
		in.Notes = nil
		_, _, err := e.svc.Submit(t.Context(), sender.Submission{UpdateRecord: &in})
		if _, ok := err.(*sender.InvalidError); !ok {
			t.Fatalf("submit without notes: %v, want *InvalidError", err)
		}
	})
}
