package updaterecord

import "encoding/json"

// Example returns a complete sample input for a use case (test data: the
// NHS numbers are valid test numbers, the people and the pharmacy are
// invented; the clinical codes are those the guide and its examples use).
// An unknown use case gives the Pharmacy First example.
func Example(uc UseCase) Input {
	in := Input{
		UseCase:       uc,
		Version:       1,
		RecipientType: "FA",
		SenderMailbox: "FX123OT001",
		Pharmacy: PharmacyInput{ODSCode: "FX123", Name: "Park Road Pharmacy", Phone: "0113 496 0500",
			Address: &Address{Lines: []string{"12 Park Road"}, City: "Leeds", Postcode: "LS6 2AB"}},
		Pharmacist: PharmacistInput{SDSUserID: "555123456789", GPhCNumber: "2071234", Family: "Khan", Given: []string{"Amira"}, Prefix: "Ms"},
		Patient: PatientInput{NHSNumber: "9690937286", Family: "Smith", Given: []string{"Richard"}, Prefix: "Mr",
			BirthDate: "1967-01-26", Gender: "male", Address: &Address{Lines: []string{"1 Main Street"}, City: "Leeds", Postcode: "LS1 4HR"}},
		Consultation: ConsultationInput{ID: "0b9e6c1e-2f4a-4d7b-9a51-6c3f0e8d2a17", Date: "2026-11-24"},
	}
	temperature := func(v string) ObservationInput {
		return ObservationInput{Code: &Coding{System: snomedSystem, Code: "703421000", Display: "Temperature"}, Value: &QuantityInput{Value: json.Number(v), Unit: "Cel"}}
	}
	pulse := func(v string) ObservationInput {
		return ObservationInput{Code: &Coding{System: snomedSystem, Code: "364075005", Display: "Heart rate"}, Value: &QuantityInput{Value: json.Number(v), Unit: "{beats}/min"},
			BodySite: &Coding{System: snomedSystem, Code: "368209003", Display: "Right upper arm structure"}}
	}
	capsule := Coding{System: snomedSystem, Code: "428641000", Display: "Capsule"}
	oral := &Coding{System: snomedSystem, Code: "26643006", Display: "Oral route"}
	switch uc {
	case UseCaseBloodPressure:
		in.Observations = []ObservationInput{
			{BloodPressure: &BloodPressureInput{Reading: "sitting", Systolic: "152", Diastolic: "96"}, Interpretation: "H",
				BodySite: &Coding{System: snomedSystem, Code: "368208006", Display: "Left upper arm structure"}},
			pulse("76"),
		}
		in.Notes = []Note{
			{Heading: "clinical-summary", Text: "Walk-in blood pressure check, aged over 40, no known hypertension. Clinic reading raised at 152/96 mmHg."},
			{Heading: "history", Text: "Father treated for hypertension. Non-smoker."},
			{Heading: "information-and-advice-given", Text: "Advised on salt intake and activity. Offered ambulatory monitoring; referred to the practice to review the raised reading."},
		}
	case UseCaseContraception:
		in.Patient = PatientInput{NHSNumber: "9453720011", Family: "Jones", Given: []string{"Emma"}, Prefix: "Ms",
			BirthDate: "1998-03-14", Gender: "female", Address: &Address{Lines: []string{"8 Hill Street"}, City: "Leeds", Postcode: "LS2 7CD"}}
		in.Observations = []ObservationInput{
			{BloodPressure: &BloodPressureInput{Reading: "standing", Systolic: "118", Diastolic: "76"}},
			{Code: &Coding{System: snomedSystem, Code: "50373000", Display: "Body height"}, Value: &QuantityInput{Value: "165", Unit: "cm"}},
			{Code: &Coding{System: snomedSystem, Code: "27113001", Display: "Body weight"}, Value: &QuantityInput{Value: "62", Unit: "kg"}},
			{Code: &Coding{System: snomedSystem, Code: "60621009", Display: "Body mass index"}, Value: &QuantityInput{Value: "22.8", Unit: "kg/m2"}},
			{Code: &Coding{System: snomedSystem, Code: codeNotPregnant, Display: "Not pregnant"}, Heading: "pregnancy-status"},
		}
		in.Medicines = []MedicineInput{{
			Medication: Coding{System: dmdSystem, Code: "17346711000001106", Display: "Rigevidon tablets (Gedeon Richter (UK) Ltd)"},
			Quantity:   DoseQuantity{Value: "63", Unit: Coding{System: snomedSystem, Code: "428673006", Display: "Tablet"}}, DaysSupply: "84",
			Dosage: DosageInput{Text: "One tablet daily for 21 days, then 7 tablet-free days", PatientInstruction: "Start the next pack after the 7-day break",
				Route: oral, Frequency: 1, Period: "1", PeriodUnit: "d"},
		}}
		in.Notes = []Note{
			{Heading: "clinical-summary", Text: "Ongoing supply of combined oral contraception. No new risk factors; blood pressure and BMI within range."},
			{Heading: "information-and-advice-given", Text: "Missed-pill advice and a reminder to return before the supply ends."},
		}
	case UseCaseUrgentSupply:
		in.Medicines = []MedicineInput{{
			Medication: Coding{System: dmdSystem, Code: "24549911000001107", Display: "Nitrofurantoin 50mg capsules (A A H Pharmaceuticals Ltd)"},
			Quantity:   DoseQuantity{Value: "7", Unit: capsule}, DaysSupply: "7",
			Dosage: DosageInput{Text: "One capsule at night", PatientInstruction: "Take one capsule at bedtime", Route: oral, Frequency: 1, Period: "1", PeriodUnit: "d"},
		}}
		in.Notes = []Note{
			{Heading: "clinical-summary", Text: "Urgent supply of a repeat medicine: the patient ran out of prophylactic nitrofurantoin while the practice was closed."},
			{Heading: "plan-and-requested-actions", Text: "Seven days supplied. The patient will order a new prescription from the practice."},
		}
	default:
		in.UseCase = UseCasePharmacyFirst
		in.Observations = []ObservationInput{temperature("37.6"), pulse("82")}
		in.Medicines = []MedicineInput{{
			Medication: Coding{System: dmdSystem, Code: "289411000001107", Display: "Flucloxacillin 500mg capsules (A A H Pharmaceuticals Ltd)"},
			Quantity:   DoseQuantity{Value: "28", Unit: capsule}, DaysSupply: "7",
			Dosage: DosageInput{Text: "One capsule four times a day for 7 days", PatientInstruction: "Take at least 1 hour before or 2 hours after food",
				Route: oral, Frequency: 4, Period: "1", PeriodUnit: "d"},
		}}
		in.Conditions = []ConditionInput{{Code: Coding{System: snomedSystem, Code: "276433004", Display: "Insect bite - wound"}}}
		in.Notes = []Note{
			{Heading: "clinical-summary", Text: "Infected insect bite on the left forearm, spreading redness over two days. Treated under the Pharmacy First pathway."},
			{Heading: "history", Text: "Not allergic to penicillin. No other medicines."},
			{Heading: "information-and-advice-given", Text: "Complete the course; see the GP if the redness spreads or a fever develops."},
		}
	}
	in.applyDefaults()
	return in
}
