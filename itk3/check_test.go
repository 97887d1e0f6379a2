package itk3_test

import (
	"testing"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
)

func TestCheckHandling(t *testing.T) {
	const def = "https://fhir.nhs.uk/MessageDefinition"
	rules := itk3.HandlingRules{InfAckRequested: true, BusAckRequested: true, MessageDefinitions: []string{def},
		LocalExtension: "None", SenderReferenceRequired: true}
	key := func(h *fhir.MessageHeader, name string) *fhir.Extension {
		for _, k := range h.Extension[0].Extension {
			if k.URL == name {
				return k
			}
		}
		t.Fatalf("no key %s", name)
		return nil
	}
	drop := func(name string) func(*fhir.MessageHeader) {
		return func(h *fhir.MessageHeader) {
			var keep []*fhir.Extension
			for _, k := range h.Extension[0].Extension {
				if k.URL != name {
					keep = append(keep, k)
				}
			}
			h.Extension[0].Extension = keep
		}
	}
	tests := []struct {
		name    string
		mutate  func(*fhir.MessageHeader)
		key     string
		code    itk3.ResponseCode
		missing bool
	}{
		{name: "conformant", mutate: func(*fhir.MessageHeader) {}},
		{name: "no extension", mutate: func(h *fhir.MessageHeader) { h.Extension = nil }, code: 10001, missing: true},
		{name: "twice", mutate: func(h *fhir.MessageHeader) { h.Extension = append(h.Extension, h.Extension[0]) }, code: 10001},
		{name: "BusAck false", mutate: func(h *fhir.MessageHeader) { key(h, "BusAckRequested").Value = fhir.NewBoolean(false) }, key: "BusAckRequested", code: 10003},
		{name: "BusAck missing", mutate: drop("BusAckRequested"), key: "BusAckRequested", code: 10003, missing: true},
		{name: "InfAck a string", mutate: func(h *fhir.MessageHeader) { key(h, "InfAckRequested").Value = fhir.NewString("yes") }, key: "InfAckRequested", code: 10002, missing: true},
		{name: "RecipientType XX", mutate: func(h *fhir.MessageHeader) { key(h, "RecipientType").Value.(*fhir.Coding).Code = fhir.NewCode("XX") }, key: "RecipientType", code: 10010},
		{name: "MessageDefinition other", mutate: func(h *fhir.MessageHeader) {
			key(h, "MessageDefinition").Value = &fhir.Reference{Reference: fhir.NewString("https://example.org/md")}
		}, key: "MessageDefinition", code: 10004},
		{name: "MessageDefinition missing", mutate: drop("MessageDefinition"), key: "MessageDefinition", code: 10004, missing: true},
		{name: "SenderReference None", mutate: func(h *fhir.MessageHeader) { key(h, "SenderReference").Value = fhir.NewString("None") }, key: "SenderReference", code: 10007},
		{name: "LocalExtension other", mutate: func(h *fhir.MessageHeader) { key(h, "LocalExtension").Value = fhir.NewString("X") }, key: "LocalExtension", code: 10001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := itk3.NewMessage(itk3.Header{Event: "ITK014M", SourceEndpoint: "MB1", SenderODS: "FA123", Timestamp: time.Now(),
				Handling: itk3.Handling{InfAckRequested: true, BusAckRequested: true, RecipientType: "FA", MessageDefinition: def, SenderReference: "act-1"}}, "")
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(m.Header)
			got := itk3.CheckHandling(m.Header, rules)
			if tt.code == 0 {
				if len(got) != 0 {
					t.Fatalf("got %+v, want no issues", got)
				}
				return
			}
			if len(got) != 1 || got[0].Key != tt.key || got[0].Code != tt.code || got[0].Missing != tt.missing {
				t.Fatalf("got %+v, want one issue key %q code %s missing %v", got, tt.key, tt.code, tt.missing)
			}
		})
	}
}
