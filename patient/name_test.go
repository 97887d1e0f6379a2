package patient_test

import (
	"testing"

	"github.com/gpcm/gpcm/patient"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "case", in: "SMITH", want: "smith"},
		{name: "white space", in: "  Mary \t Ann\u00a0 ", want: "mary ann"},
		{name: "hyphen is a separator", in: "Smith-Jones", want: "smith jones"},
		{name: "en dash", in: "Smith–Jones", want: "smith jones"},
		{name: "apostrophe removed", in: "O'Brien", want: "obrien"},
		{name: "typographic apostrophe", in: "O’Brien", want: "obrien"},
		{name: "full stop removed", in: "St. John", want: "st john"},
		{name: "precomposed diacritics", in: "Zoë Brontë", want: "zoe bronte"},
		{name: "combining diacritics", in: "Zoe\u0308", want: "zoe"},
		{name: "sharp s", in: "Strauß", want: "strauss"},
		{name: "ligature", in: "Æthelstan", want: "aethelstan"},
		{name: "polish l", in: "Łukasz", want: "lukasz"},
		{name: "other punctuation", in: "Smith, (Mr)", want: "smith mr"},
		{name: "non Latin lower cased, accents kept", in: "Σμίθ", want: "σμίθ"},
		{name: "only punctuation", in: "-'.", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := patient.NormalizeName(tt.in); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSameFamilyName(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{name: "hyphen and space", a: "Smith-Jones", b: "SMITH JONES", want: true},
		{name: "joined", a: "Mac Donald", b: "MacDonald", want: true},
		{name: "apostrophe", a: "O'Brien", b: "OBRIEN", want: true},
		{name: "diacritic", a: "Brontë", b: "Bronte", want: true},
		{name: "different", a: "Smith", b: "Smyth", want: false},
		{name: "empty", a: "", b: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := patient.SameFamilyName(tt.a, tt.b); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSameGivenName(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{name: "same", a: "John", b: "JOHN", want: true},
		{name: "middle name dropped", a: "John Simon", b: "John", want: true},
		{name: "known by middle name", a: "John Simon", b: "Simon", want: true},
		{name: "hyphenated forename", a: "Mary-Ann", b: "Mary Ann", want: true},
		{name: "different", a: "Jon", b: "John", want: false},
		{name: "empty", a: "", b: "John", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := patient.SameGivenName(tt.a, tt.b); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestASCIIName(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{name: "plain", in: "Smith", want: "Smith", ok: true},
		{name: "diacritic keeps case", in: "Brontë", want: "Bronte", ok: true},
		{name: "typographic apostrophe", in: "O’Brien", want: "O'Brien", ok: true},
		{name: "spaces collapsed", in: " Mac  Donald ", want: "Mac Donald", ok: true},
		{name: "non Latin", in: "Σμίθ", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := patient.ASCIIName(tt.in)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Fatalf("got %q %v, want %q %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
