package report_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gpcm/gpcm/report"
)

// FuzzRender feeds outside text (names, notes, telephone numbers come from
// received messages) into every kind of field: rendering must succeed or
// return a typed error, never panic.
func FuzzRender(f *testing.F) {
	f.Add("Smith", "9434765919", "01136323200", "Observation", "Suspected COVID-19\nline two", false)
	f.Add("O’Brien-Zoë", "943 476 5919", "+44 113 ext 4", "", "\t\r\n\x00", true)
	f.Add("", "", "", "\u2028", "漢字 🙂", false)
	f.Add("Smith 🙂", "9434765919", "İ ext 1", "\xff\xfe", "🙂\u0301", false)
	f.Fuzz(func(t *testing.T, family, nhs, phone, title, text string, confidential bool) {
		c := exampleConsultation()
		c.Patient.Family = family
		c.Patient.NHSNumber = nhs
		c.Patient.Phone = phone
		c.Patient.Address = []string{text}
		c.Organisation.Email = text
		c.Confidential = confidential
		c.Sections = append(c.Sections, report.Section{Title: title, Text: text, Items: []report.Item{{Text: text}}})
		c.FollowUpActions = text
		var buf bytes.Buffer
		err := report.Render(&buf, c)
		if err != nil {
			if !errors.Is(err, report.ErrInvalid) && !errors.Is(err, report.ErrTooLong) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
			t.Fatal("output is not a PDF")
		}
	})
}
