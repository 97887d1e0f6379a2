package patient_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gpcm/gpcm/patient"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   patient.Date
		format patient.DateFormat
		fail   bool
	}{
		{name: "GPCM-SD-CS-041 FHIR birthDate", in: "1957-01-09", want: patient.Date{Year: 1957, Month: 1, Day: 9}, format: patient.DateISO},
		{name: "compact", in: "19570109", want: patient.Date{Year: 1957, Month: 1, Day: 9}, format: patient.DateCompact},
		{name: "day first", in: "09011957", want: patient.Date{Year: 1957, Month: 1, Day: 9}, format: patient.DateDayFirst},
		{name: "spec legacy example", in: "14022001", want: patient.Date{Year: 2001, Month: 2, Day: 14}, format: patient.DateDayFirst},
		{name: "spec current example", in: "19670126", want: patient.Date{Year: 1967, Month: 1, Day: 26}, format: patient.DateCompact},
		{name: "compact wins when both read", in: "20011201", want: patient.Date{Year: 2001, Month: 12, Day: 1}, format: patient.DateCompact},
		{name: "leap day", in: "2000-02-29", want: patient.Date{Year: 2000, Month: 2, Day: 29}, format: patient.DateISO},
		{name: "not a leap year", in: "1900-02-29", fail: true},
		{name: "month 13", in: "1957-13-01", fail: true},
		{name: "day 0", in: "19570100", fail: true},
		{name: "year before 1800", in: "1799-12-31", fail: true},
		{name: "partial FHIR date", in: "1957-01", fail: true},
		{name: "date time", in: "1957-01-09T00:00:00Z", fail: true},
		{name: "signs", in: "+957-01-09", fail: true},
		{name: "neither reading", in: "99999999", fail: true},
		{name: "empty", in: "", fail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, f, err := patient.ParseDate(tt.in)
			if tt.fail {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				if !errors.Is(err, patient.ErrInvalidDate) {
					t.Fatalf("got %v, want ErrInvalidDate", err)
				}
				return
			}
			if err != nil || got != tt.want || f != tt.format {
				t.Fatalf("got %v %v %v, want %v %v", got, f, err, tt.want, tt.format)
			}
			if back := got.Format(f); back != tt.in {
				t.Fatalf("Format(%v) = %q, want %q", f, back, tt.in)
			}
		})
	}
}

func TestDateFormat(t *testing.T) {
	d := patient.Date{Year: 1957, Month: time.January, Day: 9}
	for f, want := range map[patient.DateFormat]string{
		patient.DateISO:      "1957-01-09",
		patient.DateCompact:  "19570109",
		patient.DateDayFirst: "09011957",
		patient.DateDisplay:  "09-Jan-1957",
	} {
		if got := d.Format(f); got != want {
			t.Errorf("Format(%v) = %q, want %q", f, got, want)
		}
	}
	if got := (patient.Date{}).Format(patient.DateDisplay); got != "" {
		t.Errorf("zero date formats as %q, want empty", got)
	}
}

func TestDateAddMonths(t *testing.T) {
	tests := []struct {
		name string
		d    patient.Date
		n    int
		want patient.Date
	}{
		{name: "plain", d: patient.Date{Year: 2024, Month: 1, Day: 15}, n: 6, want: patient.Date{Year: 2024, Month: 7, Day: 15}},
		{name: "clamp to leap February", d: patient.Date{Year: 2023, Month: 8, Day: 31}, n: 6, want: patient.Date{Year: 2024, Month: 2, Day: 29}},
		{name: "across year", d: patient.Date{Year: 2024, Month: 11, Day: 30}, n: 3, want: patient.Date{Year: 2025, Month: 2, Day: 28}},
		{name: "backwards", d: patient.Date{Year: 2024, Month: 2, Day: 10}, n: -3, want: patient.Date{Year: 2023, Month: 11, Day: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.AddMonths(tt.n); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewDate(t *testing.T) {
	if _, err := patient.NewDate(2023, time.February, 29); err == nil {
		t.Fatal("29 February 2023 accepted")
	}
	d, err := patient.NewDate(2024, time.February, 29)
	if err != nil || d.Compare(patient.Date{Year: 2024, Month: 3, Day: 1}) != -1 {
		t.Fatalf("got %v, %v", d, err)
	}
	if patient.DateOf(d.Time()) != d {
		t.Fatal("DateOf(d.Time()) != d")
	}
}
