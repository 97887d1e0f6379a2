package senddoc

import "time"

// minimalPDF is a tiny valid PDF used by examples and tests when no renderer
// is wired in.
const minimalPDF = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

// Example returns a complete sample input for a use case and generation
// (test data: the NHS number is a valid test number, the people invented).
func Example(uc UseCase, generation int) Input {
	in := Input{
		Generation:    generation,
		UseCase:       uc,
		RecipientType: "FA",
		Version:       1,
		SenderMailbox: "X26OT181",
		Patient: PatientInput{
			NHSNumber: "9434765919", Family: "Smith", Given: []string{"Richard"}, Prefix: "Mr",
			BirthDate: "1955-01-09", Gender: "male",
			Address: &Address{Lines: []string{"1 Main Street"}, City: "Leeds", Postcode: "LS1 4HR"},
			Phone:   "0113 496 0000",
		},
		Practitioner: &PractitionerInput{SDSUserID: "G13579135", Family: "Jones", Given: []string{"Alice"}, Prefix: "Dr", Phone: "0113 496 0123", Role: "GP"},
		Author: OrganisationInput{ODSCode: "X26", Name: "Leeds Urgent Care Centre", Phone: "0113 496 0100", Email: "ucc@example.nhs.uk",
			Address: &Address{Lines: []string{"2 Park Row"}, City: "Leeds", Postcode: "LS1 5AB"}},
		RegisteredPractice: &OrganisationInput{ODSCode: "B82005", Name: "Park Surgery"},
		Encounter: EncounterInput{
			ID:       "6d6b8a8e-6f0c-4c1f-9a1e-8e0f3b1e2d4c",
			Start:    time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC),
			End:      time.Date(2026, 11, 24, 9, 50, 0, 0, time.UTC),
			Location: "Leeds Urgent Care Centre, Park Row",
		},
		Sections: []Section{
			{Title: "History", Text: "Two days of sore throat, no fever."},
			{Title: "Examination", Text: "Tonsils mildly inflamed, no exudate."},
			{Title: "Plan", Text: "Paracetamol; review with GP if not better in a week."},
		},
		FollowUp: "Review with GP if symptoms persist beyond 7 days.",
	}
	switch uc {
	case UseCaseGeneric:
		in.DocumentType = &Coding{System: snomedSystem, Code: "149701000000109", Display: "Remote health correspondence"}
		in.Title = "Remote health correspondence"
		in.ReportName = "Remote health correspondence"
	case UseCaseOnline:
		in.Practitioner.Role = "Clinician"
	}
	if generation == GenerationV2 {
		c := CareSettingGeneralPractice
		in.CareSetting = &c
	}
	in.applyDefaults()
	return in
}

// ExamplePDF returns a minimal PDF suitable as Input.PDF in examples.
func ExamplePDF() []byte { return []byte(minimalPDF) }
