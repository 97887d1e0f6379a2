package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gpcm/gpcm/receiver"
)

// docSpec is one document receiverDocs creates.
type docSpec struct {
	state   receiver.DocumentState
	at      time.Time
	patient receiver.DocPatient
	typ     string
	fi      bool
}

// receiverDocs records, claims and accepts one message per spec, in order,
// and returns the documents.
func receiverDocs(t *testing.T, s receiver.Store, specs []docSpec) []receiver.Document {
	t.Helper()
	ps := make([]receiver.RecordMessageParams, len(specs))
	for i, sp := range specs {
		ps[i] = receiver.RecordMessageParams{MeshID: fmt.Sprintf("Q%04d", i), WorkflowID: "GPFED_CONSULT_REPORT", From: "X26ABC1", To: "X26ABC2",
			Subject: "subject", BlobKey: fmt.Sprintf("k/Q%04d", i), Size: 10, ReceivedAt: sp.at}
	}
	if _, err := s.RecordMessages(t.Context(), ps); err != nil {
		t.Fatalf("RecordMessages: %v", err)
	}
	ms, err := s.ClaimMessages(t.Context(), receiver.ClaimParams{Owner: "w", Now: specs[len(specs)-1].at, Lease: time.Hour, Limit: len(specs)})
	if err != nil || len(ms) != len(specs) {
		t.Fatalf("ClaimMessages: %d, %v; want %d", len(ms), err, len(specs))
	}
	cps := make([]receiver.CompleteParams, len(specs))
	for i, sp := range specs {
		rt, typ := "FA", sp.typ
		if sp.fi {
			rt = "FI"
		}
		if typ == "" {
			typ = "Report"
		}
		hdr := fmt.Sprintf("hq-%04d", i)
		cps[i] = receiver.CompleteParams{ID: ms[i].ID, Owner: "w", Now: sp.at, State: receiver.MessageAccepted, HeaderID: hdr, InfAckCode: 20013,
			Keys: []string{"header:" + hdr},
			Document: &receiver.NewDocument{DocumentID: fmt.Sprintf("dq-%04d", i), State: sp.state, Subject: "s", TypeLabel: typ, RecipientType: rt,
				Patient: sp.patient, Findings: []string{}, SenderODS: "X26",
				Events: []receiver.NewDocumentEvent{{Kind: receiver.EventReceived, Detail: "MESH message " + ms[i].MeshID}}}}
	}
	docs, err := s.CompleteMessages(t.Context(), cps)
	if err != nil || len(docs) != len(specs) {
		t.Fatalf("CompleteMessages: %d, %v", len(docs), err)
	}
	return docs
}

func docIDs(ds []receiver.Document) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// runReceiverDocuments checks the worklist queries: filters, orders,
// pages and totals, all done by the store.
func runReceiverDocuments(t *testing.T, open func(t *testing.T) receiver.Store) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	smith := receiver.DocPatient{NHSNumber: "9434765919", BirthDate: "1955-01-09", Family: "Smith", Given: "Richard"}
	okafor := receiver.DocPatient{NHSNumber: "9434765870", BirthDate: "1971-05-02", Family: "Okafor", Given: "David"}
	under := receiver.DocPatient{NHSNumber: "9434765828", BirthDate: "1980-03-27", Family: "O_Neil%", Given: "Ann"}

	t.Run("queries filter, sort, page and count in the store", func(t *testing.T) {
		s := open(t)
		// Received out of id order: the oldest is the last recorded.
		docs := receiverDocs(t, s, []docSpec{
			{state: receiver.DocAwaitingFiling, at: t0.Add(3 * time.Hour), patient: smith},
			{state: receiver.DocAwaitingFiling, at: t0.Add(1 * time.Hour), patient: okafor, fi: true},
			{state: receiver.DocHeld, at: t0.Add(2 * time.Hour), patient: smith, typ: "Discharge"},
			{state: receiver.DocAwaitingFiling, at: t0, patient: under},
			{state: receiver.DocNotFiled, at: t0.Add(4 * time.Hour), patient: okafor},
		})
		id := func(is ...int) []int64 {
			out := make([]int64, len(is))
			for k, i := range is {
				out[k] = docs[i].ID
			}
			return out
		}
		yes, no := true, false
		awaiting := []receiver.DocumentState{receiver.DocAwaitingFiling}
		rows := []struct {
			name  string
			q     receiver.DocumentQuery
			want  []int64
			total int
		}{
			{"everything in id order", receiver.DocumentQuery{WithTotal: true}, id(0, 1, 2, 3, 4), 5},
			{"awaiting oldest first", receiver.DocumentQuery{States: awaiting, Sort: receiver.SortOldest, WithTotal: true}, id(3, 1, 0), 3},
			{"awaiting newest first", receiver.DocumentQuery{States: awaiting, Sort: receiver.SortNewest}, id(0, 1, 3), 0},
			{"two states", receiver.DocumentQuery{States: []receiver.DocumentState{receiver.DocHeld, receiver.DocNotFiled}, Sort: receiver.SortOldest}, id(2, 4), 0},
			{"page 2 of 2 rows", receiver.DocumentQuery{Sort: receiver.SortOldest, Offset: 2, Limit: 2, WithTotal: true}, id(2, 0), 5},
			{"past the end", receiver.DocumentQuery{Sort: receiver.SortOldest, Offset: 9, WithTotal: true}, []int64{}, 5},
			{"by patient name", receiver.DocumentQuery{Sort: receiver.SortPatient}, id(1, 4, 3, 2, 0), 0},
			{"NHS number", receiver.DocumentQuery{NHSNumber: okafor.NHSNumber, Sort: receiver.SortOldest, WithTotal: true}, id(1, 4), 2},
			{"name, part and any case", receiver.DocumentQuery{Name: "smi", Sort: receiver.SortOldest}, id(2, 0), 0},
			{"given and family name", receiver.DocumentQuery{Name: "Richard SMITH"}, id(0, 2), 0},
			{"LIKE wildcards are literal", receiver.DocumentQuery{Name: "o_neil%"}, id(3), 0},
			{"a wildcard alone matches no name", receiver.DocumentQuery{Name: "%"}, id(3), 0},
			{"date of birth", receiver.DocumentQuery{BirthDate: "1971-05-02"}, id(1, 4), 0},
			{"type", receiver.DocumentQuery{TypeLabel: "Discharge"}, id(2), 0},
			{"for action", receiver.DocumentQuery{ForAction: &yes, States: awaiting}, id(0, 3), 0},
			{"for information", receiver.DocumentQuery{ForAction: &no}, id(1), 0},
			{"received range", receiver.DocumentQuery{ReceivedFrom: t0.Add(time.Hour), ReceivedBefore: t0.Add(3 * time.Hour), Sort: receiver.SortOldest}, id(1, 2), 0},
			{"after id", receiver.DocumentQuery{AfterID: docs[2].ID}, id(3, 4), 0},
			{"no match", receiver.DocumentQuery{Name: "nobody", WithTotal: true}, []int64{}, 0},
		}
		for _, r := range rows {
			page, err := s.QueryDocuments(t.Context(), r.q)
			if err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			if got := docIDs(page.Documents); !slices.Equal(got, r.want) || page.Total != r.total {
				t.Errorf("%s: got %v total %d, want %v total %d", r.name, got, page.Total, r.want, r.total)
			}
		}
		counts, err := s.CountDocuments(t.Context())
		if err != nil || counts[receiver.DocAwaitingFiling] != 3 || counts[receiver.DocHeld] != 1 || counts[receiver.DocNotFiled] != 1 {
			t.Fatalf("CountDocuments: %v, %v", counts, err)
		}
	})

	t.Run("a matched patient is found by the register's details", func(t *testing.T) {
		s := open(t)
		d := receiverDocs(t, s, []docSpec{{state: receiver.DocHeld, at: t0, patient: smith}})[0]
		if _, err := s.TransitionDocument(t.Context(), receiver.TransitionParams{ID: d.ID, From: []receiver.DocumentState{receiver.DocHeld},
			To: receiver.DocAwaitingFiling, Now: t0, Match: &receiver.ManualMatch{Patient: okafor, By: "j.bloggs"}}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []receiver.DocumentQuery{{Name: "okafor"}, {BirthDate: okafor.BirthDate}, {Name: "smith"}, {NHSNumber: okafor.NHSNumber}} {
			page, err := s.QueryDocuments(t.Context(), q)
			if err != nil || len(page.Documents) != 1 {
				t.Errorf("%+v: got %d, %v; want the document", q, len(page.Documents), err)
			}
		}
	})

	t.Run("assignment", func(t *testing.T) {
		s := open(t)
		docs := receiverDocs(t, s, []docSpec{{state: receiver.DocAwaitingFiling, at: t0, patient: smith}, {state: receiver.DocAwaitingFiling, at: t0, patient: okafor}})
		to := "Dr Patel"
		d, err := s.AnnotateDocument(t.Context(), receiver.AnnotateParams{ID: docs[1].ID, Now: t0.Add(time.Minute), AssignTo: &to,
			Event: receiver.NewDocumentEvent{Kind: receiver.EventAssigned, By: "amy", Detail: "to Dr Patel"}})
		if err != nil || d.AssignedTo != to || !d.UpdatedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("AnnotateDocument: %+v, %v", d, err)
		}
		page, err := s.QueryDocuments(t.Context(), receiver.DocumentQuery{AssignedTo: to})
		if got := docIDs(page.Documents); err != nil || !slices.Equal(got, []int64{docs[1].ID}) {
			t.Fatalf("assigned to %s: %v, %v", to, got, err)
		}
		if _, err := s.AnnotateDocument(t.Context(), receiver.AnnotateParams{ID: 999, Now: t0, Event: receiver.NewDocumentEvent{Kind: receiver.EventNoted}}); !isNotFound(err) {
			t.Fatalf("unknown document: %v, want ErrNotFound", err)
		}
	})
}
