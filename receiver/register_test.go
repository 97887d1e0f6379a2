package receiver_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/receiver"
)

func TestParseRegisterCSV(t *testing.T) {
	const head = "nhs_number,birth_date,family,given\n"
	rows := []struct {
		name      string
		in        string
		want      int
		wantLines []int // lines of the problems, in order
	}{
		{name: "two rows", in: head + "9434765919,1955-01-09,Smith,Richard\n943 476 5870,1950-05-06,Jones,\n", want: 2},
		{name: "optional status columns", in: "nhs_number,birth_date,family,given,status,death_date,left_date\n9434765919,1955-01-09,Smith,Richard,deceased,2026-01-01,\n9434765870,1950-05-06,Jones,Bob,left,,2025-01-01\n", want: 2},
		{name: "byte order mark and CRLF", in: "\ufeff" + strings.ReplaceAll(head+"9434765919,1955-01-09,Smith,Richard\n", "\n", "\r\n"), want: 1},
		{name: "blank lines skipped", in: head + "\n9434765919,1955-01-09,Smith,Richard\n\n", want: 1},
		{name: "empty file", in: "", wantLines: []int{1}},
		{name: "wrong header", in: "nhs,dob,surname,forename\n9434765919,1955-01-09,Smith,Richard\n", wantLines: []int{1}},
		{name: "unknown extra column", in: "nhs_number,birth_date,family,given,postcode\n", wantLines: []int{1}},
		{name: "bad check digit", in: head + "9434765918,1955-01-09,Smith,Richard\n", wantLines: []int{2}},
		{name: "DDMMYYYY date", in: head + "9434765919,09011955,Smith,Richard\n", wantLines: []int{2}},
		{name: "every bad row reported", in: head + "9434765919,1955-01-09,Smith,Richard\nabc,1955-01-09,,X\n9434765870,1950-13-06,Jones,Bob\n", wantLines: []int{3, 3, 4}},
		{name: "duplicate NHS number", in: head + "9434765919,1955-01-09,Smith,Richard\n9434765919,1955-01-09,Smith,Rick\n", wantLines: []int{3}},
		{name: "wrong field count", in: head + "9434765919,1955-01-09,Smith\n", wantLines: []int{2}},
		{name: "bad status", in: "nhs_number,birth_date,family,given,status\n9434765919,1955-01-09,Smith,Richard,moved\n", wantLines: []int{2}},
		{name: "bare quote", in: head + "9434765919,1955-01-09,Sm\"ith,Richard\n", wantLines: []int{2}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			ps, err := receiver.ParseRegisterCSV(strings.NewReader(r.in), receiver.RegisterOptions{})
			if r.wantLines == nil {
				if err != nil || len(ps) != r.want {
					t.Fatalf("got %d patients, %v; want %d", len(ps), err, r.want)
				}
				for _, p := range ps {
					if len(p.NHSNumber) != 10 || p.Status == "" {
						t.Errorf("patient not normalised: %+v", p)
					}
				}
				return
			}
			var re *receiver.RegisterError
			if !errors.As(err, &re) || !errors.Is(err, receiver.ErrInvalid) || ps != nil {
				t.Fatalf("got %d patients, %v; want a *RegisterError and nothing", len(ps), err)
			}
			var lines []int
			for _, p := range re.Problems {
				lines = append(lines, p.Line)
			}
			if len(lines) != len(r.wantLines) {
				t.Fatalf("problem lines: got %v, want %v (%v)", lines, r.wantLines, err)
			}
			for i := range lines {
				if lines[i] != r.wantLines[i] {
					t.Fatalf("problem lines: got %v, want %v (%v)", lines, r.wantLines, err)
				}
			}
			for _, secret := range []string{"9434765918", "09011955", "Richard", "abc"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error text carries row data %q: %v", secret, err)
				}
			}
		})
	}
}

func TestParseRegisterFHIR(t *testing.T) {
	bundle := `{"resourceType":"Bundle","type":"collection","entry":[
 {"resource":{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],
   "name":[{"use":"official","family":"Smith","given":["Richard","John"]}],"birthDate":"1955-01-09"}},
 {"resource":{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765870"}],
   "name":[{"family":"Jones","given":["Bob"]}],"birthDate":"1950-05-06","deceasedDateTime":"2026-01-01T10:00:00Z"}},
 {"resource":{"resourceType":"Patient","active":false,"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765811"}],
   "name":[{"family":"Brown","given":["Ann"]}],"birthDate":"1980-02-03"}}]}`
	ps, err := receiver.ParseRegisterFHIR(strings.NewReader(bundle), receiver.RegisterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []receiver.Patient{
		{NHSNumber: "9434765919", BirthDate: "1955-01-09", Family: "Smith", Given: "Richard John", Status: receiver.StatusRegistered},
		{NHSNumber: "9434765870", BirthDate: "1950-05-06", Family: "Jones", Given: "Bob", Status: receiver.StatusDeceased, DeathDate: "2026-01-01"},
		{NHSNumber: "9434765811", BirthDate: "1980-02-03", Family: "Brown", Given: "Ann", Status: receiver.StatusLeft},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d patients, want %d", len(ps), len(want))
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("patient %d: got %+v, want %+v", i, ps[i], want[i])
		}
	}
	bad := `<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/><entry><resource><Patient xmlns="http://hl7.org/fhir"><birthDate value="1955-01-09"/></Patient></resource></entry></Bundle>`
	if _, err := receiver.ParseRegisterFHIR(strings.NewReader(bad), receiver.RegisterOptions{}); !errors.Is(err, receiver.ErrInvalid) {
		t.Fatalf("patient without NHS number: got %v, want ErrInvalid", err)
	}
	if _, err := receiver.ParseRegisterFHIR(strings.NewReader("not fhir"), receiver.RegisterOptions{}); !errors.Is(err, receiver.ErrInvalid) {
		t.Fatalf("not FHIR: got %v, want ErrInvalid", err)
	}
}

func FuzzParseRegisterCSV(f *testing.F) {
	f.Add("nhs_number,birth_date,family,given\n9434765919,1955-01-09,Smith,Richard\n")
	f.Add("nhs_number,birth_date,family,given,status,death_date\n9434765870,1950-05-06,Jones,Bob,deceased,2026-01-01\n")
	f.Add("nhs_number,birth_date,family,given\n\"9434765919\",\"1955-01-09\",\"Sm\"\"ith\",\n")
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := receiver.ParseRegisterCSV(strings.NewReader(in), receiver.RegisterOptions{})
		if err != nil && ps != nil {
			t.Fatalf("patients returned with an error")
		}
		if err != nil && !errors.Is(err, receiver.ErrInvalid) {
			t.Fatalf("error is not ErrInvalid: %v", err)
		}
		for _, p := range ps {
			if len(p.NHSNumber) != 10 || p.Family == "" {
				t.Fatalf("accepted an incomplete entry: %+v", p)
			}
		}
	})
}
