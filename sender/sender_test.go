package sender_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
)

func TestReportCompletesWithBothAcks(t *testing.T) {
	e := mustEnv(t, envOptions{tweak: func(c *sender.Config) { c.TrackInterval = time.Minute }})
	tr := e.submit(t, exampleInput())
	e.mustState(t, tr.ID, sender.StateQueued)
	e.sendDue(t)
	tr = e.mustState(t, tr.ID, sender.StateSent)
	if tr.MeshMessageID == "" || tr.InfAckDue.IsZero() {
		t.Fatalf("sent transmission lacks MESH id or InfAck deadline: %+v", tr)
	}
	got := e.practiceInbox(t)
	if len(got) != 1 || got[0].meshID != tr.MeshMessageID || got[0].headerID != tr.HeaderID {
		t.Fatalf("practice got %+v, want one message %s with header %s", got, tr.MeshMessageID, tr.HeaderID)
	}
	e.clock.Advance(2 * time.Minute)
	if err := e.svc.TrackSent(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.mustState(t, tr.ID, sender.StateDelivered)
	e.respond(t, got[0], itk3.ResponseCode(20013))
	e.poll(t)
	tr = e.mustState(t, tr.ID, sender.StateInfAck)
	if tr.InfAckCode != 20013 || tr.BusAckDue.IsZero() {
		t.Fatalf("after InfAck: got code %d due %v", tr.InfAckCode, tr.BusAckDue)
	}
	e.respond(t, got[0], itk3.CodePatientKnown)
	e.poll(t)
	tr = e.mustState(t, tr.ID, sender.StateComplete)
	if tr.BusAckCode != 30001 {
		t.Fatalf("BusAck code: got %d, want 30001", tr.BusAckCode)
	}
	ev, err := e.store.Events(t.Context(), tr.ID)
	if err != nil {
		t.Fatal(err)
	}
	var path []string
	for _, x := range ev {
		if x.From != x.To {
			path = append(path, string(x.To))
		}
		if x.At.IsZero() {
			t.Fatalf("event without time: %+v", x)
		}
	}
	if want := "queued sent delivered infack complete"; strings.Join(path, " ") != want {
		t.Fatalf("state history: got %q, want %q", strings.Join(path, " "), want)
	}
	// The acks were acknowledged on MESH: the sender's inbox is empty.
	if ids, err := e.client.Inbox(t.Context(), meshInboxAll); err != nil || len(ids) != 0 {
		t.Fatalf("sender inbox after polling: %v, %v", ids, err)
	}
	if as := e.alerts(t, tr.ID); len(as) != 0 {
		t.Fatalf("complete report has alerts: %+v", as)
	}
}

func TestSubmitIsIdempotent(t *testing.T) {
	e := mustEnv(t, envOptions{})
	in := exampleInput()
	first := e.submit(t, in)
	again, created, err := e.svc.Submit(t.Context(), sender.Submission{Input: &in})
	if err != nil {
		t.Fatal(err)
	}
	if created || again.ID != first.ID {
		t.Fatalf("second submit: got id %s created %v, want %s created false", again.ID, created, first.ID)
	}
	e.sendDue(t)
	e.sendDue(t)
	if got := e.practiceInbox(t); len(got) != 1 {
		t.Fatalf("practice got %d messages, want 1", len(got))
	}
	// A ready message submitted twice is one transmission as well.
	payload, _, err := e.store.Payload(t.Context(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	env := &senddoc.Envelope{To: first.To, Subject: first.Subject, LocalID: first.LocalID}
	m1, c1, err := e.svc.Submit(t.Context(), sender.Submission{Message: payload, Envelope: env})
	if err != nil {
		t.Fatal(err)
	}
	m2, c2, err := e.svc.Submit(t.Context(), sender.Submission{Message: payload, Envelope: env})
	if err != nil || !c1 || c2 || m1.ID != m2.ID {
		t.Fatalf("message submitted twice: %s/%v then %s/%v, %v", m1.ID, c1, m2.ID, c2, err)
	}
}

func TestInvalidReportRefused(t *testing.T) {
	e := mustEnv(t, envOptions{})
	bad := exampleInput()
	bad.Patient.NHSNumber = ""
	_, _, err := e.svc.Submit(t.Context(), sender.Submission{Input: &bad})
	var ie *sender.InvalidError
	if !errors.As(err, &ie) || !errors.Is(err, sender.ErrInvalid) || len(ie.Problems)+len(ie.Findings) == 0 {
		t.Fatalf("got %v, want *InvalidError with problems", err)
	}
	// A message that breaks a payload rule is refused with the finding.
	good := exampleInput()
	built, err := senddoc.Build(good, senddoc.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	xml, err := built.XML()
	if err != nil {
		t.Fatal(err)
	}
	broken := bytes.ReplaceAll(xml, []byte(testPatient.NHSNumber), []byte("9434765910")) // bad check digit
	_, _, err = e.svc.Submit(t.Context(), sender.Submission{Message: broken, Envelope: &built.Envelope})
	if !errors.As(err, &ie) {
		t.Fatalf("broken message: got %v, want *InvalidError", err)
	}
	ts, err := e.store.ListTransmissions(t.Context(), sender.ListParams{})
	if err != nil || len(ts) != 0 {
		t.Fatalf("refused reports were stored: %d, %v", len(ts), err)
	}
}

// TestFailureAlerts checks that each failure path ends in exactly one alert
// with the right reason, however often the workers run afterwards.
func TestFailureAlerts(t *testing.T) {
	tests := []struct {
		name      string
		patients  []meshserver.Patient
		drive     func(t *testing.T, e *env, tr sender.Transmission)
		wantState sender.State
		want      sender.Reason
		wantCode  string
	}{
		{name: "GPCM-SD-044 negative InfAck", drive: func(t *testing.T, e *env, tr sender.Transmission) {
			e.respond(t, e.practiceInbox(t)[0], itk3.ResponseCode(20009))
		}, wantState: sender.StateFailed, want: sender.ReasonNegativeInfAck, wantCode: "20009"},
		{name: "GPCM-SD-044 negative BusAck", drive: func(t *testing.T, e *env, tr sender.Transmission) {
			r := e.practiceInbox(t)[0]
			e.respond(t, r, itk3.ResponseCode(20013))
			e.respond(t, r, itk3.ResponseCode(30002))
		}, wantState: sender.StateFailed, want: sender.ReasonNegativeBusAck, wantCode: "30002"},
		{name: "GPCM-SD-045 no InfAck by deadline", drive: func(t *testing.T, e *env, tr sender.Transmission) {
			e.practiceInbox(t)
			e.clock.Advance(4*time.Hour + time.Second)
		}, wantState: sender.StateOverdue, want: sender.ReasonNoInfAck},
		{name: "GPCM-SD-045 no BusAck by deadline", drive: func(t *testing.T, e *env, tr sender.Transmission) {
			e.respond(t, e.practiceInbox(t)[0], itk3.ResponseCode(20013))
			e.poll(t)
			e.clock.Advance(72*time.Hour + time.Second)
		}, wantState: sender.StateOverdue, want: sender.ReasonNoBusAck},
		{name: "GPCM-SD-043 EPL-151 no mailbox for the practice",
			patients:  []meshserver.Patient{{NHSNumber: testPatient.NHSNumber, BirthDate: testPatient.BirthDate, Surname: "Smith", PracticeODS: "X99"}},
			wantState: sender.StateFailed, want: sender.ReasonRouting, wantCode: "EPL-151"},
		{name: "GPCM-SD-043 EPL-153 NHS number not found",
			patients:  []meshserver.Patient{{NHSNumber: "9000000009", BirthDate: "19800101", Surname: "Other", PracticeODS: "X27"}},
			wantState: sender.StateFailed, want: sender.ReasonRouting, wantCode: "EPL-153"},
		{name: "GPCM-SD-043 EPL-154 demographics do not match",
			patients:  []meshserver.Patient{{NHSNumber: testPatient.NHSNumber, BirthDate: testPatient.BirthDate, Surname: "Smyth", PracticeODS: "X27"}},
			wantState: sender.StateFailed, want: sender.ReasonRouting, wantCode: "EPL-154"},
		{name: "GPCM-SD-044 MESH expiry not collected in 5 days", drive: func(t *testing.T, e *env, tr sender.Transmission) {
			e.mesh.Admin.AdvanceClock(5*24*time.Hour + time.Hour)
			if n, err := e.mesh.Admin.ExpireNow(t.Context()); err != nil || n != 1 {
				t.Fatalf("ExpireNow: %d, %v", n, err)
			}
		}, wantState: sender.StateFailed, want: sender.ReasonUndeliverable, wantCode: "14"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustEnv(t, envOptions{patients: tt.patients})
			tr := e.submit(t, exampleInput())
			e.sendDue(t)
			e.mustState(t, tr.ID, sender.StateSent)
			if tt.drive != nil {
				tt.drive(t, e, tr)
			}
			for range 3 { // the workers run again and again: still one alert
				if err := e.svc.RunOnce(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			e.mustState(t, tr.ID, tt.wantState)
			as := e.alerts(t, tr.ID)
			if len(as) != 1 {
				t.Fatalf("got %d alerts, want exactly 1: %+v", len(as), as)
			}
			a := as[0]
			if a.Reason != tt.want || a.Code != tt.wantCode || !strings.Contains(a.Message, tr.ID) {
				t.Fatalf("alert: got reason %s code %q message %q, want %s %q naming %s", a.Reason, a.Code, a.Message, tt.want, tt.wantCode, tr.ID)
			}
			if strings.Contains(a.Message, "Smith") || strings.Contains(a.Message, testPatient.NHSNumber) {
				t.Fatalf("alert carries patient data: %q", a.Message)
			}
			if ids, err := e.client.Inbox(t.Context(), meshInboxAll); err != nil || len(ids) != 0 {
				t.Fatalf("sender inbox not emptied: %v, %v", ids, err)
			}
		})
	}
}
