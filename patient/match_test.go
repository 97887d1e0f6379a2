package patient_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/patient"
)

func TestMatch(t *testing.T) {
	at := time.Date(2026, time.June, 15, 10, 0, 0, 0, time.UTC)
	dob := patient.Date{Year: 1957, Month: time.January, Day: 9}
	reg := func(mod func(*patient.RegisterEntry)) *patient.RegisterEntry {
		e := &patient.RegisterEntry{NHSNumber: "9434765919", BirthDate: dob, Family: "Smith", Given: "Richard John"}
		if mod != nil {
			mod(e)
		}
		return e
	}
	in := patient.Demographics{NHSNumber: "9434765919", BirthDate: dob, Family: "SMITH", Given: "Richard"}
	with := func(mod func(*patient.Demographics)) patient.Demographics {
		d := in
		mod(&d)
		return d
	}

	tests := []struct {
		name      string
		entry     *patient.RegisterEntry
		in        patient.Demographics
		state     patient.State
		confirmed patient.State
		differ    []patient.Field
		ack       string
	}{
		{name: "30001 registered and matching", entry: reg(nil), in: in, state: patient.Matched, ack: "30001"},
		{name: "30001 printed NHS number", entry: reg(nil), in: with(func(d *patient.Demographics) { d.NHSNumber = "943 476 5919" }), state: patient.Matched, ack: "30001"},
		{name: "30001 previous family name", entry: reg(func(e *patient.RegisterEntry) { e.Family = "Jones"; e.PreviousFamily = []string{"Smith"} }), in: in, state: patient.Matched, ack: "30001"},
		{name: "30001 hyphen and diacritic tolerant", entry: reg(func(e *patient.RegisterEntry) { e.Family = "Smith-Brontë" }), in: with(func(d *patient.Demographics) { d.Family = "SMITH BRONTE" }), state: patient.Matched, ack: "30001"},
		{name: "30002 not on register", entry: nil, in: in, state: patient.NotKnown, ack: "30002"},
		{name: "30002 entry for another number", entry: reg(func(e *patient.RegisterEntry) { e.NHSNumber = "9990000018" }), in: in, state: patient.NotKnown, ack: "30002"},
		{name: "30002 unreadable incoming number", entry: reg(nil), in: with(func(d *patient.Demographics) { d.NHSNumber = "12345" }), state: patient.NotKnown, ack: "30002"},
		{name: "30003 left the practice", entry: reg(func(e *patient.RegisterEntry) { e.Status = patient.LeftPractice }), in: in, state: patient.Left, ack: "30003"},
		{name: "30003 left wins over mismatch", entry: reg(func(e *patient.RegisterEntry) { e.Status = patient.LeftPractice; e.Family = "Jones" }), in: in, state: patient.Left, ack: "30003"},
		{name: "30003 died more than six months ago", entry: reg(func(e *patient.RegisterEntry) {
			e.Status = patient.Deceased
			e.DeathDate = patient.Date{Year: 2025, Month: 12, Day: 14}
		}), in: in, state: patient.Left, ack: "30003"},
		{name: "30004 died exactly six months ago", entry: reg(func(e *patient.RegisterEntry) {
			e.Status = patient.Deceased
			e.DeathDate = patient.Date{Year: 2025, Month: 12, Day: 15}
		}), in: in, state: patient.RecentlyDeceased, ack: "30004"},
		{name: "30004 date of death unknown", entry: reg(func(e *patient.RegisterEntry) { e.Status = patient.Deceased }), in: in, state: patient.RecentlyDeceased, ack: "30004"},
		{name: "mismatch date of birth", entry: reg(nil), in: with(func(d *patient.Demographics) { d.BirthDate.Day = 10 }),
			state: patient.Mismatch, confirmed: patient.Matched, differ: []patient.Field{patient.FieldBirthDate}},
		{name: "mismatch missing date of birth", entry: reg(nil), in: with(func(d *patient.Demographics) { d.BirthDate = patient.Date{} }),
			state: patient.Mismatch, confirmed: patient.Matched, differ: []patient.Field{patient.FieldBirthDate}},
		{name: "mismatch family and given", entry: reg(nil), in: with(func(d *patient.Demographics) { d.Family = "Smyth"; d.Given = "Rich" }),
			state: patient.Mismatch, confirmed: patient.Matched, differ: []patient.Field{patient.FieldFamily, patient.FieldGiven}},
		{name: "mismatch of recently deceased confirms as 30004", entry: reg(func(e *patient.RegisterEntry) {
			e.Status = patient.Deceased
			e.DeathDate = patient.Date{Year: 2026, Month: 5, Day: 1}
		}), in: with(func(d *patient.Demographics) { d.Family = "Smyth" }),
			state: patient.Mismatch, confirmed: patient.RecentlyDeceased, differ: []patient.Field{patient.FieldFamily}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := patient.Match(tt.entry, tt.in, at)
			if got.State != tt.state {
				t.Fatalf("got state %v (%s), want %v", got.State, got.Reason, tt.state)
			}
			confirmed := tt.confirmed
			if confirmed == 0 {
				confirmed = tt.state
			}
			if got.Confirmed != confirmed {
				t.Fatalf("got confirmed %v, want %v", got.Confirmed, confirmed)
			}
			if !slices.Equal(got.Differ, tt.differ) {
				t.Fatalf("got differ %v, want %v", got.Differ, tt.differ)
			}
			if code := got.State.BusinessAckCode(); code != tt.ack {
				t.Fatalf("got ack %q, want %q", code, tt.ack)
			}
			if got.Reason == "" {
				t.Fatal("empty reason")
			}
			for _, secret := range []string{"9434765919", "943 476", "Smith", "SMITH", "Richard", "1957"} {
				if strings.Contains(got.Reason, secret) {
					t.Fatalf("reason %q leaks patient data", got.Reason)
				}
			}
		})
	}
}
