package report_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/report"
)

func ExampleRender() {
	c := &report.Consultation{
		Version: 1,
		Patient: report.Patient{
			Title: "Mrs", Family: "Jones", Given: []string{"Ann"},
			NHSNumber: "9434765919",
			BirthDate: patient.Date{Year: 1961, Month: time.March, Day: 2},
			Address:   []string{"1 High Street", "Leeds", "LS1 1AA"},
		},
		Clinician:         report.Clinician{Name: "Dr A Khan", Role: "GP"},
		Organisation:      report.Organisation{Name: "Walk-in Centre", ODSCode: "X12345", Phone: "01136323200"},
		ConsultationDate:  time.Date(2026, time.June, 1, 9, 30, 0, 0, time.UTC),
		ReceivingPractice: "High Street Surgery",
		Sections: []report.Section{
			{Title: "History", Text: "Sore throat for three days."},
			{Title: "Medication", Items: []report.Item{{Text: "Phenoxymethylpenicillin 250mg tablets"}}},
		},
		FollowUpActions: "See own GP if not better in a week.",
	}
	var pdf bytes.Buffer
	if err := report.Render(&pdf, c); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(pdf.Bytes()[:5]))
	// Output: %PDF-
}
