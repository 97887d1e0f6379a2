package updaterecord_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/gpcm/gpcm/docview"
	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/fhir/fhirtest"
	"github.com/gpcm/gpcm/updaterecord"
)

var update = flag.Bool("update", false, "rewrite testdata/view/*.golden.json")

func equalJSON(tb testing.TB, a, b any) bool {
	tb.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		tb.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Equal(x, y)
}

// TestViewGolden compares the inbox view of the blood-pressure examples
// with testdata/view/<name>.golden.json (-update rewrites them): the
// official example 1 (125/84, no interpretation) and the builder's (the
// raised 152/96 flagged high by its interpretation H).
func TestViewGolden(t *testing.T) {
	built := MustBuild(t, updaterecord.Example(updaterecord.UseCaseBloodPressure))
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"blood-pressure-check-service--example-1", readFixture(t, "messages/blood-pressure-check-service--example-1.xml")},
		{"built-blood-pressure", mustXML(t, built.Message.Bundle)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.MarshalIndent(mustRead(t, tc.data).View(), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "view", tc.name+".golden.json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				os.WriteFile(golden+".actual", got, 0o644)
				t.Errorf("the view differs from %s (actual written beside it)", golden)
			}
			// The view survives JSON, as the web and the API carry it.
			var back docview.View
			if err := json.Unmarshal(want, &back); err != nil || !equalJSON(t, back, mustRead(t, tc.data).View()) {
				t.Errorf("the golden view does not decode to the view: %v", err)
			}
		})
	}
}

// TestViewHighBloodPressure is the row the practice inbox must show for
// the builder's blood-pressure check: the pair with its unit and the
// sender's high flag.
func TestViewHighBloodPressure(t *testing.T) {
	s := mustRead(t, mustXML(t, MustBuild(t, updaterecord.Example(updaterecord.UseCaseBloodPressure)).Message.Bundle))
	want := docview.Row{Label: "Sitting blood pressure reading", Value: "152/96", Unit: "mmHg", Flag: docview.FlagHigh,
		Detail: "Left upper arm structure", Code: "SNOMED CT 163035008"}
	for _, sec := range s.View().Sections {
		if sec.Heading == "Observations" {
			if sec.Rows[0] != want || !docview.Flagged(sec.Rows[0].Flag) {
				t.Errorf("got %+v, want %+v", sec.Rows[0], want)
			}
			return
		}
	}
	t.Error("no Observations section")
}

// TestWriteDocumentJSON: the structured content goes out as the canonical
// FHIR JSON of the document Bundle, whatever format the message came in,
// and reads back to the same summary.
func TestWriteDocumentJSON(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(fixtures, "messages", "*.xml"))
	built := MustBuild(t, updaterecord.Example(updaterecord.UseCaseUrgentSupply))
	inputs := map[string][]byte{"built.json": mustJSON(t, built.Message.Bundle)}
	for _, p := range paths {
		inputs[filepath.Base(p)] = readFixture(t, filepath.Join("messages", filepath.Base(p)))
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			res, _, _, err := fhir.Decode(bytes.NewReader(data), nil)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := updaterecord.WriteDocumentJSON(&out, res); err != nil {
				t.Fatal(err)
			}
			doc := msg{res.(*fhir.Bundle)}.doc()
			fhirtest.AssertEqualJSON(t, out.Bytes(), mustJSON(t, doc))
			back, ff, err := fhir.DecodeJSON(bytes.NewReader(out.Bytes()), nil)
			if err != nil || len(ff) != 0 {
				t.Fatalf("the JSON does not decode cleanly: %v %v", err, ff)
			}
			if b, ok := back.(*fhir.Bundle); !ok || b.Type.String() != "document" {
				t.Fatalf("got a %s, want the document Bundle", back.ResourceType())
			}
			whole, err := updaterecord.Read(res)
			if err != nil {
				t.Fatal(err)
			}
			alone, err := updaterecord.Read(back)
			if err != nil {
				t.Fatal(err)
			}
			whole.SenderReference = "" // a handling key of the message, not of the document
			if !equalJSON(t, whole, alone) {
				t.Error("the document alone reads differently from the message")
			}
		})
	}
}

// FuzzRead: reading, viewing and exporting any decodable message never
// panics, and a summary always has a view with its Consultation section.
func FuzzRead(f *testing.F) {
	for _, dir := range []string{"messages", "historical"} {
		paths, _ := filepath.Glob(filepath.Join(fixtures, dir, "*.xml"))
		for _, p := range paths {
			data := readFixture(f, filepath.Join(dir, filepath.Base(p)))
			f.Add(data)
			if res, _, _, err := fhir.Decode(bytes.NewReader(data), nil); err == nil {
				f.Add(mustJSON(f, res))
			}
		}
	}
	for _, uc := range updaterecord.UseCases() {
		f.Add(mustJSON(f, MustBuild(f, updaterecord.Example(uc)).Message.Bundle))
	}
	f.Add([]byte(`{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Composition"}},{"resource":{"resourceType":"Observation","component":[{},{}],"valueRange":{}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, _, _, err := fhir.Decode(bytes.NewReader(data), &fhir.DecodeOptions{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		s, err := updaterecord.Read(res)
		var buf bytes.Buffer
		jerr := updaterecord.WriteDocumentJSON(&buf, res)
		if (err == nil) != (jerr == nil) {
			t.Fatalf("Read: %v, WriteDocumentJSON: %v", err, jerr)
		}
		if err != nil {
			return
		}
		if v := s.View(); len(v.Sections) == 0 || v.Sections[0].Heading != "Consultation" {
			t.Fatalf("view %+v", v)
		}
		if _, _, err := fhir.DecodeJSON(bytes.NewReader(buf.Bytes()), nil); err != nil {
			t.Fatalf("the document JSON does not read back: %v", err)
		}
	})
}
