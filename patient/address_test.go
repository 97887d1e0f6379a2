package patient_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/patient"
)

func TestParseGPProviderAddress(t *testing.T) {
	dob := patient.Date{Year: 1967, Month: time.January, Day: 26}
	tests := []struct {
		name string
		in   string
		want patient.GPProviderAddress
		part string // non-empty: want an error about this part
	}{
		{name: "GPCM-SD-CS-067 current YYYYMMDD", in: "GPPROVIDER_9434765919_19670126_Smith",
			want: patient.GPProviderAddress{NHSNumber: "9434765919", BirthDate: dob, Surname: "Smith", DateFormat: patient.DateCompact}},
		{name: "GPCM-SD-CS-064 legacy DDMMYYYY", in: "GPPROVIDER_9434765919_26011967_Smith",
			want: patient.GPProviderAddress{NHSNumber: "9434765919", BirthDate: dob, Surname: "Smith", DateFormat: patient.DateDayFirst}},
		{name: "surname with space and hyphen", in: "GPPROVIDER_9434765919_19670126_Smith-Jones Mac",
			want: patient.GPProviderAddress{NHSNumber: "9434765919", BirthDate: dob, Surname: "Smith-Jones Mac", DateFormat: patient.DateCompact}},
		{name: "surname keeps later underscores", in: "GPPROVIDER_9434765919_19670126_A_B",
			want: patient.GPProviderAddress{NHSNumber: "9434765919", BirthDate: dob, Surname: "A_B", DateFormat: patient.DateCompact}},
		{name: "lower-case prefix", in: "gpprovider_9434765919_19670126_Smith", part: "prefix"},
		{name: "mailbox id", in: "X26OT181", part: "prefix"},
		{name: "spec example 8-digit NHS number", in: "GPPROVIDER_12345678_14022001_Smith", part: "NHS number"},
		{name: "spec example failing mod 11", in: "GPPROVIDER_1234567890_09011955_Smith", part: "NHS number"},
		{name: "ISO date", in: "GPPROVIDER_9434765919_1967-01-26_Smith", part: "date of birth"},
		{name: "impossible date", in: "GPPROVIDER_9434765919_19670230_Smith", part: "date of birth"},
		{name: "no surname", in: "GPPROVIDER_9434765919_19670126_", part: "surname"},
		{name: "missing parts", in: "GPPROVIDER_9434765919_19670126", part: "shape"},
		{name: "control character", in: "GPPROVIDER_9434765919_19670126_Sm\x00ith", part: "surname"},
		{name: "too long", in: "GPPROVIDER_9434765919_19670126_" + strings.Repeat("a", 80), part: "length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := patient.ParseGPProviderAddress(tt.in)
			if tt.part != "" {
				var ae *patient.AddressError
				if !errors.As(err, &ae) || ae.Part != tt.part {
					t.Fatalf("got %+v, %v, want error about %s", got, err, tt.part)
				}
				if !errors.Is(err, patient.ErrInvalidGPProviderAddress) {
					t.Fatal("errors.Is(err, ErrInvalidGPProviderAddress) = false")
				}
				if strings.Contains(err.Error(), "9434765919") || strings.Contains(err.Error(), "Smith") {
					t.Fatalf("error %q leaks patient data", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v, want %+v", got, err, tt.want)
			}
			if !patient.IsGPProviderAddress(tt.in) {
				t.Fatal("IsGPProviderAddress = false")
			}
		})
	}
}

func TestFormatGPProviderAddress(t *testing.T) {
	dob := patient.Date{Year: 1957, Month: time.January, Day: 9}
	tests := []struct {
		name    string
		nhs     string
		dob     patient.Date
		surname string
		want    string
		part    string
	}{
		{name: "GPCM-SD-CS-067 sends YYYYMMDD", nhs: "9434765919", dob: dob, surname: "Smith", want: "GPPROVIDER_9434765919_19570109_Smith"},
		{name: "diacritics folded to ASCII", nhs: "9434765919", dob: dob, surname: " Brontë ", want: "GPPROVIDER_9434765919_19570109_Bronte"},
		{name: "invalid NHS number", nhs: "9434765918", dob: dob, surname: "Smith", part: "NHS number"},
		{name: "zero date", nhs: "9434765919", surname: "Smith", part: "date of birth"},
		{name: "empty surname", nhs: "9434765919", dob: dob, surname: "  ", part: "surname"},
		{name: "underscore in surname", nhs: "9434765919", dob: dob, surname: "A_B", part: "surname"},
		{name: "non Latin surname", nhs: "9434765919", dob: dob, surname: "Σμίθ", part: "surname"},
		{name: "too long", nhs: "9434765919", dob: dob, surname: strings.Repeat("a", 80), part: "length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := patient.FormatGPProviderAddress(tt.nhs, tt.dob, tt.surname)
			if tt.part != "" {
				var ae *patient.AddressError
				if !errors.As(err, &ae) || ae.Part != tt.part {
					t.Fatalf("got %q, %v, want error about %s", got, err, tt.part)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v, want %q", got, err, tt.want)
			}
			back, err := patient.ParseGPProviderAddress(got)
			if err != nil || back.String() != got || back.DateFormat != patient.DateCompact {
				t.Fatalf("round trip: got %+v, %v", back, err)
			}
		})
	}
}

// TestSameAddressSurname: the surname a sender writes into its GPPROVIDER_
// address (folded to ASCII) is the recorded surname again for whoever checks
// the address against it: the validator (GPCM-SD-CS-042 of release 1.5.2,
// GPCM-SD-038 of v1.3) and the MESH server's routing.
func TestSameAddressSurname(t *testing.T) {
	dob := patient.Date{Year: 1957, Month: time.January, Day: 9}
	tests := []struct {
		name      string
		recorded  string
		inAddress string // "" = the address FormatGPProviderAddress writes for recorded
		want      bool
	}{
		{name: "1.5.2:GPCM-SD-CS-042 Müller against its own address", recorded: "Müller", want: true},
		{name: "1.5.2:GPCM-SD-CS-042 Müller decomposed (u + combining diaeresis)", recorded: "Mu\u0308ller", want: true},
		{name: "1.5.2:GPCM-SD-CS-042 Ó Súilleabháin", recorded: "Ó Súilleabháin", want: true},
		{name: "1.5.2:GPCM-SD-CS-042 Łukasiewicz", recorded: "Łukasiewicz", want: true},
		{name: "1.5.2:GPCM-SD-CS-042 Straße (ß written ss)", recorded: "Straße", want: true},
		{name: "1.5.2:GPCM-SD-CS-042 typographic apostrophe O’Brien", recorded: "O’Brien", want: true},
		{name: "1.5.2:GPCM-SD-CS-042 case and spaces ignored", recorded: "Smith Jones", inAddress: "SMITHJONES", want: true},
		{name: "1.5.2:GPCM-SD-CS-042 Müller is not Mueller", recorded: "Müller", inAddress: "Mueller", want: false},
		{name: "1.5.2:GPCM-SD-CS-042 different surname", recorded: "Müller", inAddress: "Miller", want: false},
		{name: "empty never matches", recorded: "", inAddress: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.inAddress
			if in == "" && tt.recorded != "" {
				addr, err := patient.FormatGPProviderAddress("9434765919", dob, tt.recorded)
				if err != nil {
					t.Fatal(err)
				}
				a, err := patient.ParseGPProviderAddress(addr)
				if err != nil {
					t.Fatal(err)
				}
				in = a.Surname
			}
			if got := patient.SameAddressSurname(tt.recorded, in); got != tt.want {
				t.Fatalf("SameAddressSurname(%q, %q) = %v, want %v", tt.recorded, in, got, tt.want)
			}
		})
	}
}
