package updaterecord_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/updaterecord"
)

var buildTime = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// MustBuild builds an input with a fixed clock.
func MustBuild(tb testing.TB, in updaterecord.Input) *updaterecord.Built {
	tb.Helper()
	b, err := updaterecord.Build(in, updaterecord.BuildOptions{Now: func() time.Time { return buildTime }})
	if err != nil {
		tb.Fatalf("Build: %v", err)
	}
	return b
}

func mustXML(tb testing.TB, r fhir.Resource) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := fhir.EncodeXML(&buf, r, nil); err != nil {
		tb.Fatalf("EncodeXML: %v", err)
	}
	return buf.Bytes()
}

func mustJSON(tb testing.TB, r fhir.Resource) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := fhir.EncodeJSON(&buf, r, nil); err != nil {
		tb.Fatalf("EncodeJSON: %v", err)
	}
	return buf.Bytes()
}

// meshOf is the MESH metadata a built message is sent with.
func meshOf(b *updaterecord.Built) *updaterecord.MeshMetadata {
	e := b.Envelope
	return &updaterecord.MeshMetadata{Transport: "api", WorkflowID: e.WorkflowID, From: e.From, To: e.To, Subject: e.Subject, LocalID: e.LocalID}
}

func mustValidate(tb testing.TB, data []byte, opts updaterecord.Options) updaterecord.Report {
	tb.Helper()
	rep, err := updaterecord.ValidateBytes(context.Background(), data, opts)
	if err != nil {
		tb.Fatalf("Validate: %v", err)
	}
	return rep
}

func dump(rep updaterecord.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "kind=%s useCase=%s code=%s\n", rep.Kind, rep.UseCase, rep.ResponseCode)
	for _, f := range rep.Findings {
		fmt.Fprintln(&b, "  ", f)
	}
	return b.String()
}

// want is a row of an expected-findings table: n findings of requirement
// id with severity sev whose message or path contains text.
type want struct {
	id   string
	sev  updaterecord.Severity
	text string
	n    int
}

const (
	E = updaterecord.SeverityError
	W = updaterecord.SeverityWarning
	I = updaterecord.SeverityInfo
)

// checkExactly fails unless every finding matches exactly one row and each
// row matches exactly n findings: nothing missing, nothing invented.
func checkExactly(t *testing.T, rep updaterecord.Report, wants []want) {
	t.Helper()
	got := make([]int, len(wants))
	for _, f := range rep.Findings {
		matched := -1
		for i, w := range wants {
			if f.Requirement == w.id && f.Severity == w.sev && (strings.Contains(f.Message, w.text) || strings.Contains(f.Path, w.text)) {
				matched = i
				break
			}
		}
		if matched < 0 {
			t.Errorf("unexpected finding: %s", f)
			continue
		}
		got[matched]++
	}
	for i, w := range wants {
		if got[i] != w.n {
			t.Errorf("%s %s %q: got %d findings, want %d", w.sev, w.id, w.text, got[i], w.n)
		}
	}
	if t.Failed() {
		t.Log(dump(rep))
	}
}

// msg is a built message whose typed model tests mutate.
type msg struct {
	b *fhir.Bundle
}

func (m msg) header() *fhir.MessageHeader { return m.b.Entry[0].Resource.(*fhir.MessageHeader) }

func (m msg) doc() *fhir.Bundle {
	for _, e := range m.b.Entry {
		if d, ok := e.Resource.(*fhir.Bundle); ok {
			return d
		}
	}
	return nil
}

// nth returns the i-th resource of a type in the document bundle.
func (m msg) nth(typ string, i int) fhir.Resource {
	for _, e := range m.doc().Entry {
		if e.Resource.ResourceType() == typ {
			if i == 0 {
				return e.Resource
			}
			i--
		}
	}
	panic("no " + typ)
}

func (m msg) comp() *fhir.Composition { return m.nth("Composition", 0).(*fhir.Composition) }

func (m msg) url(typ string) string {
	for _, e := range m.doc().Entry {
		if e.Resource.ResourceType() == typ {
			return e.FullURL.String()
		}
	}
	return ""
}

// drop removes every resource of a type from the document bundle.
func (m msg) drop(typ string) {
	d := m.doc()
	var keep []*fhir.BundleEntry
	for _, e := range d.Entry {
		if e.Resource.ResourceType() != typ {
			keep = append(keep, e)
		}
	}
	d.Entry = keep
}

// add appends a resource to the document bundle under a fresh urn:uuid.
func (m msg) add(r fhir.Resource, id string) {
	d := m.doc()
	d.Entry = append(d.Entry, &fhir.BundleEntry{FullURL: fhir.NewURI("urn:uuid:" + id), Resource: r})
}

func (m msg) handling(key string) *fhir.Extension {
	for _, x := range m.header().Extension[0].Extension {
		if x.URL == key {
			return x
		}
	}
	panic("no handling key " + key)
}

func ref(u string) *fhir.Reference { return &fhir.Reference{Reference: fhir.NewString(u)} }

func profile(p string) *fhir.Meta { return &fhir.Meta{Profile: []*fhir.URI{fhir.NewURI(p)}} }
