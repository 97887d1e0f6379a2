package itk3

import (
	"errors"
	"fmt"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/internal/uuid"
)

// Handling is the MessageHandling extension of an ITK3 MessageHeader.
type Handling struct {
	BusAckRequested   bool
	InfAckRequested   bool
	RecipientType     string // FA or FI
	MessageDefinition string
	SenderReference   string // default "None"
	LocalExtension    string // default "None"
}

// Extension returns the handling specification as a FHIR extension with its
// six keys.
func (h Handling) Extension() *fhir.Extension {
	def := func(s string) string {
		if s == "" {
			return "None"
		}
		return s
	}
	rt := h.RecipientType
	if rt == "" {
		rt = "FI"
	}
	display := map[string]string{"FA": "For Action", "FI": "For Information"}[rt]
	return &fhir.Extension{URL: MessageHandlingURL, Extension: []*fhir.Extension{
		{URL: "BusAckRequested", Value: fhir.NewBoolean(h.BusAckRequested)},
		{URL: "InfAckRequested", Value: fhir.NewBoolean(h.InfAckRequested)},
		{URL: "RecipientType", Value: &fhir.Coding{System: fhir.NewURI(RecipientTypeSystem), Code: fhir.NewCode(rt), Display: str(display)}},
		{URL: "MessageDefinition", Value: &fhir.Reference{Reference: fhir.NewString(def(h.MessageDefinition))}},
		{URL: "SenderReference", Value: fhir.NewString(def(h.SenderReference))},
		{URL: "LocalExtension", Value: fhir.NewString(def(h.LocalExtension))},
	}}
}

func str(s string) *fhir.String {
	if s == "" {
		return nil
	}
	return fhir.NewString(s)
}

// ReadHandling reads the handling specification of a MessageHeader. ok is
// false when the extension is absent.
func ReadHandling(h *fhir.MessageHeader) (hs Handling, ok bool) {
	if h == nil {
		return hs, false
	}
	for _, e := range h.Extension {
		if e == nil || e.URL != MessageHandlingURL {
			continue
		}
		ok = true
		for _, k := range e.Extension {
			if k == nil {
				continue
			}
			switch v := k.Value.(type) {
			case *fhir.Boolean:
				switch k.URL {
				case "BusAckRequested":
					hs.BusAckRequested = v.Bool()
				case "InfAckRequested":
					hs.InfAckRequested = v.Bool()
				}
			case *fhir.Coding:
				if k.URL == "RecipientType" && v != nil {
					hs.RecipientType = v.Code.String()
				}
			case *fhir.Reference:
				if k.URL == "MessageDefinition" && v != nil {
					hs.MessageDefinition = v.Reference.String()
				}
			case *fhir.String:
				switch k.URL {
				case "SenderReference":
					hs.SenderReference = v.String()
				case "LocalExtension":
					hs.LocalExtension = v.String()
				case "MessageDefinition":
					hs.MessageDefinition = v.String()
				}
			case *fhir.URI:
				if k.URL == "MessageDefinition" {
					hs.MessageDefinition = v.String()
				}
			}
		}
	}
	return hs, ok
}

// Header describes an ITK3 message envelope.
type Header struct {
	BundleID         string // Bundle.id (a UUID); generated when empty
	BundleIdentifier string // Bundle.identifier.value (a UUID); generated when empty
	HeaderID         string // MessageHeader.id (a UUID); generated when empty
	Event            string // ITK007C, ITK008M
	EventDisplay     string
	Timestamp        time.Time
	SourceEndpoint   string // the sender's MESH mailbox ID
	SenderODS        string // ODS code of the sending organisation
	Handling         Handling
}

// Entry is a resource placed in a message bundle with its fullUrl.
type Entry struct {
	FullURL  string
	Resource fhir.Resource
}

// NewUUID returns a random UUID (version 4), lower-case and hyphenated.
func NewUUID() string { return uuid.New() }

// Message is a built ITK3 message bundle.
type Message struct {
	Bundle *fhir.Bundle
	Header *fhir.MessageHeader
}

// ErrHeader reports an unusable Header description.
var ErrHeader = errors.New("itk3: invalid message header")

// NewMessage builds the message Bundle: MessageHeader first, then the header
// Organization (CareConnect-ITK-Header-Organization-1) that
// MessageHeader.sender references, then the entries. focus, when not empty,
// is the fullUrl of the payload the header points at.
func NewMessage(h Header, focus string, entries ...Entry) (*Message, error) {
	if h.Event == "" || h.SourceEndpoint == "" || h.SenderODS == "" {
		return nil, fmt.Errorf("%w: event, source endpoint and sender ODS code are required", ErrHeader)
	}
	if h.BundleID == "" {
		h.BundleID = NewUUID()
	}
	if h.BundleIdentifier == "" {
		h.BundleIdentifier = NewUUID()
	}
	if h.HeaderID == "" {
		h.HeaderID = NewUUID()
	}
	if h.Timestamp.IsZero() {
		h.Timestamp = time.Now()
	}
	orgURL := "urn:uuid:" + NewUUID()
	org := &fhir.Organization{
		ID:   fhir.NewID(orgURL[len("urn:uuid:"):]),
		Meta: &fhir.Meta{Profile: []*fhir.URI{fhir.NewURI(HeaderOrganizationProfile)}},
		Identifier: []*fhir.Identifier{{
			System: fhir.NewURI(ODSSystem), Value: fhir.NewString(h.SenderODS),
		}},
	}
	mh := &fhir.MessageHeader{
		ID:        fhir.NewID(h.HeaderID),
		Meta:      &fhir.Meta{Profile: []*fhir.URI{fhir.NewURI(MessageHeaderProfile)}},
		Extension: []*fhir.Extension{h.Handling.Extension()},
		Event:     &fhir.Coding{System: fhir.NewURI(MessageEventSystem), Code: fhir.NewCode(h.Event), Display: str(h.EventDisplay)},
		Sender:    &fhir.Reference{Reference: fhir.NewString(orgURL)},
		Timestamp: fhir.NewInstant(h.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z07:00")),
		Source:    &fhir.MessageHeaderSource{Endpoint: fhir.NewURI(h.SourceEndpoint)},
	}
	if focus != "" {
		mh.Focus = []*fhir.Reference{{Reference: fhir.NewString(focus)}}
	}
	b := &fhir.Bundle{
		ID:         fhir.NewID(h.BundleID),
		Meta:       &fhir.Meta{Profile: []*fhir.URI{fhir.NewURI(MessageBundleProfile)}},
		Identifier: &fhir.Identifier{System: fhir.NewURI(UUIDIdentifierSystem), Value: fhir.NewString(h.BundleIdentifier)},
		Type:       fhir.NewCode("message"),
		Entry: []*fhir.BundleEntry{
			{FullURL: fhir.NewURI("urn:uuid:" + h.HeaderID), Resource: mh},
			{FullURL: fhir.NewURI(orgURL), Resource: org},
		},
	}
	for _, e := range entries {
		b.Entry = append(b.Entry, &fhir.BundleEntry{FullURL: fhir.NewURI(e.FullURL), Resource: e.Resource})
	}
	return &Message{Bundle: b, Header: mh}, nil
}
