package senddoc

// Catalogue versions that qualify requirement IDs (Finding.Cited): the same
// number means different requirements in different catalogues (digest §8),
// so an ID is only unambiguous with its version.
const (
	// Catalogue152 is release 1.5.2 (testdata/spec/*_requirements.yml), whose
	// IDs the validator's rules are written against.
	Catalogue152 = "1.5.2"
	// CatalogueV13 is release 1.3.0 (testdata/spec/v1.3/), the line NHS
	// assured publicly: consultation summary only, numbered GPCM-SD-028…135.
	CatalogueV13 = "v1.3"
	// CatalogueV2 is the v2 guide on Simplifier, which kept the v1.3
	// numbering: its number of a requirement is the v1.3 one.
	CatalogueV2 = "v2"
)

// Qualify writes id with its catalogue version, "1.5.2:GPCM-SD-032".
func Qualify(catalogue, id string) string { return catalogue + ":" + id }

// v13Map pairs every requirement of the v1.3 catalogue with the release
// 1.5.2 requirement that carries it on (same text, or, for GPCM-SD-107, the
// author rule 1.5.2 widened from a Practitioner to any author), in v1.3
// file order. v1.3 has no use cases beyond the consultation summary, so
// every target is a core or GPCM-SD-CS-… ID. Release 1.5.2 IDs without a
// v1.3 ancestor: GPCM-SD-006…026 and 078 (section entries of other
// resources), GPCM-SD-028 (id), GPCM-SD-CS-011…016 (PDF layout details),
// GPCM-SD-CS-073/074 (trigger steps 3 and 4), GPCM-SD-CS-076 (latest
// version only) and GPCM-SD-CS-079/080 (LocalID).
var v13Map = [][2]string{
	{"GPCM-C-01", "GPCM-C-01"},
	{"GPCM-C-02", "GPCM-C-02"},
	{"GPCM-SD-103", "GPCM-SD-001"},
	{"GPCM-SD-104", "GPCM-SD-002"},
	{"GPCM-SD-105", "GPCM-SD-003"},
	{"GPCM-SD-106", "GPCM-SD-004"},
	{"GPCM-SD-107", "GPCM-SD-005"},
	{"GPCM-SD-108", "GPCM-SD-027"},
	{"GPCM-SD-109", "GPCM-SD-029"},
	{"GPCM-SD-110", "GPCM-SD-030"},
	{"GPCM-SD-111", "GPCM-SD-031"},
	{"GPCM-SD-112", "GPCM-SD-032"},
	{"GPCM-SD-113", "GPCM-SD-CS-017"},
	{"GPCM-SD-114", "GPCM-SD-CS-018"},
	{"GPCM-SD-115", "GPCM-SD-CS-019"},
	{"GPCM-SD-116", "GPCM-SD-CS-020"},
	{"GPCM-SD-117", "GPCM-SD-CS-021"},
	{"GPCM-SD-118", "GPCM-SD-CS-022"},
	{"GPCM-SD-119", "GPCM-SD-CS-023"},
	{"GPCM-SD-120", "GPCM-SD-CS-024"},
	{"GPCM-SD-121", "GPCM-SD-CS-025"},
	{"GPCM-SD-122", "GPCM-SD-CS-026"},
	{"GPCM-SD-123", "GPCM-SD-CS-027"},
	{"GPCM-SD-124", "GPCM-SD-CS-028"},
	{"GPCM-SD-125", "GPCM-SD-CS-029"},
	{"GPCM-SD-028", "GPCM-SD-CS-032"},
	{"GPCM-SD-029", "GPCM-SD-CS-033"},
	{"GPCM-SD-030", "GPCM-SD-CS-034"},
	{"GPCM-SD-031", "GPCM-SD-CS-035"},
	{"GPCM-SD-032", "GPCM-SD-CS-036"},
	{"GPCM-SD-033", "GPCM-SD-CS-037"},
	{"GPCM-SD-034", "GPCM-SD-CS-038"},
	{"GPCM-SD-035", "GPCM-SD-CS-039"},
	{"GPCM-SD-036", "GPCM-SD-CS-040"},
	{"GPCM-SD-037", "GPCM-SD-CS-041"},
	{"GPCM-SD-038", "GPCM-SD-CS-042"},
	{"GPCM-SD-039", "GPCM-SD-CS-043"},
	{"GPCM-SD-040", "GPCM-SD-CS-044"},
	{"GPCM-SD-041", "GPCM-SD-CS-045"},
	{"GPCM-SD-042", "GPCM-SD-CS-046"},
	{"GPCM-SD-043", "GPCM-SD-CS-047"},
	{"GPCM-SD-044", "GPCM-SD-CS-048"},
	{"GPCM-SD-045", "GPCM-SD-CS-049"},
	{"GPCM-SD-046", "GPCM-SD-CS-050"},
	{"GPCM-SD-047", "GPCM-SD-CS-051"},
	{"GPCM-SD-048", "GPCM-SD-CS-052"},
	{"GPCM-SD-049", "GPCM-SD-CS-053"},
	{"GPCM-SD-050", "GPCM-SD-CS-054"},
	{"GPCM-SD-051", "GPCM-SD-CS-055"},
	{"GPCM-SD-052", "GPCM-SD-CS-056"},
	{"GPCM-SD-053", "GPCM-SD-CS-057"},
	{"GPCM-SD-054", "GPCM-SD-CS-058"},
	{"GPCM-SD-055", "GPCM-SD-CS-059"},
	{"GPCM-SD-056", "GPCM-SD-CS-060"},
	{"GPCM-SD-057", "GPCM-SD-CS-061"},
	{"GPCM-SD-058", "GPCM-SD-CS-062"},
	{"GPCM-SD-059", "GPCM-SD-CS-063"},
	{"GPCM-SD-060", "GPCM-SD-CS-064"},
	{"GPCM-SD-061", "GPCM-SD-CS-065"},
	{"GPCM-SD-062", "GPCM-SD-CS-066"},
	{"GPCM-SD-063", "GPCM-SD-CS-067"},
	{"GPCM-SD-064", "GPCM-SD-CS-068"},
	{"GPCM-SD-065", "GPCM-SD-040"},
	{"GPCM-SD-066", "GPCM-SD-041"},
	{"GPCM-SD-074", "GPCM-SD-042"},
	{"GPCM-SD-075", "GPCM-SD-043"},
	{"GPCM-SD-076", "GPCM-SD-CS-069"},
	{"GPCM-SD-077", "GPCM-SD-CS-070"},
	{"GPCM-SD-083", "GPCM-SD-CS-071"},
	{"GPCM-SD-084", "GPCM-SD-CS-072"},
	{"GPCM-SD-086", "GPCM-SD-CS-001"},
	{"GPCM-SD-087", "GPCM-SD-CS-002"},
	{"GPCM-SD-088", "GPCM-SD-CS-003"},
	{"GPCM-SD-089", "GPCM-SD-CS-004"},
	{"GPCM-SD-090", "GPCM-SD-CS-005"},
	{"GPCM-SD-091", "GPCM-SD-CS-006"},
	{"GPCM-SD-092", "GPCM-SD-CS-030"},
	{"GPCM-SD-093", "GPCM-SD-CS-031"},
	{"GPCM-SD-094", "GPCM-SD-044"},
	{"GPCM-SD-095", "GPCM-SD-045"},
	{"GPCM-SD-096", "GPCM-SD-CS-075"},
	{"GPCM-SD-135", "GPCM-SD-CS-077"},
	{"GPCM-SD-098", "GPCM-SD-CS-007"},
	{"GPCM-SD-102", "GPCM-SD-CS-008"},
	{"GPCM-SD-133", "GPCM-SD-CS-009"},
	{"GPCM-SD-134", "GPCM-SD-CS-010"},
	{"GPCM-SD-126", "GPCM-SD-033"},
	{"GPCM-SD-127", "GPCM-SD-034"},
	{"GPCM-SD-128", "GPCM-SD-035"},
	{"GPCM-SD-129", "GPCM-SD-036"},
	{"GPCM-SD-130", "GPCM-SD-037"},
	{"GPCM-SD-131", "GPCM-SD-038"},
	{"GPCM-SD-132", "GPCM-SD-039"},
}

var (
	v13To152  = pairIndex(0)
	v152ToV13 = pairIndex(1)
)

func pairIndex(key int) map[string]string {
	m := make(map[string]string, len(v13Map))
	for _, p := range v13Map {
		m[p[key]] = p[1-key]
	}
	return m
}

// FromV13 returns the release 1.5.2 ID of a v1.3 requirement (v2 IDs are
// v1.3 IDs). ok is false for an ID the v1.3 catalogue does not hold.
func FromV13(id string) (string, bool) {
	s, ok := v13To152[id]
	return s, ok
}

// ToV13 returns the v1.3 (and v2) number of a release 1.5.2 requirement,
// "" when v1.3 has none.
func ToV13(id string) string { return v152ToV13[id] }

// V13Mapping lists every v1.3 requirement ID with its release 1.5.2 ID, in
// v1.3 file order.
func V13Mapping() [][2]string { return append([][2]string(nil), v13Map...) }
