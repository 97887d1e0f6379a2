package updaterecord_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/updaterecord"
)

// TestRequirements: every UR label of the digest (§2, A01–G04) is in the
// inventory once, in order, with a code only where a response applies.
func TestRequirements(t *testing.T) {
	reqs := updaterecord.Requirements()
	labelRE := regexp.MustCompile(`^UR-[A-G]\d\d[b]?$`)
	seen := map[string]bool{}
	for _, r := range reqs {
		if !labelRE.MatchString(r.ID) || seen[r.ID] {
			t.Errorf("bad or repeated label %q", r.ID)
		}
		seen[r.ID] = true
		if r.Area != r.ID[3:4] {
			t.Errorf("%s: area %s", r.ID, r.Area)
		}
		if r.Code != 0 && !r.Code.Known() {
			t.Errorf("%s: unknown code %s", r.ID, r.Code)
		}
		if got, ok := updaterecord.Lookup(r.ID); !ok || got.Text != r.Text {
			t.Errorf("Lookup(%s)", r.ID)
		}
	}
	if len(reqs) != 74 {
		t.Errorf("got %d labels, want the digest's 74", len(reqs))
	}
	for _, id := range []string{"UR-D04", "UR-F08", "UR-C11"} {
		r, _ := updaterecord.Lookup(id)
		want := map[string]itk3.ResponseCode{"UR-D04": 20009, "UR-F08": 20010, "UR-C11": 10003}[id]
		if r.Code != want {
			t.Errorf("%s answers %s, want %s", id, r.Code, want)
		}
	}
}

// TestImplemented: each label or rule the validator claims to check is
// broken by at least one case of TestRules, TestResponses or the example
// tables, and every label those name is claimed.
func TestImplemented(t *testing.T) {
	exercised := map[string]bool{updaterecord.RuleFHIRStructure: true} // TestUnreadable, TestHeadingSnippets
	for _, c := range ruleCases {
		exercised[c.id] = true
		if !strings.HasPrefix(c.name, c.id+" ") {
			t.Errorf("case %q does not start with its label %s", c.name, c.id)
		}
	}
	for _, c := range responseCases {
		if c.id != "" {
			exercised[c.id] = true
		}
	}
	for id := range exercised {
		if !updaterecord.Implemented(id) {
			t.Errorf("%s is tested but not listed as implemented", id)
		}
	}
	for _, r := range updaterecord.Requirements() {
		if updaterecord.Implemented(r.ID) && !exercised[r.ID] {
			t.Errorf("%s is listed as implemented but no rule case breaks it", r.ID)
		}
	}
	for _, id := range []string{updaterecord.RuleProfile, updaterecord.RuleBloodPressure, updaterecord.RuleIdentifierForm,
		updaterecord.RuleNHSNumber, updaterecord.RuleFHIRBundle, updaterecord.RuleMESHAddress, updaterecord.RuleITK3Response} {
		if !exercised[id] || !updaterecord.Implemented(id) {
			t.Errorf("rule %s: exercised %v implemented %v", id, exercised[id], updaterecord.Implemented(id))
		}
	}
}

// TestHeadings: the RecordStandardHeadings codes compiled in are those of
// the CodeSystem in the guide's package.
func TestHeadings(t *testing.T) {
	data := readFixture(t, "fhir-assets/CodeSystem-RecordStandardHeadings.xml")
	res, _, err := fhir.DecodeXML(bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := res.(*fhir.CodeSystem)
	if cs.URL.String() != updaterecord.HeadingSystem {
		t.Errorf("CodeSystem url %s, want %s", cs.URL, updaterecord.HeadingSystem)
	}
	n := 0
	for _, c := range cs.Concept {
		n++
		if d, ok := updaterecord.HeadingDisplay(c.Code.String()); !ok || d != c.Display.String() {
			t.Errorf("heading %s: got %q %v, want %q", c.Code, d, ok, c.Display)
		}
	}
	if n != 186 {
		t.Errorf("%d concepts, want 186", n)
	}
}

// TestProfileURLs: the profile URLs compiled in are the url of each
// StructureDefinition in the guide's package (CareConnect-Composition-1
// lives in another package and is not stored).
func TestProfileURLs(t *testing.T) {
	urls := map[string]string{}
	paths, _ := filepath.Glob(filepath.Join(fixtures, "fhir-assets", "StructureDefinition-*.xml"))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		res, _, err := fhir.DecodeXML(f, nil)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		sd := res.(*fhir.StructureDefinition)
		urls[sd.URL.String()] = filepath.Base(p)
	}
	for _, p := range []string{updaterecord.ProfileDocumentBundle, updaterecord.ProfilePatient, updaterecord.ProfileOrganization,
		updaterecord.ProfilePractitioner, updaterecord.ProfilePractitionerRole, updaterecord.ProfileEncounter, updaterecord.ProfileObservation,
		updaterecord.ProfileClinicalImpression, updaterecord.ProfileCondition, updaterecord.ProfileMedicationDispense,
		itk3.MessageBundleProfile, itk3.MessageHeaderProfile, itk3.HeaderOrganizationProfile, itk3.ResponseOutcomeProfile, itk3.MessageHandlingURL} {
		if urls[p] == "" {
			t.Errorf("no StructureDefinition has url %s", p)
		}
	}
	if urls[updaterecord.ProfileComposition] != "" {
		t.Errorf("%s is in the package after all", updaterecord.ProfileComposition)
	}
}

// TestEventCode: ITK014M "ITK Update Record" is in the package's
// ITK-MessageEvent-2.
func TestEventCode(t *testing.T) {
	res, _, err := fhir.DecodeXML(bytes.NewReader(readFixture(t, "fhir-assets/CodeSystem-ITK-MessageEvent-2.xml")), nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := res.(*fhir.CodeSystem)
	for _, c := range cs.Concept {
		if c.Code.String() == updaterecord.Event && c.Display.String() == updaterecord.EventDisplay && cs.URL.String() == itk3.MessageEventSystem {
			return
		}
	}
	t.Errorf("%s %q not in %s", updaterecord.Event, updaterecord.EventDisplay, cs.URL)
}

func FuzzValidate(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(fixtures, "messages", "*.xml"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	b, err := updaterecord.Build(updaterecord.Example(updaterecord.UseCaseBloodPressure), updaterecord.BuildOptions{})
	if err != nil {
		f.Fatal(err)
	}
	var js bytes.Buffer
	if err := b.WriteJSON(&js); err != nil {
		f.Fatal(err)
	}
	f.Add(js.Bytes())
	f.Add([]byte(`{"resourceType":"Bundle","type":"message","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MessageHeader","id":"1"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := updaterecord.Validate(context.Background(), bytes.NewReader(data), updaterecord.Options{MaxBytes: 4 << 20})
		if err == nil && rep.Findings == nil {
			t.Fatal("nil findings")
		}
		if err != nil && rep.ResponseCode != itk3.CodeUnreadableMessage && rep.ResponseCode != itk3.CodeMessageTooLarge {
			t.Fatalf("error %v with code %s", err, rep.ResponseCode)
		}
	})
}
