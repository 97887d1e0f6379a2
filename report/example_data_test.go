package report_test

import (
	"strings"
	"time"

	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/report"
)

// exampleConsultation holds the data of the official example message
// testdata/examples/consultation_report.xml: Patient, Practitioner,
// Organization, Composition date and the Observation section.
func exampleConsultation() *report.Consultation {
	return &report.Consultation{
		Version:          1,
		RelatedDocuments: 0,
		Created:          time.Date(2020, time.March, 25, 10, 0, 0, 0, time.UTC),
		Patient: report.Patient{
			Title:     "Mr",
			Family:    "Smith",
			Given:     []string{"Richard"},
			NHSNumber: "9989453456",
			BirthDate: patient.Date{Year: 1957, Month: time.January, Day: 9},
		},
		Clinician: report.Clinician{Name: "Dr Gary Pritchard"},
		Organisation: report.Organisation{
			Name:    "Cumbria Starling Medical Centre",
			ODSCode: "GP0001",
			Phone:   "01136323200",
		},
		ConsultationDate:  time.Date(2020, time.March, 25, 10, 0, 0, 0, time.UTC),
		ReceivingPractice: "Cumbria Starling Medical Centre",
		Sections: []report.Section{
			{Title: "Observation", Items: []report.Item{{Text: "Suspected COVID-19 (SNOMED CT 1240761000000102)"}}},
		},
	}
}

// fullConsultation fills every field of the layout, with long notes that need
// continuation pages.
func fullConsultation(paragraphs int) *report.Consultation {
	c := exampleConsultation()
	c.Version = 2
	c.RelatedDocuments = 3
	c.Patient.Given = []string{"Richard", "Zoë"}
	c.Patient.Family = "Smith-Brontë"
	c.Patient.Gender = "male"
	c.Patient.Address = []string{"Flat 2a, 123 Generic Street", "Just off the Main Square", "A Village", "Near a town", "In a County", "AB12 3CD"}
	c.Patient.Phone = "01234 567890"
	c.Patient.Mobile = "07700900123"
	c.Patient.CurrentAddress = []string{"567 New Street", "Townville", "TV03 3AB"}
	c.Patient.CurrentPhone = "020 7946 0000"
	c.Clinician.Role = "General Practitioner"
	c.Organisation.Email = "surgeryemail@surgeryname.nhs.net"
	c.Organisation.Address = []string{"1 Starling Way", "Carlisle", "CA1 1AA"}
	c.BranchLocation = "Starling Branch Surgery"
	c.ReceivingPractice = "Riverside Health Centre"
	text := strings.Repeat("The patient described three days of a dry cough and a mild fever. ", 6)
	for i := range paragraphs {
		c.Sections = append(c.Sections, report.Section{
			Title: sectionTitles[i%len(sectionTitles)],
			Text:  text + "\n" + text,
			Items: []report.Item{{Text: "Paracetamol 500mg tablets, two four times a day"}, {Text: "Hidden", Confidential: true}},
		})
	}
	c.FollowUpActions = "Review in two weeks if symptoms persist. Safety-netting advice given."
	return c
}

var sectionTitles = []string{"History", "Examination", "Comment", "Plan", "Medication issued during the consultation"}
