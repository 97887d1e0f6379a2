package report

import "testing"

func TestDisplayPhone(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "four-digit area code", in: "01136323200", want: "0113 632 3200"},
		{name: "London", in: "020 79460000", want: "020 7946 0000"},
		{name: "five-digit area code", in: "01234567890", want: "01234 567890"},
		{name: "mobile", in: "07700 900 123", want: "07700 900123"},
		{name: "international", in: "+44 113 632 3200", want: "0113 632 3200"},
		{name: "non-geographic", in: "03001234567", want: "0300 123 4567"},
		{name: "extension", in: "01136323200 ext 42", want: "0113 632 3200 x 42"},
		{name: "not UK", in: "+1 555 0100", want: "+1 555 0100"},
		{name: "letters kept as given", in: "ask reception", want: "ask reception"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := displayPhone(tt.in); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDisplayName(t *testing.T) {
	tests := []struct {
		name string
		p    Patient
		want string
	}{
		{name: "GPCM-SD-CS-014 full", p: Patient{Title: "Mr", Family: "Smith", Given: []string{"John", "Simon"}}, want: "SMITH, John Simon (Mr)"},
		{name: "no title", p: Patient{Family: "smith", Given: []string{"John"}}, want: "SMITH, John"},
		{name: "family only", p: Patient{Family: "Smith"}, want: "SMITH"},
		{name: "control characters dropped", p: Patient{Family: "Sm\x00ith\t", Given: []string{"Jo\nhn"}}, want: "SMITH, Jo\nhn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := displayName(tt.p); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
