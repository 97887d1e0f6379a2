package patient_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/patient"
)

func TestValidateNHSNumber(t *testing.T) {
	tests := []struct {
		name string
		in   string
		kind patient.NHSNumberErrorKind // 0 = valid
	}{
		{name: "valid", in: "9434765919"},
		{name: "valid check digit 0 from remainder 0", in: "9990000050"},
		{name: "valid test range", in: "9990000018"},
		{name: "empty", in: "", kind: patient.NHSNumberEmpty},
		{name: "nine digits", in: "943476591", kind: patient.NHSNumberLength},
		{name: "eleven digits", in: "94347659190", kind: patient.NHSNumberLength},
		{name: "letter", in: "94347659A9", kind: patient.NHSNumberNotDigits},
		{name: "spaces not allowed when strict", in: "943 476 5919", kind: patient.NHSNumberNotDigits},
		{name: "unicode digit", in: "943476591٩", kind: patient.NHSNumberNotDigits},
		{name: "GPCM-SD-CS-039 wrong check digit", in: "9434765918", kind: patient.NHSNumberCheckDigit},
		{name: "example consultation report number fails mod 11", in: "9989453456", kind: patient.NHSNumberCheckDigit},
		{name: "spec sample 1234567890 fails mod 11", in: "1234567890", kind: patient.NHSNumberCheckDigitTen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := patient.ValidateNHSNumber(tt.in)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var ne *patient.NHSNumberError
			if !errors.As(err, &ne) {
				t.Fatalf("got %v, want *NHSNumberError", err)
			}
			if ne.Kind != tt.kind {
				t.Fatalf("got kind %v, want %v", ne.Kind, tt.kind)
			}
			if !errors.Is(err, patient.ErrInvalidNHSNumber) {
				t.Fatal("errors.Is(err, ErrInvalidNHSNumber) = false")
			}
			if len(tt.in) >= 4 && strings.Contains(err.Error(), tt.in) {
				t.Fatalf("error %q leaks the NHS number", err)
			}
		})
	}
}

func TestParseNHSNumber(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		verify bool
		want   string
		fail   bool
	}{
		{name: "plain", in: "9434765919", verify: true, want: "9434765919"},
		{name: "spaced", in: " 943 476 5919 ", verify: true, want: "9434765919"},
		{name: "hyphenated", in: "943-476-5919", verify: true, want: "9434765919"},
		{name: "mixed separators", in: "943 476-5919", verify: true, fail: true},
		{name: "double space", in: "943  476 5919", verify: true, fail: true},
		{name: "separator in wrong place", in: "9434 765 919", verify: true, fail: true},
		{name: "bad check digit verified", in: "998 945 3456", verify: true, fail: true},
		{name: "bad check digit unverified", in: "998 945 3456", verify: false, want: "9989453456"},
		{name: "too short unverified", in: "99894534", verify: false, fail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := patient.ParseNHSNumber(tt.in, tt.verify)
			if tt.fail {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestFormatNHSNumber(t *testing.T) {
	for in, want := range map[string]string{
		"9434765919": "943 476 5919",
		"943476591":  "943476591",
		"94347659x9": "94347659x9",
	} {
		if got := patient.FormatNHSNumber(in); got != want {
			t.Errorf("FormatNHSNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGenerateTestNHSNumber(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for range 1000 {
		n := patient.GenerateTestNHSNumber(r)
		if err := patient.ValidateNHSNumber(n); err != nil {
			t.Fatalf("generated number fails validation: %v", err)
		}
		if !strings.HasPrefix(n, patient.TestNHSNumberPrefix) {
			t.Fatalf("generated number outside the test range")
		}
		seen[n] = true
	}
	if len(seen) < 900 {
		t.Fatalf("got %d distinct numbers out of 1000, want at least 900", len(seen))
	}
}

func TestNHSCheckDigitExhaustiveRatio(t *testing.T) {
	// About one in eleven 9-digit prefixes has no valid check digit.
	r := rand.New(rand.NewPCG(3, 4))
	invalid := 0
	const n = 11000
	for range n {
		p := make([]byte, 9)
		for i := range p {
			p[i] = byte('0' + r.IntN(10))
		}
		if _, ok := patient.NHSCheckDigit(string(p)); !ok {
			invalid++
		}
	}
	if invalid < 800 || invalid > 1200 {
		t.Fatalf("got %d prefixes without a check digit in %d, want about 1000", invalid, n)
	}
}
