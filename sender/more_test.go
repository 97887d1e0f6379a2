package sender_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/sender"
)

// TestCrashAfterRecordingAttempt simulates a process killed after its
// attempt was recorded and the POST reached MESH, but before the outcome
// was stored: the next worker must find the message, not send it again.
func TestCrashAfterRecordingAttempt(t *testing.T) {
	for _, posted := range []bool{true, false} {
		t.Run(fmt.Sprintf("posted=%v", posted), func(t *testing.T) {
			e := mustEnv(t, envOptions{})
			ctx := t.Context()
			tr := e.submit(t, exampleInput())
			// What the dead worker did: claim, record attempt 1, maybe POST.
			now := e.clock.Now()
			claimed, err := e.store.ClaimSend(ctx, sender.ClaimParams{Owner: "dead", Now: now, LeaseUntil: now.Add(10 * time.Minute), Limit: 1})
			if err != nil || len(claimed) != 1 {
				t.Fatalf("claim: %v %d", err, len(claimed))
			}
			file := tr.ID + "-1.xml"
			if _, err := e.store.Transition(ctx, sender.TransitionParams{ID: tr.ID, At: now,
				Set: sender.Changes{Attempts: ptr(1), AttemptFile: &file, AttemptStartedAt: &now}}); err != nil {
				t.Fatal(err)
			}
			if posted {
				payload, _, err := e.store.Payload(ctx, tr.ID)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.client.Send(ctx, mesh.SendRequest{To: tr.To, WorkflowID: tr.WorkflowID, Subject: tr.Subject, LocalID: tr.LocalID,
					Filename: file, Body: bytes.NewReader(payload)}); err != nil {
					t.Fatal(err)
				}
			}
			e.sendDue(t) // the lease still holds: nothing happens
			e.mustState(t, tr.ID, sender.StateQueued)
			e.clock.Advance(11 * time.Minute) // the lease runs out
			e.sendDue(t)
			e.mustState(t, tr.ID, sender.StateSendUnknown)
			e.clock.Advance(11 * time.Minute)
			e.sendDue(t)
			e.sendDue(t)
			e.mustState(t, tr.ID, sender.StateSent)
			if got := e.practiceInbox(t); len(got) != 1 {
				t.Fatalf("practice got %d copies, want 1", len(got))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestLateAndUnusualResponses(t *testing.T) {
	t.Run("late InfAck after overdue moves on, one alert", func(t *testing.T) {
		e := mustEnv(t, envOptions{})
		tr := e.submit(t, exampleInput())
		e.sendDue(t)
		r := e.practiceInbox(t)[0]
		e.clock.Advance(5 * time.Hour)
		if err := e.svc.CheckDeadlines(t.Context()); err != nil {
			t.Fatal(err)
		}
		e.mustState(t, tr.ID, sender.StateOverdue)
		e.respond(t, r, itk3.ResponseCode(20013))
		e.respond(t, r, itk3.CodePatientKnown)
		e.poll(t)
		e.mustState(t, tr.ID, sender.StateComplete)
		if as := e.alerts(t, tr.ID); len(as) != 1 || as[0].Reason != sender.ReasonNoInfAck {
			t.Fatalf("alerts: %+v", as)
		}
	})
	t.Run("GPCM-SD-035 20014 on a replacement asks to void both", func(t *testing.T) {
		e := mustEnv(t, envOptions{})
		tr := e.submit(t, exampleInput())
		e.sendDue(t)
		first := e.practiceInbox(t)[0]
		e.respond(t, first, itk3.ResponseCode(20013))
		e.respond(t, first, itk3.CodePatientKnown)
		e.poll(t)
		rep, err := e.svc.Replace(t.Context(), tr.ID, exampleInput(), "test")
		if err != nil {
			t.Fatal(err)
		}
		e.sendDue(t)
		e.respond(t, e.practiceInbox(t)[0], itk3.ResponseCode(20014))
		e.poll(t)
		e.mustState(t, rep.ID, sender.StateFailed)
		as := e.alerts(t, rep.ID)
		if len(as) != 1 || as[0].Reason != sender.ReasonReplacementVoid || !strings.Contains(as[0].Message, "void") {
			t.Fatalf("alerts: %+v", as)
		}
		// The original is marked void too.
		orig, err := e.store.GetTransmission(t.Context(), tr.ID)
		if err != nil || !strings.HasPrefix(orig.LastError, "void:") || !strings.Contains(orig.LastError, rep.ID) {
			t.Fatalf("original: last error %q, %v; want it marked void", orig.LastError, err)
		}
		evs, err := e.store.Events(t.Context(), tr.ID)
		if err != nil || len(evs) == 0 || !strings.HasPrefix(evs[len(evs)-1].Note, "void:") {
			t.Fatalf("original's events: %+v, %v", evs, err)
		}
	})
	t.Run("response to an unknown message is kept and raised", func(t *testing.T) {
		e := mustEnv(t, envOptions{})
		e.respond(t, received{headerID: "5f1b7a8e-0000-4000-8000-000000000000", senderRef: "None"}, itk3.ResponseCode(20013))
		e.poll(t)
		as, err := e.store.ListAlerts(t.Context(), sender.AlertFilter{})
		if err != nil || len(as) != 1 || as[0].Reason != sender.ReasonUnmatched || as[0].TransmissionID != "" {
			t.Fatalf("alerts: %+v %v", as, err)
		}
		if ids, _ := e.client.Inbox(t.Context(), meshInboxAll); len(ids) != 0 {
			t.Fatalf("unmatched response left in the inbox: %v", ids)
		}
	})
	t.Run("other traffic in the mailbox is left alone", func(t *testing.T) {
		e := mustEnv(t, envOptions{})
		if _, err := e.practice.Send(t.Context(), mesh.SendRequest{To: senderMailbox, WorkflowID: "SOMETHING_ELSE", Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
		e.poll(t)
		if ids, _ := e.client.Inbox(t.Context(), meshInboxAll); len(ids) != 1 {
			t.Fatalf("inbox: %v, want the foreign message untouched", ids)
		}
	})
}

// TestStartStop runs the owned workers for real and stops them.
func TestStartStop(t *testing.T) {
	e := mustEnv(t, envOptions{tweak: func(c *sender.Config) {
		c.SendInterval, c.PollInterval, c.AlertInterval = 20*time.Millisecond, 20*time.Millisecond, 20*time.Millisecond
	}})
	e.svc.Stop() // before Start: harmless
	if err := e.svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.svc.Stop)
	if err := e.svc.Start(t.Context()); err == nil {
		t.Fatal("second Start succeeded")
	}
	tr := e.submit(t, exampleInput())
	deadline := time.Now().Add(20 * time.Second)
	for e.get(t, tr.ID).State != sender.StateSent {
		if time.Now().After(deadline) {
			t.Fatal("not sent by the running worker")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.svc.Stop()
	e.svc.Stop()
}

// Small ITK3 responses that between them hold every part ParseResponse
// reads: the XML one the handling extension, source and an "ok" response
// without OperationOutcome (TKW's InfAck), the JSON one an OperationOutcome
// code. Fuzz seeds must stay this small: the fuzzer minimises every input
// that finds new coverage by trying O(n²) cuts of it, each one a parse, and
// from the 3.7 kB indented bundles the fuzz test used to start from each
// minimisation ran out its 60 s budget, so fuzzing made no progress.
const (
	smallResponseXML = `<Bundle xmlns="http://hl7.org/fhir"><entry><resource><MessageHeader>` +
		`<extension url="https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2">` +
		`<extension url="SenderReference"><valueString value="r"/></extension></extension>` +
		`<event><code value="ITK008M"/></event><source><endpoint value="X27ABC1"/></source>` +
		`<response><identifier value="h"/><code value="ok"/></response></MessageHeader></resource></entry></Bundle>`
	smallResponseJSON = `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MessageHeader",` +
		`"event":{"code":"ITK008M"},"response":{"identifier":"h","code":"transient-error"}}},` +
		`{"resource":{"resourceType":"OperationOutcome","issue":[{"details":{"coding":[` +
		`{"system":"https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1","code":"10001"}]}}]}}]}`
)

func TestParseResponse(t *testing.T) {
	big, err := itk3.NewResponse(itk3.ResponseParams{Code: 20013, OriginalHeaderID: "h", SenderReference: "r", ResponderODS: "X27", ResponderMailbox: "X27ABC1", Now: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var built bytes.Buffer
	if err := fhir.EncodeXML(&built, big.Bundle, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      []byte
		want    itk3.Response
		wantErr string
	}{
		{"small XML", []byte(smallResponseXML), itk3.Response{Code: 20013, RespondsTo: "h", ResponseType: "ok", SenderReference: "r", SourceEndpoint: "X27ABC1"}, ""},
		{"small JSON after BOM and blanks", []byte("\ufeff \n" + smallResponseJSON), itk3.Response{Code: 10001, RespondsTo: "h", ResponseType: "transient-error"}, ""},
		{"built by itk3.NewResponse", built.Bytes(), itk3.Response{Code: 20013, RespondsTo: "h", ResponseType: "ok", SenderReference: "r", SourceEndpoint: "X27ABC1"}, ""},
		{"empty", []byte(" \r\n"), itk3.Response{}, "empty body"},
		{"not a bundle", []byte(`{"resourceType":"Patient"}`), itk3.Response{}, "not a FHIR Bundle"},
		{"too deep", []byte(strings.Repeat(`<Bundle xmlns="http://hl7.org/fhir"><entry><resource>`, 30)), itk3.Response{}, "deeper than 64"},
		{"too large", append([]byte("<"), make([]byte, 10<<20)...), itk3.Response{}, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := sender.ParseResponse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r.HeaderID = "" // random in the built one
			if r != tt.want {
				t.Errorf("got %+v, want %+v", r, tt.want)
			}
		})
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(smallResponseXML))
	f.Add([]byte(smallResponseJSON))
	f.Add([]byte("<Bundle"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := sender.ParseResponse(b)
		if err == nil && r.Code == 0 {
			t.Fatalf("accepted a response without a code: %+v", r)
		}
	})
}

func FuzzParseSubmission(f *testing.F) {
	f.Add([]byte(`{"patient":{}}`))
	f.Add([]byte(`{"resourceType":"Bundle"}`))
	f.Add([]byte(`<Bundle xmlns="http://hl7.org/fhir"/>`))
	f.Add([]byte(" \ufeff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sub, err := sender.ParseSubmission(b)
		if err == nil && sub.Input == nil && sub.Message == nil {
			t.Fatal("no error and nothing parsed")
		}
	})
}

func TestRouting(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*sender.Config)
	}{
		{"GPCM-SD-CS-060 auto GPPROVIDER routing", nil},
		{"explicit mailbox", func(c *sender.Config) { c.Routing, c.Mailbox = sender.RouteMailbox, practiceMailbox }},
		{"endpoint lookup of the practice ODS code", func(c *sender.Config) { c.Routing = sender.RouteLookup }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustEnv(t, envOptions{tweak: tt.tweak})
			in := exampleInput()
			in.RegisteredPractice.ODSCode = "X27"
			tr := e.submit(t, in)
			wantTo := practiceMailbox
			if tt.tweak == nil {
				wantTo = "GPPROVIDER_9434765919_19550109_Smith"
			}
			if !strings.EqualFold(tr.To, wantTo) {
				t.Fatalf("To: got %q, want %q", tr.To, wantTo)
			}
			e.sendDue(t)
			if got := e.practiceInbox(t); len(got) != 1 || got[0].headerID != tr.HeaderID {
				t.Fatalf("practice got %+v", got)
			}
		})
	}
	t.Run("lookup finding no mailbox is refused", func(t *testing.T) {
		e := mustEnv(t, envOptions{tweak: func(c *sender.Config) { c.Routing = sender.RouteLookup }})
		in := exampleInput()
		in.RegisteredPractice.ODSCode = "X99"
		if _, _, err := e.svc.Submit(t.Context(), sender.Submission{Input: &in}); !errors.Is(err, sender.ErrInvalid) {
			t.Fatalf("got %v, want ErrInvalid", err)
		}
	})
}

func TestWrongSenderMailbox(t *testing.T) {
	e := mustEnv(t, envOptions{})
	in := exampleInput()
	in.SenderMailbox = "X26ABC2"
	if _, _, err := e.svc.Submit(t.Context(), sender.Submission{Input: &in}); !errors.Is(err, sender.ErrInvalid) || !strings.Contains(err.Error(), "acknowledgements would go elsewhere") {
		t.Fatalf("submit: got %v", err)
	}
	// Queued by a process without MESH (gpcm send submit), then refused at send time.
	offline, err := sender.New(sender.Config{Store: e.store, Now: e.clock.Now, EditWindow: -1})
	if err != nil {
		t.Fatal(err)
	}
	tr, _, err := offline.Submit(t.Context(), sender.Submission{Input: &in})
	if err != nil {
		t.Fatal(err)
	}
	e.sendDue(t)
	e.mustState(t, tr.ID, sender.StateFailed)
	if as := e.alerts(t, tr.ID); len(as) != 1 || as[0].Reason != sender.ReasonRejected {
		t.Fatalf("alerts: %+v", as)
	}
	if got := e.practiceInbox(t); len(got) != 0 {
		t.Fatalf("practice got %d messages, want none", len(got))
	}
}
