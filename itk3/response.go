package itk3

import (
	"fmt"
	"time"

	"github.com/gpcm/gpcm/fhir"
)

// ResponseParams describes an ITK3 response (event ITK008M).
type ResponseParams struct {
	Code ResponseCode
	// OriginalHeaderID is the MessageHeader.id of the message answered; empty
	// means it could not be read and UnreadableIdentifier is sent.
	OriginalHeaderID string
	// SenderReference echoes the original's SenderReference ("None" if unknown).
	SenderReference string
	// ResponderODS and ResponderMailbox identify who answers.
	ResponderODS     string
	ResponderMailbox string
	// Diagnostics explains a negative code (GPCM-SD-042); it must not hold
	// patient-identifiable data.
	Diagnostics string
	Now         time.Time
}

// NewResponse builds an ITK3 response message: MessageHeader (event ITK008M,
// both acknowledgement flags false, response.identifier = the original
// MessageHeader.id), the responder's header Organization and an
// ITK-Response-OperationOutcome-1 carrying the response code.
func NewResponse(p ResponseParams) (*Message, error) {
	if !p.Code.Known() {
		return nil, fmt.Errorf("itk3: %d is not an ITK3 response code", int(p.Code))
	}
	orig := p.OriginalHeaderID
	if orig == "" {
		orig = UnreadableIdentifier
	}
	diag := p.Diagnostics
	if diag == "" && !p.Code.Positive() {
		diag = p.Code.Display()
	}
	ooID := NewUUID()
	oo := &fhir.OperationOutcome{
		ID:   fhir.NewID(ooID),
		Meta: &fhir.Meta{Profile: []*fhir.URI{fhir.NewURI(ResponseOutcomeProfile)}},
		Issue: []*fhir.OperationOutcomeIssue{{
			Severity: fhir.NewCode(p.Code.Severity()),
			Code:     fhir.NewCode(p.Code.IssueType()),
			Details: &fhir.CodeableConcept{Coding: []*fhir.Coding{{
				System: fhir.NewURI(ResponseCodeSystem), Code: fhir.NewCode(p.Code.String()), Display: fhir.NewString(p.Code.Display()),
			}}},
			Diagnostics: str(diag),
		}},
	}
	m, err := NewMessage(Header{
		Event: EventResponse, EventDisplay: "ITK Response", Timestamp: p.Now,
		SourceEndpoint: p.ResponderMailbox, SenderODS: p.ResponderODS,
		Handling: Handling{
			RecipientType: "FI", MessageDefinition: ResponseDefinition,
			SenderReference: p.SenderReference, LocalExtension: "None",
		},
	}, "", Entry{FullURL: "urn:uuid:" + ooID, Resource: oo})
	if err != nil {
		return nil, err
	}
	m.Header.Response = &fhir.MessageHeaderResponse{
		Identifier: fhir.NewID(orig),
		Code:       fhir.NewCode(p.Code.ResponseType()),
		Details:    &fhir.Reference{Reference: fhir.NewString("urn:uuid:" + ooID)},
	}
	return m, nil
}

// Response is what a sender reads from a received ITK3 response.
type Response struct {
	HeaderID        string
	RespondsTo      string // original MessageHeader.id or UnreadableIdentifier
	ResponseType    string // ok / fatal-error
	Code            ResponseCode
	Diagnostics     string
	SenderReference string
	SourceEndpoint  string
}

// ReadResponse extracts the response fields of an ITK008M bundle.
func ReadResponse(b *fhir.Bundle) (Response, error) {
	if b == nil || len(b.Entry) == 0 || b.Entry[0] == nil {
		return Response{}, fmt.Errorf("itk3: the bundle has no entries")
	}
	mh, ok := b.Entry[0].Resource.(*fhir.MessageHeader)
	if !ok {
		return Response{}, fmt.Errorf("itk3: the first entry is not a MessageHeader")
	}
	if mh.Event == nil || mh.Event.Code.String() != EventResponse {
		return Response{}, fmt.Errorf("itk3: not an ITK3 response (event is not %s)", EventResponse)
	}
	if mh.Response == nil {
		return Response{}, fmt.Errorf("itk3: MessageHeader.response is missing")
	}
	r := Response{HeaderID: mh.ID.String(), RespondsTo: mh.Response.Identifier.String(), ResponseType: mh.Response.Code.String()}
	if mh.Source != nil {
		r.SourceEndpoint = mh.Source.Endpoint.String()
	}
	if h, ok := ReadHandling(mh); ok {
		r.SenderReference = h.SenderReference
	}
	for _, e := range b.Entry {
		oo, ok := e.Resource.(*fhir.OperationOutcome)
		if !ok {
			continue
		}
		for _, is := range oo.Issue {
			if is == nil || is.Details == nil {
				continue
			}
			for _, cd := range is.Details.Coding {
				if cd != nil && cd.System.String() == ResponseCodeSystem && r.Code == 0 {
					if c, err := ParseResponseCode(cd.Code.String()); err == nil {
						r.Code = c
						r.Diagnostics = is.Diagnostics.String()
					}
				}
			}
		}
	}
	if r.Code == 0 {
		if r.ResponseType == "ok" {
			r.Code = CodeSuccess // TKW omits the OperationOutcome for OK infrastructure acks
		} else {
			return r, fmt.Errorf("itk3: the response carries no ITK3 response code")
		}
	}
	return r, nil
}
