package updaterecord_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/docview"
	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/updaterecord"
)

// obsLine is an observation as the tables below write it: "code value
// unit flag" (empty parts dropped).
func obsLine(o updaterecord.ObservationSummary) string {
	return strings.Join(strings.Fields(strings.Join([]string{o.Code.Code, o.Value, o.Unit, o.Flag}, " ")), " ")
}

// medLine is a medicine as the tables write it: "code quantity unit, days".
func medLine(m updaterecord.MedicineSummary) string {
	return fmt.Sprintf("%s %s %s, %s", m.Code.Code, m.Quantity, m.Unit, m.DaysSupply)
}

func lines[T any](xs []T, f func(T) string) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

func headingsOf(s updaterecord.Summary) []string {
	return lines(s.Notes, func(n updaterecord.Note) string { return n.Heading })
}

func mustRead(tb testing.TB, data []byte) updaterecord.Summary {
	tb.Helper()
	s, err := updaterecord.ReadMessage(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("ReadMessage: %v", err)
	}
	return s
}

// TestReadOfficialExamples reads every official example message into the
// summary a GP sees (digest §4.1–§4.3 list what each carries). None has
// an interpretation, so none is flagged: the digest names no threshold of
// its own (UR-F10), not even for contraception example 2's "high" 142/90.
func TestReadOfficialExamples(t *testing.T) {
	dispensers := updaterecord.Organisation{Name: "The Dispensers", ODSCode: "A(*)"}
	kaiShun := updaterecord.Professional{Name: "Dr Medi Kai-Shun", Role: "Pharmacist", RoleCode: "R1290", GPhCNumber: "NNNNNNN"}
	tests := []struct {
		file       string
		uc         updaterecord.UseCase
		service    string
		pharmacist updaterecord.Professional
		notes      []string
		obs        []string
		meds       []string
		dosage     string // prefix of the first medicine's dosage text
		conds      []string
	}{
		{"blood-pressure-check-service--example-1.xml", updaterecord.UseCaseBloodPressure, "Blood Pressure Check",
			updaterecord.Professional{Name: "Miss Di Spencer", Role: "Pharmacy Technician", RoleCode: "R5220"},
			[]string{"clinical-summary", "history", "information-and-advice-given"},
			[]string{"163020007 125/84 mm[Hg]", "364075005 78 {beats}/min"}, // the diastolic code typo does not stop the pair
			[]string{}, "", []string{}},
		{"blood-pressure-check-service--example-2.xml", updaterecord.UseCaseBloodPressure, "Blood Pressure Check", kaiShun,
			[]string{"clinical-summary", "information-and-advice-given"},
			[]string{"314463006 158/102 mm[Hg]", "60001007"}, // ABPM 24-hour triplet in no table; Not pregnant
			[]string{}, "", []string{}},
		{"contraception-service--example-1.xml", updaterecord.UseCaseContraception, "Pharmacy Contraception", kaiShun,
			[]string{"clinical-summary"},
			[]string{"163034007 120/78 mm[Hg]", "50373000 162.56 cm", "27113001 64 kg", "60621009 24 kg/m2", "60001007"},
			[]string{"17346711000001106 252 Tablet, 252 days"}, "One tablet is to be taken daily for 21", []string{}},
		{"contraception-service--example-2.xml", updaterecord.UseCaseContraception, "Pharmacy Contraception", kaiShun,
			[]string{"clinical-summary", "information-and-advice-given"},
			[]string{"163020007 142/90 mm[Hg]", "50373000 157.48 cm", "27113001 72 kg", "60621009 29.2 kg/m2", "60001007"},
			[]string{}, "", []string{}}, // no supply: said in the notes
		{"pharmacy-first-service--example-1.xml", updaterecord.UseCasePharmacyFirst, "Pharmacy First", kaiShun,
			[]string{"clinical-summary", "history", "information-and-advice-given"},
			[]string{"703421000 37.4 Cel", "163033001 118/73 mm[Hg]", "364075005 82 {beats}/min", "8392000"},
			[]string{"289411000001107 20 Capsule, 5 days"}, "Four times a day for 5 days", []string{"276433004 Insect bite - wound active"}},
		{"pharmacy-first-service--example-2.xml", updaterecord.UseCasePharmacyFirst, "Pharmacy First", kaiShun,
			[]string{"clinical-summary", "history", "information-and-advice-given"},
			[]string{"703421000 36.7 Cel", "314137006"},
			[]string{"24549911000001107 21 Capsule, 7 days"}, "Take four times per day", []string{"68566005 Urinary tract infectious disease active"}},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.file, ".xml"), func(t *testing.T) {
			s := mustRead(t, readFixture(t, filepath.Join("messages", tc.file)))
			if s.UseCase != tc.uc || s.Service != tc.service || s.Seen != "2023-08-08" || s.Status != "final" {
				t.Errorf("got use case %q service %q seen %q status %q, want %q %q 2023-08-08 final", s.UseCase, s.Service, s.Seen, s.Status, tc.uc, tc.service)
			}
			if !strings.HasPrefix(s.Title, "The Dispensers - ") || s.Pharmacy != dispensers || s.Pharmacist != tc.pharmacist {
				t.Errorf("got title %q pharmacy %+v pharmacist %+v, want %+v %+v", s.Title, s.Pharmacy, s.Pharmacist, dispensers, tc.pharmacist)
			}
			if s.Patient.NHSNumber != "4857773456" || s.Patient.Name == "" || !strings.HasPrefix(s.SenderReference, "urn:uuid:") || s.DocumentID == "" || s.Replaces != "" {
				t.Errorf("got patient %+v sender reference %q document %q replaces %q", s.Patient, s.SenderReference, s.DocumentID, s.Replaces)
			}
			if got := headingsOf(s); !slices.Equal(got, tc.notes) {
				t.Errorf("got note headings %q, want %q", got, tc.notes)
			}
			for _, n := range s.Notes {
				if n.Text == "" {
					t.Errorf("note %s without text", n.Heading)
				}
			}
			if got := lines(s.Observations, obsLine); !slices.Equal(got, tc.obs) {
				t.Errorf("got observations %q, want %q", got, tc.obs)
			}
			if got := lines(s.Medicines, medLine); !slices.Equal(got, tc.meds) {
				t.Errorf("got medicines %q, want %q", got, tc.meds)
			}
			if len(s.Medicines) > 0 && (!strings.HasPrefix(s.Medicines[0].Dosage, tc.dosage) || s.Medicines[0].PatientInstruction == "" || s.Medicines[0].Route != "Oral route") {
				t.Errorf("got dosage %+v, want text starting %q, a patient instruction and the oral route", s.Medicines[0], tc.dosage)
			}
			conds := lines(s.Conditions, func(c updaterecord.ConditionSummary) string {
				return c.Code.Code + " " + c.Name + " " + c.ClinicalStatus
			})
			if !slices.Equal(conds, tc.conds) {
				t.Errorf("got conditions %q, want %q", conds, tc.conds)
			}
			if v := s.View(); len(v.Sections) < 3 || v.Sections[0].Heading != "Consultation" || v.Title != s.Title {
				t.Errorf("view %+v", v)
			}
		})
	}
}

// TestReadHistorical: the earlier versions of the examples and the July
// 2023 draft (event ITK???, a ReferralRequest) still read.
func TestReadHistorical(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(fixtures, "historical", "*.xml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no historical files: %v", err)
	}
	for _, p := range paths {
		s := mustRead(t, readFixture(t, filepath.Join("historical", filepath.Base(p))))
		if s.Title == "" || s.Pharmacist.Name == "" || s.Pharmacy.Name == "" || len(s.Notes)+len(s.Observations) == 0 {
			t.Errorf("%s: got %+v", filepath.Base(p), s)
		}
	}
}

// TestReadBuilt reads the builder's message for each use case, as built
// and after XML and JSON, and finds the input again.
func TestReadBuilt(t *testing.T) {
	for _, uc := range updaterecord.UseCases() {
		t.Run(string(uc), func(t *testing.T) {
			in := updaterecord.Example(uc)
			b := MustBuild(t, in)
			direct, err := updaterecord.Read(b.Message.Bundle)
			if err != nil {
				t.Fatal(err)
			}
			for name, data := range map[string][]byte{"xml": mustXML(t, b.Message.Bundle), "json": mustJSON(t, b.Message.Bundle)} {
				if s := mustRead(t, data); !equalJSON(t, s, direct) {
					t.Errorf("%s: the summary differs from the built model's", name)
				}
			}
			s := direct
			svc, _ := uc.Service()
			if s.UseCase != uc || s.Service != uc.Name() || s.ServiceCode != svc || s.Title != in.Title() || s.Seen != in.Consultation.Date {
				t.Errorf("got %q %q %+v %q %q", s.UseCase, s.Service, s.ServiceCode, s.Title, s.Seen)
			}
			want := updaterecord.Professional{Name: "Ms Amira Khan", Role: "Pharmacist", RoleCode: "R1290", GPhCNumber: "2071234", SDSUserID: "555123456789"}
			if s.Pharmacist != want || s.Pharmacy != (updaterecord.Organisation{Name: in.Pharmacy.Name, ODSCode: in.Pharmacy.ODSCode}) {
				t.Errorf("got pharmacist %+v pharmacy %+v, want %+v", s.Pharmacist, s.Pharmacy, want)
			}
			if s.Patient.NHSNumber != in.Patient.NHSNumber || s.Patient.BirthDate != in.Patient.BirthDate ||
				s.SenderReference != in.Consultation.ID || s.DocumentID != b.DocumentID || s.Version != 0 || s.Replaces != "" {
				t.Errorf("got patient %+v references %q %q %d %q", s.Patient, s.SenderReference, s.DocumentID, s.Version, s.Replaces)
			}
			if !slices.EqualFunc(s.Notes, in.Notes, func(a, b updaterecord.Note) bool { return a == b }) {
				t.Errorf("got notes %+v, want %+v", s.Notes, in.Notes)
			}
			if len(s.Observations) != len(in.Observations) {
				t.Fatalf("got %d observations, want %d", len(s.Observations), len(in.Observations))
			}
			for i, o := range in.Observations {
				got := s.Observations[i]
				var value, unit string
				switch {
				case o.BloodPressure != nil:
					value, unit = string(o.BloodPressure.Systolic)+"/"+string(o.BloodPressure.Diastolic), "mm[Hg]"
				case o.Value != nil:
					value, unit = string(o.Value.Value), o.Value.Unit
				}
				flag := map[string]string{"H": docview.FlagHigh, "L": docview.FlagLow, "A": docview.FlagAbnormal, "N": docview.FlagNormal, "": ""}[o.Interpretation]
				if got.Value != value || got.Unit != unit || got.Flag != flag || got.Heading != o.Heading || got.BloodPressure != (o.BloodPressure != nil) {
					t.Errorf("observation %d: got %+v, want %s %s flag %q", i, got, value, unit, flag)
				}
			}
			if len(s.Medicines) != len(in.Medicines) {
				t.Fatalf("got %d medicines, want %d", len(s.Medicines), len(in.Medicines))
			}
			for i, m := range in.Medicines {
				got := s.Medicines[i]
				if got.Name != m.Medication.Display || got.Code.Code != m.Medication.Code || got.Quantity != string(m.Quantity.Value) ||
					got.Unit != m.Quantity.Unit.Display || got.Dosage != m.Dosage.Text || got.PatientInstruction != m.Dosage.PatientInstruction ||
					got.DaysSupply != string(m.DaysSupply)+" days" || got.Status != "completed" {
					t.Errorf("UR-D12 medicine %d: got %+v, want %+v", i, got, m)
				}
			}
			conds := lines(s.Conditions, func(c updaterecord.ConditionSummary) string { return c.Code.Code + " " + c.Heading })
			wantConds := lines(in.Conditions, func(c updaterecord.ConditionInput) string { return c.Code.Code + " presenting-complaints-or-issues" })
			if !slices.Equal(conds, wantConds) {
				t.Errorf("got conditions %q, want %q", conds, wantConds)
			}
		})
	}
}

// TestReadReplacement: a replacement names the update it replaces
// (UR-E02) and carries its version (UR-E03); SenderReference stays.
func TestReadReplacement(t *testing.T) {
	first := MustBuild(t, updaterecord.Example(updaterecord.UseCaseBloodPressure))
	in := updaterecord.Example(updaterecord.UseCaseBloodPressure)
	in.Version, in.Replaces = 2, &updaterecord.Replacement{DocumentID: first.DocumentID}
	second := MustBuild(t, in)
	s := mustRead(t, mustXML(t, second.Message.Bundle))
	if s.Replaces != first.DocumentID || s.Version != 2 || s.SenderReference != in.Consultation.ID || s.DocumentID != second.DocumentID {
		t.Errorf("UR-E02: got replaces %q version %d sender reference %q document %q", s.Replaces, s.Version, s.SenderReference, s.DocumentID)
	}
	rows := s.View().Sections[0].Rows
	if last := rows[len(rows)-1]; last.Label != "Replaces" || last.Value != first.DocumentID || last.Detail != "this is version 2" {
		t.Errorf("UR-E02: got consultation rows %+v", rows)
	}
}

// TestReadInterpretation: the flag is the sender's interpretation
// (UR-D17, UR-F10), on the Observation or on a component, in either
// v2-0078 host or the CareConnect code system, else its text; a value
// alone, even far outside the sender's reference range, is not flagged.
func TestReadInterpretation(t *testing.T) {
	concept := func(system, code, text string) *fhir.CodeableConcept {
		cc := &fhir.CodeableConcept{}
		if code != "" {
			cc.Coding = []*fhir.Coding{{System: fhir.NewURI(system), Code: fhir.NewCode(code)}}
		}
		if text != "" {
			cc.Text = fhir.NewString(text)
		}
		return cc
	}
	const v2, r4, cc = "http://hl7.org/fhir/v2/0078", "http://terminology.hl7.org/CodeSystem/v2-0078", "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-ObservationInterpretation-1"
	tests := []struct {
		name      string
		obs, comp *fhir.CodeableConcept
		want      string
	}{
		{"UR-D17 H", concept(v2, "H", ""), nil, docview.FlagHigh},
		{"UR-D17 HH R4 host", concept(r4, "HH", ""), nil, docview.FlagHigh},
		{"UR-D17 A abnormal (the guide's snippet)", concept(r4, "A", ""), nil, docview.FlagAbnormal},
		{"UR-D17 L CareConnect system", concept(cc, "L", ""), nil, docview.FlagLow},
		{"UR-D17 N normal", concept(v2, "N", ""), nil, docview.FlagNormal},
		{"UR-D17 text only", concept("", "", "High"), nil, docview.FlagHigh},
		{"UR-D17 unknown system ignored", concept("http://example.org/flags", "H", ""), nil, ""},
		{"UR-D17 systolic component high", nil, concept(v2, "H", ""), docview.FlagHigh},
		{"UR-D17 normal header, high component", concept(v2, "N", ""), concept(v2, "H", ""), docview.FlagHigh},
		{"UR-D17 high header, low component", concept(v2, "H", ""), concept(v2, "L", ""), docview.FlagAbnormal},
		{"UR-F10 none", nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := updaterecord.Example(updaterecord.UseCaseBloodPressure)
			in.Observations[0].Interpretation = ""
			m := msg{MustBuild(t, in).Message.Bundle}
			bp := m.nth("Observation", 0).(*fhir.Observation)
			bp.Interpretation, bp.Component[0].Interpretation = tc.obs, tc.comp
			bp.ReferenceRange = []*fhir.ObservationReferenceRange{{High: &fhir.SimpleQuantity{Value: fhir.NewDecimal("120"),
				System: fhir.NewURI("http://unitsofmeasure.org"), Code: fhir.NewCode("mm[Hg]")}}}
			s := mustRead(t, mustJSON(t, m.b))
			got := s.Observations[0]
			if got.Flag != tc.want || got.Value != "152/96" || got.ReferenceRange != "≤120 mm[Hg]" {
				t.Errorf("got flag %q value %q range %q, want %q 152/96 ≤120 mm[Hg]", got.Flag, got.Value, got.ReferenceRange, tc.want)
			}
			if row := s.View().Sections[3].Rows[0]; row.Flag != tc.want || row.Value != "152/96" || row.Unit != "mmHg" {
				t.Errorf("got view row %+v", row)
			}
		})
	}
}

// TestReadValues covers the value types the examples do not use: a coded
// value, a report (UR-D19, its title shown), a missing value with a
// reason, and a non-blood-pressure component pair.
func TestReadValues(t *testing.T) {
	in := updaterecord.Example(updaterecord.UseCaseBloodPressure)
	in.Observations = append(in.Observations, updaterecord.ObservationInput{
		Code:       &updaterecord.Coding{Code: "725956001", Display: "Ambulatory blood pressure monitoring report"},
		Attachment: &updaterecord.AttachmentInput{Title: "ABPM report 24 Nov 2026", ContentType: "application/pdf", Data: []byte("%PDF-1.4 test")},
	})
	m := msg{MustBuild(t, in).Message.Bundle}
	pulse := m.nth("Observation", 1).(*fhir.Observation)
	pulse.Value = nil
	pulse.DataAbsentReason = &fhir.CodeableConcept{Text: fhir.NewString("Patient refused")}
	bp := m.nth("Observation", 0).(*fhir.Observation)
	bp.Component[0].Code = &fhir.CodeableConcept{Text: fhir.NewString("Mean arterial pressure")}
	s := mustRead(t, mustXML(t, m.b))
	if o := s.Observations[0]; o.BloodPressure || o.Value != "" || len(o.Components) != 2 || o.Components[0].Value != "152" {
		t.Errorf("a pair that is not systolic/diastolic: got %+v", o)
	}
	if o := s.Observations[1]; o.Value != "not recorded: Patient refused" {
		t.Errorf("data absent: got %+v", o)
	}
	if o := s.Observations[2]; o.Attachment == nil || o.Value != "ABPM report 24 Nov 2026" || o.Attachment.ContentType != "application/pdf" || o.Attachment.Size != len("%PDF-1.4 test") {
		t.Errorf("UR-D19 report: got %+v", o)
	}
	var rows []docview.Row
	for _, sec := range s.View().Sections {
		if sec.Heading == "Observations" {
			rows = sec.Rows
		}
	}
	if len(rows) != 5 || rows[1].Label != "Sitting blood pressure reading – Mean arterial pressure" || rows[4].Value != "ABPM report 24 Nov 2026" || rows[4].Detail != "application/pdf" {
		t.Errorf("got observation rows %+v", rows)
	}
}

// TestReadRejects: only something without an Update Record document is
// an error.
func TestReadRejects(t *testing.T) {
	b := MustBuild(t, updaterecord.Example(updaterecord.UseCasePharmacyFirst))
	noComp := msg{MustBuild(t, updaterecord.Example(updaterecord.UseCasePharmacyFirst)).Message.Bundle}
	noComp.drop("Composition")
	noDoc := msg{MustBuild(t, updaterecord.Example(updaterecord.UseCasePharmacyFirst)).Message.Bundle}
	noDoc.b.Entry = noDoc.b.Entry[:2]
	var nilBundle *fhir.Bundle
	for _, tc := range []struct {
		name string
		res  fhir.Resource
		ok   bool
	}{
		{"message", b.Message.Bundle, true},
		{"document alone", msg{b.Message.Bundle}.doc(), true},
		{"patient", &fhir.Patient{}, false},
		{"nil", nil, false},
		{"nil bundle", nilBundle, false},
		{"no composition", noComp.b, false},
		{"no document (a response)", noDoc.b, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := updaterecord.Read(tc.res)
			if tc.ok && (err != nil || s.Service != "Pharmacy First") {
				t.Errorf("got %+v, %v", s, err)
			}
			if !tc.ok && !errors.Is(err, updaterecord.ErrNotUpdateRecord) {
				t.Errorf("got %v, want ErrNotUpdateRecord", err)
			}
			var buf bytes.Buffer
			if err := updaterecord.WriteDocumentJSON(&buf, tc.res); (err == nil) != tc.ok {
				t.Errorf("WriteDocumentJSON: %v", err)
			}
		})
	}
	if _, err := updaterecord.ReadMessage(strings.NewReader("not FHIR")); !errors.Is(err, updaterecord.ErrUnreadable) {
		t.Errorf("got %v, want ErrUnreadable", err)
	}
}

// TestReadTolerates takes a built message of each use case and, one at a
// time, empties every element reachable in its model (nil pointers, empty
// or nil-holding lists, typed nil choices, as a lenient decoder or a
// careless producer may leave them): Read, View and WriteDocumentJSON
// never panic, whatever is missing.
func TestReadTolerates(t *testing.T) {
	for _, uc := range updaterecord.UseCases() {
		t.Run(string(uc), func(t *testing.T) {
			root := MustBuild(t, updaterecord.Example(uc)).Message.Bundle
			n := 0
			try := func() {
				n++
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("mutation %d: panic %v\n%s", n, p, debug.Stack())
					}
				}()
				if s, err := updaterecord.Read(root); err == nil {
					s.View()
				}
				updaterecord.WriteDocumentJSON(io.Discard, root)
			}
			mutate(reflect.ValueOf(root).Elem(), try)
			if n < 300 {
				t.Fatalf("only %d mutations", n)
			}
		})
	}
}

// mutate empties each element below v in turn, calls try, and puts it
// back.
func mutate(v reflect.Value, try func()) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				mutate(f, try)
			}
		}
		return
	case reflect.Pointer, reflect.Interface, reflect.Slice:
		if v.IsNil() {
			return
		}
	default:
		return
	}
	saved := reflect.New(v.Type()).Elem()
	saved.Set(v)
	v.Set(reflect.Zero(v.Type()))
	try()
	switch v.Kind() {
	case reflect.Interface: // a typed nil of the same alternative
		if c := saved.Elem(); c.Kind() == reflect.Pointer {
			v.Set(reflect.Zero(c.Type()))
			try()
		}
	case reflect.Slice: // a list holding nil
		if k := v.Type().Elem().Kind(); k == reflect.Pointer || k == reflect.Interface {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			try()
		}
	}
	v.Set(saved)
	switch v.Kind() {
	case reflect.Pointer:
		mutate(v.Elem(), try)
	case reflect.Interface:
		if e := v.Elem(); e.Kind() == reflect.Pointer && !e.IsNil() {
			mutate(e.Elem(), try)
		}
	case reflect.Slice:
		for i := range v.Len() {
			mutate(v.Index(i), try)
		}
	}
}
