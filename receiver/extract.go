package receiver

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
)

const nhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"

// parsed is what the receiver reads from a Send Document message beyond the
// validator's report.
type parsed struct {
	RecipientType string
	Destinations  []string // MessageHeader.destination.endpoint values
	SenderODS     string   // ODS code of the Organization MessageHeader.sender names
	DocBundleID   string
	DocumentID    string
	TypeLabel     string
	Title         string
	Patient       DocPatient
	ReplacesIDs   []string // relatesTo replaces target identifiers
	Attachments   []binaryPart
}

type binaryPart struct {
	Title       string
	ContentType string
	Data        []byte
}

// parseMessage decodes the message bundle, stopping when ctx ends (the
// processing budget); ok is false when it cannot.
func parseMessage(ctx context.Context, b []byte, maxBytes int64) (p parsed, ok bool) {
	res, _, _, err := fhir.DecodeContext(ctx, bytes.NewReader(b), &fhir.DecodeOptions{MaxBytes: maxBytes})
	if err != nil {
		return p, false
	}
	msg, isBundle := res.(*fhir.Bundle)
	if !isBundle {
		return p, false
	}
	return parseBundle(msg), true
}

// parseBundle reads what the receiver keeps of a decoded message bundle.
func parseBundle(msg *fhir.Bundle) (p parsed) {
	var doc *fhir.Bundle
	senderRef := ""
	orgs := map[string]*fhir.Organization{}
	for _, e := range msg.Entry {
		if e == nil {
			continue
		}
		switch r := e.Resource.(type) {
		case *fhir.Organization:
			orgs[e.FullURL.String()] = r
		case *fhir.MessageHeader:
			if r.Sender != nil && senderRef == "" {
				senderRef = r.Sender.Reference.String()
			}
			if hs, ok := itk3.ReadHandling(r); ok {
				p.RecipientType = hs.RecipientType
			}
			for _, d := range r.Destination {
				if d != nil && d.Endpoint.String() != "" {
					p.Destinations = append(p.Destinations, d.Endpoint.String())
				}
			}
		case *fhir.Bundle:
			if doc == nil {
				doc = r
			}
		}
	}
	if org := orgs[senderRef]; org != nil {
		for _, id := range org.Identifier {
			if id != nil && id.System.String() == itk3.ODSSystem {
				p.SenderODS = strings.TrimSpace(id.Value.String())
				break
			}
		}
	}
	if doc == nil {
		return p
	}
	if doc.Identifier != nil {
		p.DocBundleID = doc.Identifier.Value.String()
	}
	byURL := map[string]fhir.Resource{}
	var comp *fhir.Composition
	var firstPatient *fhir.Patient
	for _, e := range doc.Entry {
		if e == nil || e.Resource == nil {
			continue
		}
		if u := e.FullURL.String(); u != "" {
			if _, dup := byURL[u]; !dup {
				byURL[u] = e.Resource
			}
		}
		switch r := e.Resource.(type) {
		case *fhir.Composition:
			if comp == nil {
				comp = r
			}
		case *fhir.Patient:
			if firstPatient == nil {
				firstPatient = r
			}
		}
	}
	pat := firstPatient
	titles := map[string]string{} // fullUrl → section title
	if comp != nil {
		if comp.Identifier != nil {
			p.DocumentID = comp.Identifier.Value.String()
		}
		p.Title = comp.Title.String()
		if comp.Type != nil {
			for _, c := range comp.Type.Coding {
				if c != nil && c.Display.String() != "" {
					p.TypeLabel = c.Display.String()
					break
				}
			}
			if p.TypeLabel == "" {
				p.TypeLabel = comp.Type.Text.String()
			}
		}
		if comp.Subject != nil {
			if r, ok := byURL[comp.Subject.Reference.String()].(*fhir.Patient); ok {
				pat = r
			}
		}
		for _, rt := range comp.RelatesTo {
			if rt == nil || rt.Code.String() != "replaces" {
				continue
			}
			switch t := rt.Target.(type) {
			case *fhir.Identifier:
				if v := t.Value.String(); v != "" {
					p.ReplacesIDs = append(p.ReplacesIDs, v)
				}
			case *fhir.Reference:
				if t.Identifier != nil && t.Identifier.Value.String() != "" {
					p.ReplacesIDs = append(p.ReplacesIDs, t.Identifier.Value.String())
				} else if v := t.Reference.String(); v != "" {
					p.ReplacesIDs = append(p.ReplacesIDs, strings.TrimPrefix(v, "urn:uuid:"))
				}
			}
		}
		var walk func([]*fhir.CompositionSection)
		walk = func(ss []*fhir.CompositionSection) {
			for _, s := range ss {
				if s == nil {
					continue
				}
				for _, e := range s.Entry {
					if e != nil && s.Title.String() != "" {
						if _, seen := titles[e.Reference.String()]; !seen {
							titles[e.Reference.String()] = s.Title.String()
						}
					}
				}
				walk(s.Section)
			}
		}
		walk(comp.Section)
	}
	if p.TypeLabel == "" {
		p.TypeLabel = p.Title
	}
	if pat != nil {
		p.Patient = patientOf(pat)
	}
	for _, e := range doc.Entry {
		if e == nil {
			continue
		}
		bin, ok := e.Resource.(*fhir.Binary)
		if !ok {
			continue
		}
		data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(bin.Content.String()), ""))
		if err != nil {
			continue
		}
		title := titles[e.FullURL.String()]
		if title == "" {
			title = "Attachment " + itoa(len(p.Attachments)+1)
		}
		p.Attachments = append(p.Attachments, binaryPart{Title: title, ContentType: bin.ContentType.String(), Data: data})
	}
	return p
}

func patientOf(pt *fhir.Patient) DocPatient {
	var d DocPatient
	for _, id := range pt.Identifier {
		if id != nil && id.System.String() == nhsNumberSystem {
			d.NHSNumber = strings.ReplaceAll(id.Value.String(), " ", "")
			break
		}
	}
	d.BirthDate = pt.BirthDate.String()
	var name *fhir.HumanName
	for _, n := range pt.Name {
		if n == nil {
			continue
		}
		if name == nil || n.Use.String() == "official" {
			name = n
			if n.Use.String() == "official" {
				break
			}
		}
	}
	if name != nil {
		d.Family = name.Family.String()
		var gs []string
		for _, g := range name.Given {
			if g.String() != "" {
				gs = append(gs, g.String())
			}
		}
		d.Given = strings.Join(gs, " ")
	}
	return d
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
