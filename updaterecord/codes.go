package updaterecord

import "sort"

// bpTriplet is one row of the blood-pressure triplet tables (digest §4.5):
// the Observation.code and the codes of its systolic and diastolic
// components.
type bpTriplet struct {
	name                        string // the builder's reading name; "" for rows only read
	header, systolic, diastolic Coding
	versions                    string
}

func sct(code, display string) Coding {
	return Coding{System: snomedSystem, Code: code, Display: display}
}

var bpTriplets = []bpTriplet{
	{"standard", sct("163020007", "On examination - blood pressure reading"), sct("72313002", "Systolic arterial pressure"), sct("1091811000000102", "Diastolic arterial pressure"), "1.1.5+"},
	{"", sct("163020007", "On examination - blood pressure reading"), sct("72313002", "Systolic arterial pressure"), sct("271650006", "Diastolic blood pressure"), "1.1.5+"},
	{"", sct("163020007", "On examination - blood pressure reading"), sct("271649006", "Systolic blood pressure"), sct("271650006", "Diastolic blood pressure"), "1.1.5+"},
	{"lying", sct("163033001", "Lying blood pressure reading"), sct("407556006", "Lying systolic blood pressure"), sct("407557002", "Lying diastolic blood pressure"), "1.1.5+"},
	{"standing", sct("163034007", "Standing blood pressure reading"), sct("400974009", "Standing systolic blood pressure"), sct("400975005", "Standing diastolic blood pressure"), "1.1.5+"},
	{"sitting", sct("163035008", "Sitting blood pressure reading"), sct("407554009", "Sitting systolic blood pressure"), sct("407555005", "Sitting diastolic blood pressure"), "1.1.5+"},
	{"baseline", sct("928021000000108", "Baseline blood pressure"), sct("716579001", "Baseline systolic blood pressure"), sct("716632005", "Baseline diastolic blood pressure"), "1.1.5+"},
	{"", sct("723232008", "Average blood pressure"), sct("314440001", "Average systolic blood pressure"), sct("314453003", "Average diastolic blood pressure"), "1.1.5 only"},
	{"average-ambulatory", sct("2181371000000107", "Average ambulatory blood pressure"), sct("2181381000000109", "Average ambulatory systolic blood pressure"), sct("2181391000000106", "Average ambulatory diastolic blood pressure"), "1.2.0"},
	{"self-measured", sct("335661000000109", "Self measured blood pressure reading"), sct("1162737008", "Self reported systolic blood pressure"), sct("1162735000", "Self reported diastolic blood pressure"), "1.2.0"},
}

// diastolicTypo is the diastolic code the 1.1.4 guide printed (and blood
// pressure example 1 still carries) for 1091811000000102.
const diastolicTypo = "1091811000000100"

var bpReadings = func() map[string]bpTriplet {
	m := map[string]bpTriplet{}
	for _, t := range bpTriplets {
		if t.name != "" {
			m[t.name] = t
		}
	}
	return m
}()

// BloodPressureReadings lists the reading names BloodPressureInput.Reading
// accepts.
func BloodPressureReadings() []string {
	var out []string
	for _, t := range bpTriplets {
		if t.name != "" {
			out = append(out, t.name)
		}
	}
	return out
}

// ucumUnits are the supported UCUM unit with the name the builder writes in
// Quantity.unit (as in the official examples).
var ucumUnits = map[string]string{
	"cm":          "centimeter",
	"[in_i]":      "inch",
	"g":           "gram",
	"kg":          "kilogram",
	"[lb_av]":     "pound",
	"kg/m2":       "kilogram per square meter",
	"mm[Hg]":      "millimeter of mercury",
	"{beats}/min": "per minute",
	"Cel":         "degree Celsius",
	"[degF]":      "degree Fahrenheit",
}

// UCUMUnits lists the UCUM codes of the supported vital signs (digest §4.5).
func UCUMUnits() []string {
	out := make([]string, 0, len(ucumUnits))
	for u := range ucumUnits {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// vitalUnits gives, for the vital-sign codes the guide names, the units
// that fit (digest §4.5: height, weight, BMI, heart rate, temperature and
// their self-reported forms).
var vitalUnits = map[string][]string{
	"50373000":   {"cm", "[in_i]"},       // body height
	"248333004":  {"cm", "[in_i]"},       // standing height
	"1162419008": {"cm", "[in_i]"},       // self reported body height
	"27113001":   {"g", "kg", "[lb_av]"}, // body weight
	"784399000":  {"g", "kg", "[lb_av]"}, // self reported body weight
	"60621009":   {"kg/m2"},              // body mass index
	"364075005":  {"{beats}/min"},        // heart rate
	"78564009":   {"{beats}/min"},        // heart rate measured at systemic artery
	"703421000":  {"Cel", "[degF]"},      // temperature
}

// interpretations are the HL7 v2 table 0078 flags the builder writes.
var interpretations = map[string]string{"H": "High", "L": "Low", "A": "Abnormal", "N": "Normal"}

// supplyTypes are the concepts of CareConnect-MedicationSupplyType-1.
var supplyTypes = map[string]string{
	"over-the-counter":                "Over the counter",
	"emergency-supply":                "Emergency supply",
	"patient-group-direction":         "Patient group direction",
	"minor-ailments-scheme":           "Minor ailments scheme",
	"prescription-dispensing":         "Prescription dispensing",
	"private-prescription-dispensing": "Private prescription dispensing",
	"self-declared":                   "Self declared",
}

// Pregnancy-status codes (PRSB heading pregnancy-status).
const (
	codePregnant    = "77386006"
	codeNotPregnant = "60001007"
)

// HeadingDisplay returns the display of a RecordStandardHeadings code.
func HeadingDisplay(code string) (string, bool) {
	d, ok := headings[code]
	return d, ok
}
