package patient_test

import (
	"errors"
	"testing"

	"github.com/gpcm/gpcm/patient"
)

func FuzzParseNHSNumber(f *testing.F) {
	for _, s := range []string{"9434765919", "943 476 5919", "943-476-5919", "9989453456", "", "12345", "943  476 5919", "٩٩٩"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, verify := range []bool{false, true} {
			n, err := patient.ParseNHSNumber(s, verify)
			if err != nil {
				if !errors.Is(err, patient.ErrInvalidNHSNumber) {
					t.Fatalf("error %v is not ErrInvalidNHSNumber", err)
				}
				continue
			}
			if len(n) != 10 {
				t.Fatalf("accepted %q as %q", s, n)
			}
			if verify && patient.ValidateNHSNumber(n) != nil {
				t.Fatalf("ParseNHSNumber accepted %q but ValidateNHSNumber rejects it", n)
			}
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"1957-01-09", "19570109", "09011957", "20011201", "2000-02-29", "99999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, format, err := patient.ParseDate(s)
		if err != nil {
			if !errors.Is(err, patient.ErrInvalidDate) {
				t.Fatalf("error %v is not ErrInvalidDate", err)
			}
			return
		}
		if d.Format(format) != s {
			t.Fatalf("%q parsed as %v (%v) formats back as %q", s, d, format, d.Format(format))
		}
		again, err := patient.ParseDateFormat(s, format)
		if err != nil || again != d {
			t.Fatalf("ParseDateFormat disagrees: %v %v", again, err)
		}
	})
}

func FuzzParseGPProviderAddress(f *testing.F) {
	for _, s := range []string{
		"GPPROVIDER_9434765919_19670126_Smith",
		"GPPROVIDER_9434765919_26011967_Smith",
		"GPPROVIDER_12345678_14022001_Smith",
		"GPPROVIDER_9434765919_19670126_",
		"GPPROVIDER_",
		"X26OT181",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := patient.ParseGPProviderAddress(s)
		if err != nil {
			if !errors.Is(err, patient.ErrInvalidGPProviderAddress) {
				t.Fatalf("error %v is not ErrInvalidGPProviderAddress", err)
			}
			return
		}
		if patient.ValidateNHSNumber(a.NHSNumber) != nil || a.BirthDate.IsZero() || a.Surname == "" {
			t.Fatalf("accepted an incomplete address: %+v", a)
		}
		if a.DateFormat == patient.DateCompact && a.String() != s {
			t.Fatalf("String() = %q, want %q", a.String(), s)
		}
		again, err := patient.ParseGPProviderAddress(a.String())
		if err != nil || again.BirthDate != a.BirthDate || again.DateFormat != patient.DateCompact {
			t.Fatalf("re-parse of %q: %+v, %v", a.String(), again, err)
		}
	})
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"O'Brien", "Smith-Jones", "Zoë", "Strauß", "  a  b ", "Σμίθ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := patient.NormalizeName(s)
		if patient.NormalizeName(n) != n {
			t.Fatalf("NormalizeName not idempotent on %q: %q then %q", s, n, patient.NormalizeName(n))
		}
	})
}
