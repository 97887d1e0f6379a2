package patient_test

import (
	"fmt"
	"time"

	"github.com/gpcm/gpcm/patient"
)

func ExampleMatch() {
	dob, _, _ := patient.ParseDate("1957-01-09")
	entry := &patient.RegisterEntry{NHSNumber: "9434765919", BirthDate: dob, Family: "O'Brien", Given: "Richard John"}
	in := patient.Demographics{NHSNumber: "943 476 5919", BirthDate: dob, Family: "OBRIEN", Given: "Richard"}

	out := patient.Match(entry, in, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	fmt.Println(out.State, out.State.BusinessAckCode())

	in.BirthDate = patient.Date{Year: 1957, Month: time.January, Day: 10}
	out = patient.Match(entry, in, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	fmt.Println(out.State, out.Differ, "if confirmed:", out.Confirmed.BusinessAckCode())
	// Output:
	// matched 30001
	// demographics mismatch [date of birth] if confirmed: 30001
}

func ExampleParseGPProviderAddress() {
	a, err := patient.ParseGPProviderAddress("GPPROVIDER_9434765919_09011957_Smith")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.BirthDate, "read as", a.DateFormat)
	fmt.Println(a.String())
	// Output:
	// 1957-01-09 read as DDMMYYYY
	// GPPROVIDER_9434765919_19570109_Smith
}
