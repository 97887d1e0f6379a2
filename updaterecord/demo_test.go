package updaterecord_test

import (
	"testing"
	"time"

	"github.com/gpcm/gpcm/docview"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/updaterecord"
)

// TestDemoInputs: the demo updates for a patient are conformant, carry the
// patient, are one per use case (no contraception for a man), and the
// blood-pressure check shows a high reading.
func TestDemoInputs(t *testing.T) {
	seen := time.Date(2026, 11, 24, 15, 47, 31, 0, time.FixedZone("GMT", 0))
	woman := updaterecord.PatientInput{NHSNumber: "9000000009", Family: "Smith", Given: []string{"Jane"}, BirthDate: "1985-01-26", Gender: "female"}
	man := woman
	man.Given, man.Gender = []string{"John"}, "male"
	for _, tc := range []struct {
		pt   updaterecord.PatientInput
		want []updaterecord.UseCase
	}{
		{woman, []updaterecord.UseCase{updaterecord.UseCaseBloodPressure, updaterecord.UseCasePharmacyFirst, updaterecord.UseCaseUrgentSupply, updaterecord.UseCaseContraception}},
		{man, []updaterecord.UseCase{updaterecord.UseCaseBloodPressure, updaterecord.UseCasePharmacyFirst, updaterecord.UseCaseUrgentSupply}},
	} {
		t.Run(tc.pt.Gender, func(t *testing.T) {
			ins := updaterecord.DemoInputs(tc.pt, seen)
			if len(ins) != len(tc.want) {
				t.Fatalf("got %d inputs, want %d", len(ins), len(tc.want))
			}
			ids := map[string]bool{}
			high := false
			last := seen.Add(time.Minute)
			for i, in := range ins {
				if in.UseCase != tc.want[i] {
					t.Errorf("input %d: got %s, want %s", i, in.UseCase, tc.want[i])
				}
				b := MustBuild(t, in)
				rep := mustValidate(t, mustXML(t, b.Message.Bundle), updaterecord.Options{Mesh: meshOf(b)})
				if len(rep.Findings) != 0 || rep.ResponseCode != itk3.CodeSuccess {
					t.Errorf("%s: %s", in.UseCase, dump(rep))
				}
				s, err := updaterecord.Read(b.Message.Bundle)
				if err != nil {
					t.Fatal(err)
				}
				at, err := time.Parse(time.RFC3339, s.Seen)
				if err != nil || !at.Before(last) || s.Patient.NHSNumber != tc.pt.NHSNumber || ids[s.SenderReference] {
					t.Errorf("%s: seen %q (after %s?) patient %+v sender reference %q", in.UseCase, s.Seen, last, s.Patient, s.SenderReference)
				}
				last, ids[s.SenderReference] = at, true
				for _, o := range s.Observations {
					high = high || (o.BloodPressure && o.Flag == docview.FlagHigh && o.Value == "152/96")
				}
			}
			if !high {
				t.Error("no high blood-pressure reading among the demo updates")
			}
		})
	}
}
