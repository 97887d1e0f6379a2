package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gpcm/gpcm/receiver"
)

// runReceiverMatch checks the manual match of a held document (the matched
// register patient is recorded beside the message's demographics) and the
// optional register search (receiver.PatientFinder).
func runReceiverMatch(t *testing.T, open func(t *testing.T) receiver.Store) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	held := func(t *testing.T, s receiver.Store) receiver.Document {
		t.Helper()
		rs, err := s.RecordMessages(t.Context(), []receiver.RecordMessageParams{{MeshID: "H1", WorkflowID: "GPFED_CONSULT_REPORT",
			From: "X26ABC1", To: "X26ABC2", Subject: "subject", BlobKey: "k/H1", Size: 10, ReceivedAt: t0}})
		if err != nil || len(rs) != 1 {
			t.Fatalf("RecordMessages: %+v, %v", rs, err)
		}
		ms, err := s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: "w", Now: t0, Lease: time.Minute, Limit: 1})
		if err != nil || len(ms) != 1 {
			t.Fatalf("ClaimMessages: %d, %v", len(ms), err)
		}
		d, err := s.CompleteMessage(t.Context(), receiver.CompleteParams{ID: ms[0].ID, Owner: "w", Now: t0, State: receiver.MessageAccepted,
			HeaderID: "hdr-h1", InfAckCode: 20013, Keys: []string{"header:hdr-h1"},
			Document: &receiver.NewDocument{DocumentID: "doc-h1", State: receiver.DocHeld, Subject: "s", TypeLabel: "Report", RecipientType: "FA",
				Patient:   receiver.DocPatient{NHSNumber: "9434765919", BirthDate: "1955-01-09", Family: "Smyth", Given: "Dick"},
				HoldUntil: t0.Add(48 * time.Hour), ConfirmedAckCode: 30001, Findings: []string{}}})
		if err != nil {
			t.Fatalf("CompleteMessage: %v", err)
		}
		return d
	}

	t.Run("manual match records the chosen patient", func(t *testing.T) {
		s := open(t)
		d := held(t, s)
		if d.MatchedPatient != nil || d.MatchedBy != "" || !d.MatchedAt.IsZero() {
			t.Fatalf("new held document: got matched %+v by %q at %v, want none", d.MatchedPatient, d.MatchedBy, d.MatchedAt)
		}
		chosen := receiver.DocPatient{NHSNumber: "9434765870", BirthDate: "1955-01-09", Family: "Smith", Given: "Richard"}
		at := t0.Add(time.Hour)
		got, err := s.TransitionDocument(t.Context(), receiver.TransitionParams{ID: d.ID, From: []receiver.DocumentState{receiver.DocHeld},
			To: receiver.DocAwaitingFiling, BusAckCode: 30001, Now: at, Match: &receiver.ManualMatch{Patient: chosen, By: "j.bloggs"}})
		if err != nil {
			t.Fatalf("TransitionDocument: %v", err)
		}
		for _, d := range []receiver.Document{got, mustGetDoc(t, s, d.ID)} {
			if d.State != receiver.DocAwaitingFiling || d.MatchedPatient == nil || *d.MatchedPatient != chosen ||
				d.MatchedBy != "j.bloggs" || !d.MatchedAt.Equal(at) || d.BusAckCode != 30001 {
				t.Fatalf("matched document: got state %s, matched %+v by %q at %v, busack %d", d.State, d.MatchedPatient, d.MatchedBy, d.MatchedAt, d.BusAckCode)
			}
			if d.Patient.Family != "Smyth" || d.Patient.NHSNumber != "9434765919" {
				t.Fatalf("the message's demographics changed: %+v", d.Patient)
			}
		}
		for _, nhs := range []string{"9434765870", "9434765919"} {
			page, err := s.QueryDocuments(t.Context(), receiver.DocumentQuery{NHSNumber: nhs})
			if ds := page.Documents; err != nil || len(ds) != 1 || ds[0].ID != d.ID {
				t.Fatalf("QueryDocuments(nhs %s): got %d, %v; want the matched document", nhs, len(page.Documents), err)
			}
		}
		// A transition without Match keeps the record; filing records who
		// filed it and when (issue 19).
		filed, err := s.TransitionDocument(t.Context(), receiver.TransitionParams{ID: d.ID, From: []receiver.DocumentState{receiver.DocAwaitingFiling},
			To: receiver.DocFiled, Now: at.Add(time.Hour), By: "dr.jones"})
		if err != nil || filed.MatchedPatient == nil || filed.MatchedBy != "j.bloggs" {
			t.Fatalf("filing: got %+v, %v; want the match kept", filed.MatchedPatient, err)
		}
		if got, err := s.GetDocument(t.Context(), d.ID); err != nil || got.FiledBy != "dr.jones" || !got.FiledAt.Equal(at.Add(time.Hour)) {
			t.Fatalf("filed document: by %q at %v, %v; want dr.jones at %v", got.FiledBy, got.FiledAt, err, at.Add(time.Hour))
		}
	})

	t.Run("register search", func(t *testing.T) {
		s := open(t)
		f, ok := s.(receiver.PatientFinder)
		if !ok {
			t.Skip("store has no register search")
		}
		if _, err := s.UpsertPatients(t.Context(), []receiver.Patient{
			{NHSNumber: "9434765919", BirthDate: "1955-01-09", Family: "Smith", Given: "Richard", Status: receiver.StatusRegistered},
			{NHSNumber: "9434765870", BirthDate: "1955-01-09", Family: "SMITH", Given: "Anne", Status: receiver.StatusLeft, LeftDate: "2025-01-01"},
			{NHSNumber: "9434765811", BirthDate: "1955-01-10", Family: "Smith", Given: "Bob", Status: receiver.StatusRegistered},
			{NHSNumber: "9434765828", BirthDate: "1955-01-09", Family: "Smithson", Given: "Carl", Status: receiver.StatusRegistered},
		}, t0); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, family, birth string
			want                []string
		}{
			{name: "family ignoring case", family: "smith", birth: "1955-01-09", want: []string{"9434765870", "9434765919"}},
			{name: "other birth date", family: "Smith", birth: "1955-01-10", want: []string{"9434765811"}},
			{name: "no prefix match", family: "Smit", birth: "1955-01-09", want: nil},
			{name: "nobody", family: "Jones", birth: "1955-01-09", want: nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ps, err := f.FindPatients(t.Context(), receiver.FindPatientsParams{Family: tc.family, BirthDate: tc.birth})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, p := range ps {
					got = append(got, p.NHSNumber)
				}
				slices.Sort(got)
				if !slices.Equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
				for _, p := range ps {
					if p.NHSNumber == "9434765870" && (p.Status != receiver.StatusLeft || p.LeftDate != "2025-01-01") {
						t.Fatalf("entry lost its status: %+v", p)
					}
				}
			})
		}
	})
}

func mustGetDoc(t *testing.T, s receiver.Store, id int64) receiver.Document {
	t.Helper()
	d, err := s.GetDocument(t.Context(), id)
	if err != nil {
		if errors.Is(err, receiver.ErrNotFound) {
			t.Fatalf("document %d not found", id)
		}
		t.Fatal(err)
	}
	return d
}
