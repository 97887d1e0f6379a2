package report_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/report"
)

func mustRender(t testing.TB, c *report.Consultation) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Render(&buf, c); err != nil {
		t.Fatalf("Render: %v", err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatal("output is not a PDF")
	}
	return buf.Bytes()
}

func TestRenderOfficialExample(t *testing.T) {
	text := mustPDFText(t, mustRender(t, exampleConsultation()), "-layout")
	if n := len(pages(text)); n != 1 {
		t.Fatalf("got %d pages, want 1", n)
	}
	// GPCM-SD-CS-005: the blocks of the published layout, top to bottom.
	assertInOrder(t, text,
		"CONSULTATION REPORT",
		"Version 1", "Number of related documents: 0", "Page 1 of 1",
		"Patient Name:", "SMITH, Richard (Mr)", "DOB:", "09-Jan-1957", "NHS No:", "998 945 3456",
		"Home/Registered",
		"Consulting Organisation",
		"Clinician:", "Dr Gary Pritchard", "Tel No:", "0113 632 3200",
		"Organisation:", "Cumbria Starling Medical Centre (GP0001)",
		"Consultation Date:", "25-Mar-2020 10:00", "Receiving GP Practice:",
		"CLINICAL NOTES",
		"Summary Reason:", "A patient recently consulted with a clinician",
		"Observation:", "Suspected COVID-19",
		"Confidential: personal data", "Page 1 of 1",
	)
	if !strings.Contains(text, "- Confidential: personal data -") || !strings.Contains(text, "GP Connect") {
		t.Fatal("banner text missing")
	}
}

func TestRenderFullLayout(t *testing.T) {
	c := fullConsultation(1)
	text := mustPDFText(t, mustRender(t, c), "-layout")
	tests := []struct {
		name string
		want []string
	}{
		{name: "GPCM-SD-CS-006 version in the PDF", want: []string{"Version 2"}},
		{name: "related documents", want: []string{"Number of related documents: 3"}},
		{name: "name with diacritics extractable", want: []string{"SMITH-BRONTË, Richard Zoë (Mr)"}},
		{name: "patient block order", want: []string{"Patient Name:", "DOB:", "NHS No:", "Home/Registered", "Flat 2a, 123 Generic Street", "Current Address:", "567 New Street"}},
		{name: "telephones", want: []string{"Gender:", "Male", "Tel No:", "01234 567890", "Mobile No:", "07700 900123", "Current Tel No:", "020 7946 0000"}},
		{name: "organisation block", want: []string{"Clinician:", "Dr Gary Pritchard, General Practitioner", "Email:", "surgeryemail@surgeryname.nhs.net", "Branch Location:", "Starling Branch Surgery", "Organisation:", "CA1 1AA", "Receiving GP Practice:", "Riverside Health Centre"}},
		{name: "GPCM-SD-CS-016 summary reason first", want: []string{"CLINICAL NOTES", "Summary Reason:", "summary of the", "History:"}},
		{name: "follow-up actions last", want: []string{"History:", "Paracetamol 500mg", "Confidential item", "Follow-up Actions:", "Review in two weeks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertInOrder(t, text, tt.want...)
		})
	}
	if strings.Contains(text, "Hidden") {
		t.Fatal("a confidential item's text is printed")
	}
}

func TestRenderContinuationPages(t *testing.T) {
	c := fullConsultation(12)
	pdf := mustRender(t, c)
	pp := pages(mustPDFText(t, pdf))
	n := len(pp)
	if n < 3 {
		t.Fatalf("got %d pages, want at least 3 for 12 long sections", n)
	}
	for i, p := range pp {
		t.Run(fmt.Sprintf("page %d", i+1), func(t *testing.T) {
			label := fmt.Sprintf("Page %d of %d", i+1, n)
			if got := strings.Count(p, label); got != 2 {
				t.Fatalf("%q occurs %d times, want 2 (information bar and footer)", label, got)
			}
			assertInOrder(t, p, "Version 2", "Patient Name:", "SMITH-BRONTË", "998 945 3456", "CLINICAL NOTES")
			first := i == 0
			if got := strings.Contains(p, "CONSULTATION REPORT"); got != first {
				t.Fatalf("banner present = %v, want %v", got, first)
			}
			if got := strings.Contains(p, "Consulting Organisation"); got != first {
				t.Fatalf("organisation block present = %v, want %v", got, first)
			}
			if got := strings.Contains(p, "CLINICAL NOTES (continued)"); got == first {
				t.Fatalf("continued notes bar present = %v, want %v", got, !first)
			}
			if !first && !strings.Contains(p, "Mobile:") {
				t.Fatal(`continuation page lacks "Mobile:"`)
			}
			if got := strings.Contains(p, "Follow-up Actions:"); got != (i == n-1) {
				t.Fatalf("follow-up actions present = %v, want only on the last page", got)
			}
		})
	}
	// Every section title is printed, in order, across the pages.
	all := strings.Join(strings.Fields(strings.Join(pp, "\n")), " ")
	var titles []string
	for _, s := range c.Sections {
		titles = append(titles, s.Title+":")
	}
	assertInOrder(t, all, titles...)
}

func TestRenderConfidential(t *testing.T) {
	c := fullConsultation(2)
	c.Confidential = true
	text := mustPDFText(t, mustRender(t, c))
	if !strings.Contains(text, report.ConfidentialNotes) {
		t.Fatalf("%q missing", report.ConfidentialNotes)
	}
	for _, hidden := range []string{
		"Clinician:", "Dr Gary Pritchard", "Email:", "0113 632 3200", "Branch Location:", "Organisation:",
		"Summary Reason:", "History:", "dry cough", "Follow-up Actions:",
	} {
		if strings.Contains(text, hidden) {
			t.Errorf("confidential report shows %q", hidden)
		}
	}
	for _, shown := range []string{"SMITH-BRONTË", "998 945 3456", "Consultation Date:", "Receiving GP Practice:"} {
		if !strings.Contains(text, shown) {
			t.Errorf("confidential report lacks %q", shown)
		}
	}
}

func TestRenderDeterministic(t *testing.T) {
	for name, c := range map[string]*report.Consultation{
		"example": exampleConsultation(),
		"full":    fullConsultation(10),
	} {
		t.Run(name, func(t *testing.T) {
			a, b := mustRender(t, c), mustRender(t, c)
			if !bytes.Equal(a, b) {
				t.Fatal("two renderings of the same input differ")
			}
			if bytes.Contains(a, []byte(time.Now().Format("20060102"))) {
				t.Fatal("output contains today's date")
			}
		})
	}
	ex := exampleConsultation()
	if !bytes.Contains(mustRender(t, ex), []byte("D:20200325100000")) {
		t.Fatal("creation date is not Consultation.Created")
	}
}

// TestRenderConcurrent renders with one Renderer from several goroutines
// at once (run with -race): each output equals the one rendered alone.
func TestRenderConcurrent(t *testing.T) {
	inputs := []*report.Consultation{exampleConsultation(), fullConsultation(10)}
	for _, r := range []report.Renderer{{}, {PageSize: report.Letter}} {
		want := make([][]byte, len(inputs))
		for i, c := range inputs {
			var buf bytes.Buffer
			if err := r.Render(&buf, c); err != nil {
				t.Fatal(err)
			}
			want[i] = buf.Bytes()
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for k := range len(inputs) {
					i := (g + k) % len(inputs)
					var buf bytes.Buffer
					if err := r.Render(&buf, inputs[i]); err != nil {
						t.Error(err)
						return
					}
					if !bytes.Equal(buf.Bytes(), want[i]) {
						t.Errorf("page size %v, input %d: a concurrent rendering differs from the one rendered alone", r.PageSize, i)
					}
				}
			})
		}
		wg.Wait()
	}
}

func TestRenderLetter(t *testing.T) {
	var buf bytes.Buffer
	if err := (report.Renderer{PageSize: report.Letter}).Render(&buf, exampleConsultation()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("/MediaBox [0 0 612.00 792.00]")) {
		t.Fatal("not a US Letter page")
	}
	assertInOrder(t, mustPDFText(t, buf.Bytes(), "-layout"), "CONSULTATION REPORT", "SMITH, Richard (Mr)", "CLINICAL NOTES", "Observation:")
}

func TestRenderInvalid(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*report.Consultation)
		field string
	}{
		{name: "GPCM-SD-CS-007 version 0", mod: func(c *report.Consultation) { c.Version = 0 }, field: "Version"},
		{name: "negative related documents", mod: func(c *report.Consultation) { c.RelatedDocuments = -1 }, field: "RelatedDocuments"},
		{name: "no name", mod: func(c *report.Consultation) { c.Patient.Family = " "; c.Patient.Given = nil }, field: "Patient.Family"},
		{name: "no NHS number", mod: func(c *report.Consultation) { c.Patient.NHSNumber = "" }, field: "Patient.NHSNumber"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := exampleConsultation()
			tt.mod(c)
			var buf bytes.Buffer
			err := report.Render(&buf, c)
			var fe *report.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("got %v, want a FieldError for %s", err, tt.field)
			}
			if !errors.Is(err, report.ErrInvalid) {
				t.Fatal("errors.Is(err, ErrInvalid) = false")
			}
			if buf.Len() != 0 {
				t.Fatal("wrote output for invalid input")
			}
		})
	}
	if err := report.Render(&bytes.Buffer{}, nil); !errors.Is(err, report.ErrInvalid) {
		t.Fatalf("nil consultation: got %v", err)
	}
}

func TestRenderTooLong(t *testing.T) {
	c := exampleConsultation()
	c.Sections = []report.Section{{Title: "Log", Text: strings.Repeat("line\n", report.MaxPages*80)}}
	err := report.Render(&bytes.Buffer{}, c)
	if !errors.Is(err, report.ErrTooLong) {
		t.Fatalf("got %v, want ErrTooLong", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderWriteError(t *testing.T) {
	if err := report.Render(failWriter{}, exampleConsultation()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v, want the writer's error", err)
	}
}

func TestRenderUnsupportedCharacters(t *testing.T) {
	c := exampleConsultation()
	c.Patient.Family = "Smith 🙂"
	c.Sections = append(c.Sections, report.Section{Title: "Note", Text: "bad \xff byte, 漢字, emoji 🙂 end"})
	text := mustPDFText(t, mustRender(t, c))
	assertInOrder(t, text, "SMITH", "Note:", "bad", "end")
}
