package updaterecord_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/updaterecord"
)

const fixtures = "../testdata/update-record"

func readFixture(tb testing.TB, rel string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, rel))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// allSix are the digest §11.1 rows that hold for all six official example
// messages (and for their earlier versions); nObs is the number of
// Observations, each of which carries the R4 category URI.
func allSix(nObs int) []want {
	return []want{
		{updaterecord.RuleNHSNumber, E, "check digit", 1},         // NHS number 4857773456 fails modulus 11
		{"UR-C01", W, "message identifier", 1},                    // Bundle.identifier not rfc4122 + UUID
		{"UR-C01", I, "Bundle.id", 1},                             // Bundle.id is the file name
		{updaterecord.RuleIdentifierForm, W, "Organization's", 1}, // pharmacy ODS A(*)
		{"UR-C05", I, "differs", 1},                               // header ODS FQW30 is not the pharmacy's
		{"UR-C07", W, "source.endpoint", 1},                       // SENDER_MESH_MAILBOX_ID
		{updaterecord.RuleProfile, I, "no SDS user ID", 1},        // Practitioner without SDS user ID
		{updaterecord.RuleProfile, I, "has no use", 1},            // … and without name.use
		{"UR-D11", W, "R4 URI", nObs},                             // Observation.category R4 system
		{updaterecord.RuleProfile, I, "participant type", 1},      // participant type coding without display
		{updaterecord.RuleProfile, W, "job role", 1},              // PractitionerRole.code on the fhir.nhs.uk host
		{updaterecord.RuleProfile, W, "custodian", 1},             // no Composition.custodian
		{updaterecord.RuleProfile, I, "confidentiality", 1},       // no confidentiality
	}
	// Not reported (§11.1 says ignore): Composition.encounter, Condition.context
	// and Composition.author pointing at GPC profiles where
	// CareConnect-Composition-1 types other ones.
}

// fiveOfSix are the rows that hold for every example but blood pressure 1.
var fiveOfSix = []want{
	{updaterecord.RuleIdentifierForm, W, "GPhC", 1}, // GPhC number NNNNNNN (BP1 has none)
	{"UR-C15", I, "SenderReference", 1},             // SenderReference urn:uuid:<id> vs bare Encounter.identifier
}

func join(sets ...[]want) []want {
	var out []want
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}

// TestOfficialExamples reads the six official messages and checks that the
// validator reports each defect digest §11.1 lists for them, with its
// label, and nothing else; with test NHS numbers allowed every one is
// accepted (20013).
func TestOfficialExamples(t *testing.T) {
	tests := []struct {
		file string
		uc   updaterecord.UseCase
		want []want
	}{
		{"blood-pressure-check-service--example-1.xml", updaterecord.UseCaseBloodPressure, join(allSix(2), []want{
			{"UR-C02", W, "white space", 1},                            // " https://…/ITK-MessageHeader-2"
			{"UR-C05", W, "white space", 1},                            // "  https://…/CareConnect-ITK-Header-Organization-1"
			{updaterecord.RuleBloodPressure, W, "1091811000000100", 1}, // diastolic code typo
			{updaterecord.RuleProfile, I, "urn:uuid: prefix", 1},       // Encounter.identifier.value urn:uuid:…
		})},
		{"blood-pressure-check-service--example-2.xml", updaterecord.UseCaseBloodPressure, join(allSix(2), fiveOfSix, []want{
			{updaterecord.RuleBloodPressure, I, "314463006 / 314449000 / 314462001", 1}, // ABPM triplet in no table
		})},
		{"contraception-service--example-1.xml", updaterecord.UseCaseContraception, join(allSix(5), fiveOfSix)},
		{"contraception-service--example-2.xml", updaterecord.UseCaseContraception, join(allSix(5), fiveOfSix, []want{
			{"UR-D16", I, "Centimeter", 1},          // height unit text capitalised
			{"UR-D09", I, "repeats the summary", 1}, // two ClinicalImpressions, same text
		})},
		{"pharmacy-first-service--example-1.xml", updaterecord.UseCasePharmacyFirst, join(allSix(4), fiveOfSix, []want{
			{"UR-D09", I, "social-context", 1}, // Non-smoker tagged social-context after 1.1.5
		})},
		{"pharmacy-first-service--example-2.xml", updaterecord.UseCasePharmacyFirst, join(allSix(2), fiveOfSix, []want{
			{"UR-D11", I, "social-history Observation without", 1}, // urine nitrite as social-history
		})},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readFixture(t, filepath.Join("messages", tt.file))
			rep := mustValidate(t, data, updaterecord.Options{})
			if rep.Kind != updaterecord.KindUpdateRecord || rep.UseCase != tt.uc || rep.Format != "xml" {
				t.Errorf("got kind %s use case %s format %s, want update-record %s xml", rep.Kind, rep.UseCase, rep.Format, tt.uc)
			}
			if rep.MessageHeaderID == "" || rep.MessageHeaderID == rep.BundleID || rep.DocumentID == "" || rep.SenderReference == "" {
				t.Errorf("identifiers not read: %+v", rep)
			}
			if rep.ResponseCode != itk3.CodePayloadValidationFailure {
				t.Errorf("response code %s, want 20009 for the invalid NHS number", rep.ResponseCode)
			}
			checkExactly(t, rep, tt.want)

			lenient := mustValidate(t, data, updaterecord.Options{AllowTestNHSNumbers: true})
			if lenient.ResponseCode != itk3.CodeSuccess || !lenient.Conformant() {
				t.Errorf("with test NHS numbers allowed: got %s, want 20013 and no errors\n%s", lenient.ResponseCode, dump(lenient))
			}
		})
	}
}

// TestHistoricalExamples reads the earlier versions of the examples. Their
// defects beyond the ones they share with the current files are not in
// §11 (which covers the current files): the two pre-1.1.5 Pharmacy First
// files leave a ClinicalImpression out of Composition.section (UR-D06), and
// the July 2023 draft is not an Update Record message at all.
func TestHistoricalExamples(t *testing.T) {
	tests := []struct {
		file string
		code itk3.ResponseCode
		want []want
	}{
		{"blood-pressure-check-service--example-2.v1.1.5.xml", 20009, join(allSix(2), fiveOfSix)},
		{"minor-illness-common-conditions-service--example-1.xml", 20009, join(allSix(4), fiveOfSix, []want{
			{"UR-D06", E, "not referenced", 1},
			{updaterecord.RuleBloodPressure, I, "75367002", 1},
			{"UR-D09", I, "social-context", 1},
		})},
		{"minor-illness-common-conditions-service--example-2.xml", 20009, join(allSix(3), fiveOfSix, []want{
			{"UR-D06", E, "not referenced", 1},
			{"UR-D11", I, "social-history Observation without", 1},
			{"UR-D09", I, "social-context", 1},
		})},
		// §11.1: event ITK??? ("TODO - CONFIRM CODE"), no MessageDefinition
		// key, a ReferralRequest, non-urn:uuid fullUrls; and every payload
		// resource sits in the message bundle, not the document.
		{"update-record--itk3--cpcs-minor-illness--justin-thyme.DRAFT.xml", 10004, []want{
			{"UR-C03", E, "ITK014M", 1},
			{"UR-C14", E, "MessageDefinition is missing", 1},
			{"UR-D04", E, "ReferralRequest", 1},
			{"UR-D04", E, "not part of an Update Record message", 9},
			{"UR-D04", E, "CareConnect-GPC-Composition-1", 1},
			{"UR-D08", W, "is not urn:uuid", 13},
			{"UR-C02", E, "first entry", 1},
			{"UR-C02", E, "needs an id", 1},
			{"UR-C05", E, "must be an Organization", 1},
			{"UR-D02", E, "holds no", 4},
			{"UR-D03", E, "holds no ClinicalImpression", 1},
			{"UR-D05", E, "SNOMED CT code of the service", 1},
			{updaterecord.RuleFHIRBundle, E, "does not resolve", 2},
			{"UR-C01", W, "message identifier", 1},
			{"UR-C07", W, "source.endpoint", 1},
			{"UR-D01", W, "lastUpdated", 1},
			{updaterecord.RuleProfile, W, "custodian", 1},
			{updaterecord.RuleProfile, I, "confidentiality", 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rep := mustValidate(t, readFixture(t, filepath.Join("historical", tt.file)), updaterecord.Options{})
			if rep.ResponseCode != tt.code {
				t.Errorf("response code %s, want %s", rep.ResponseCode, tt.code)
			}
			checkExactly(t, rep, tt.want)
		})
	}
}

// TestHeadingSnippets reads the PRSB heading snippets as lone resources.
// The §11.1 snippet rows: the UKCore tag system on clinical-summary and
// info-advice-given, 77386006 displayed "Not pregnant", the ABPM-declined
// identifier system ending /flag. The snippets are fragments: those
// without meta.profile, the ABPM snippet without issued, and the
// safeguarding Flag (out of scope since 1.1.4) are reported too (not in
// §11).
func TestHeadingSnippets(t *testing.T) {
	order := want{updaterecord.RuleFHIRStructure, W, "out of order", 1}
	socialContext := want{"UR-D09", I, "social-context", 1}
	tests := []struct {
		file string
		kind string
		want []want
	}{
		{"clinical-summary", updaterecord.KindResource, []want{order, {"UR-D09", W, "UKCore-RecordStandardHeadings", 1}}},
		{"expected-delivery-date", updaterecord.KindResource, nil},
		{"history", updaterecord.KindResource, []want{order}},
		{"info-advice-given", updaterecord.KindResource, []want{order, {"UR-D09", W, "UKCore-RecordStandardHeadings", 1}, {"UR-D02", E, "must declare", 1}}},
		{"plan-requested-actions", updaterecord.KindResource, []want{order}},
		{"pregnancy-state", updaterecord.KindResource, []want{order, {updaterecord.RuleProfile, W, "contradicts SNOMED CT 77386006", 1}}},
		{"procedures-abpm-declined", updaterecord.KindResource, []want{
			{updaterecord.RuleProfile, I, "named after a Flag", 1},
			{"UR-D02", E, "must declare", 1},
			{updaterecord.RuleProfile, E, "issued", 1},
		}},
		{"procedures-contraception", updaterecord.KindResource, []want{{updaterecord.RuleFHIRStructure, W, "out of order", 2}}},
		{"red-flags", updaterecord.KindResource, []want{order}},
		{"safeguarding", updaterecord.KindUnknown, []want{{"UR-D04", E, "Flag", 1}}},
		{"signpost-details", updaterecord.KindResource, []want{order}},
		{"social-context--date-stopped-smoking", updaterecord.KindResource, []want{socialContext}},
		{"social-context--smoking-status", updaterecord.KindResource, []want{socialContext}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rep := mustValidate(t, readFixture(t, filepath.Join("prsb-heading-snippets", "example--gpc-update-record--prsb--"+tt.file+".xml")), updaterecord.Options{})
			if rep.Kind != tt.kind {
				t.Errorf("kind %s, want %s", rep.Kind, tt.kind)
			}
			checkExactly(t, rep, tt.want)
		})
	}
	rep := mustValidate(t, readFixture(t, "prsb-heading-snippets/example--gpc-update-record-uncategorised-data--feeding-status-of-the-baby.xml"), updaterecord.Options{})
	checkExactly(t, rep, nil)
}

// TestEveryExampleReads: every XML file under testdata/update-record
// decodes, including the FHIR assets (as resources that are no message).
func TestEveryExampleReads(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(fixtures, "*", "*.xml"))
	if err != nil || len(paths) < 40 {
		t.Fatalf("found %d fixtures: %v", len(paths), err)
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := updaterecord.Validate(context.Background(), f, updaterecord.Options{}); err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
		}
		f.Close()
	}
}
