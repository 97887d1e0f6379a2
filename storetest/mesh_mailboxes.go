package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/meshserver"
)

// runMeshMailboxes checks the mailbox and patient registers.
func runMeshMailboxes(t *testing.T, open func(t *testing.T) meshserver.Store) {
	t.Run("mailbox round trip", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		want := meshserver.Mailbox{ID: "X26ABC1", Password: "pw", ODSCode: "X26", Name: "One", Active: true, Workflows: []string{"A", "B"}}
		putMailboxes(t, s, want, meshserver.Mailbox{ID: "X27ABC1", Password: "pw", ODSCode: "X27", Active: true})
		got, err := s.GetMailbox(ctx, "X26ABC1")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
		_, err = s.GetMailbox(ctx, "NOPE")
		wantErr(t, "unknown mailbox", err, meshserver.ErrNotFound)
		list, err := s.ListMailboxes(ctx, "X27")
		if err != nil || len(list) != 1 || list[0].ID != "X27ABC1" || list[0].Workflows != nil {
			t.Fatalf("ListMailboxes(X27): got %+v, %v", list, err)
		}
		if all, err := s.ListMailboxes(ctx, ""); err != nil || len(all) != 2 || all[0].ID != "X26ABC1" {
			t.Fatalf("ListMailboxes(all): got %+v, %v; want both by id", all, err)
		}
		// PutMailbox replaces: no workflows any more means any.
		want.Workflows, want.Password = nil, "new"
		putMailboxes(t, s, want)
		if got, _ := s.GetMailbox(ctx, want.ID); got.Workflows != nil || got.Password != "new" {
			t.Fatalf("replaced mailbox: got %+v", got)
		}
		if err := s.SetMailboxActive(ctx, "X26ABC1", false); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetMailbox(ctx, "X26ABC1"); got.Active {
			t.Fatal("mailbox still active after disable")
		}
		wantErr(t, "disable unknown", s.SetMailboxActive(ctx, "NOPE", false), meshserver.ErrNotFound)
	})

	t.Run("takes", func(t *testing.T) {
		tests := []struct {
			mb   meshserver.Mailbox
			wf   string
			want bool
		}{
			{sndMailbox, "WF", true},
			{sndMailbox, "OTHER", false},
			{rcvMailbox, "ANY", true},
			{offMailbox, "WF", false},
		}
		for _, tt := range tests {
			if got := tt.mb.Takes(tt.wf); got != tt.want {
				t.Errorf("%s takes %s: got %v, want %v", tt.mb.ID, tt.wf, got, tt.want)
			}
		}
	})

	t.Run("patient register", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		p := meshserver.Patient{NHSNumber: "9690937286", BirthDate: "19670126", Surname: "SMITH", PracticeODS: "X26"}
		if err := s.PutPatient(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetPatient(ctx, p.NHSNumber)
		if err != nil || got != p {
			t.Fatalf("GetPatient: got %+v, %v", got, err)
		}
		p.PracticeODS = "X27"
		if err := s.PutPatient(ctx, p); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetPatient(ctx, p.NHSNumber); got != p {
			t.Fatalf("replaced patient: got %+v, want %+v", got, p)
		}
		_, err = s.GetPatient(ctx, "9999999999")
		wantErr(t, "unknown patient", err, meshserver.ErrNotFound)
		if strings.Contains(err.Error(), "9999999999") {
			t.Fatalf("error %q carries the NHS number (patient data never in logs)", err)
		}
	})
}
