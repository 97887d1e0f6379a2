package updaterecord

import (
	"time"

	"github.com/gpcm/gpcm/itk3"
)

// DemoInputs returns the Update Records a community pharmacy might send
// about one patient in a few days, for demonstrations (gpcm serve): one
// per use case, most recent first, the Blood Pressure Check with a raised
// clinic reading (152/96 mm[Hg], interpretation H) among them. Each comes
// from Example with the patient, a fresh consultation ID and a
// consultation time before seen put in. Pharmacy Contraception is left out
// for a male patient. The pharmacy and its mailbox are Example's; set
// Pharmacy and SenderMailbox to the demo pharmacy's.
func DemoInputs(pt PatientInput, seen time.Time) []Input {
	seen = seen.Truncate(time.Minute)
	var out []Input
	for _, d := range []struct {
		uc  UseCase
		ago time.Duration
	}{
		{UseCaseBloodPressure, 0},
		{UseCasePharmacyFirst, 2*time.Hour + 10*time.Minute},
		{UseCaseUrgentSupply, 26 * time.Hour},
		{UseCaseContraception, 74*time.Hour + 25*time.Minute},
	} {
		if d.uc == UseCaseContraception && pt.Gender == "male" {
			continue
		}
		in := Example(d.uc)
		in.Patient = pt
		in.Consultation = ConsultationInput{ID: itk3.NewUUID(), Date: seen.Add(-d.ago).Format(time.RFC3339)}
		if d.uc == UseCaseBloodPressure {
			// Example's note gives an age; the demo patient may not have it.
			in.Notes[0].Text = "Walk-in blood pressure check, no known hypertension. Clinic reading raised at 152/96 mmHg on two readings."
		}
		out = append(out, in)
	}
	return out
}
