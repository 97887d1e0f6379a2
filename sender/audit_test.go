package sender_test

import (
	"errors"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
)

// TestAuditConfidentialRefused: the outbox refuses, before anything is
// stored, a confidential (R) v1 report whose narrative or MESH subject still
// says where the patient was seen, under every routing; a confidential
// report gpcm builds is queued (issue 20 item 3).
func TestAuditConfidentialRefused(t *testing.T) {
	leaky := "Consultation report for Richard Smith, NHS Number 9434765919, seen at Leeds Urgent Care Centre, ODS Code X26, Version 1"
	// ready builds the example, marks it R (its narrative still says where)
	// or not, and returns the message for a Submission.
	ready := func(t *testing.T, markR, cleanNarrative bool) []byte {
		t.Helper()
		in := exampleInput()
		in.Confidential = cleanNarrative
		b, err := senddoc.Build(in, senddoc.BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if markR {
			for _, e := range b.Message.Bundle.Entry {
				if doc, ok := e.Resource.(*fhir.Bundle); ok {
					doc.Entry[0].Resource.(*fhir.Composition).Confidentiality = fhir.NewCode("R")
				}
			}
		}
		x, err := b.XML()
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, routing := range []sender.Routing{sender.RouteAuto, sender.RouteMailbox} {
		tests := []struct {
			name    string
			sub     func(t *testing.T) sender.Submission
			refused string // requirement of the refusal; "" = queued
		}{
			{"1.5.2:GPCM-SD-CS-023 R message whose narrative says where", func(t *testing.T) sender.Submission {
				return sender.Submission{Message: ready(t, true, false), Envelope: &senddoc.Envelope{To: "GPPROVIDER_9434765919_19550109_Smith",
					Subject: "Consultation report for Richard Smith, NHS Number 9434765919, Version 1", LocalID: "X26"}}
			}, "GPCM-SD-CS-023"},
			{"1.5.2:GPCM-SD-CS-030 R message whose subject says where", func(t *testing.T) sender.Submission {
				return sender.Submission{Message: ready(t, true, true), Envelope: &senddoc.Envelope{To: "GPPROVIDER_9434765919_19550109_Smith",
					Subject: leaky, LocalID: "X26"}}
			}, "GPCM-SD-CS-030"},
			{"1.5.2:GPCM-SD-CS-030 confidential input built by gpcm", func(t *testing.T) sender.Submission {
				in := exampleInput()
				in.Confidential = true
				return sender.Submission{Input: &in}
			}, ""},
		}
		for _, tt := range tests {
			t.Run(string(routing)+"/"+tt.name, func(t *testing.T) {
				e := mustEnv(t, envOptions{tweak: func(c *sender.Config) {
					c.Routing = routing
					if routing == sender.RouteMailbox {
						c.Mailbox = practiceMailbox
					}
				}})
				tr, _, err := e.svc.Submit(t.Context(), tt.sub(t))
				if tt.refused == "" {
					if err != nil {
						t.Fatalf("got %v, want queued", err)
					}
					e.mustState(t, tr.ID, sender.StateQueued)
					return
				}
				ie, ok := errors.AsType[*sender.InvalidError](err)
				if !ok || !hasFinding(ie.Findings, tt.refused) {
					t.Fatalf("got %v, want refused for %s", err, tt.refused)
				}
				if n, _ := e.store.CountByState(t.Context()); len(n) != 0 {
					t.Fatalf("stored %v, want nothing", n)
				}
			})
		}
	}
}

func hasFinding(fs []senddoc.Finding, id string) bool {
	for _, f := range fs {
		if f.Requirement == id {
			return true
		}
	}
	return false
}
