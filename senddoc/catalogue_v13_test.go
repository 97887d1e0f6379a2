package senddoc_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/senddoc"
)

// TestV13Mapping checks the v1.3 → 1.5.2 mapping against both catalogues:
// every v1.3 ID is mapped, once, to an ID of the 1.5.2 senddoc catalogue
// that no other v1.3 ID maps to, and the two texts say the same thing (most
// of their words are shared), except GPCM-SD-107, whose author rule 1.5.2
// widened from a Practitioner to any author.
func TestV13Mapping(t *testing.T) {
	v13, err := senddoc.LoadCatalogue(filepath.Join(specDir, "v1.3", "senddoc_requirements.yml"))
	if err != nil {
		t.Fatal(err)
	}
	v152, err := senddoc.LoadCatalogue(filepath.Join(specDir, "senddoc_requirements.yml"))
	if err != nil {
		t.Fatal(err)
	}
	text := func(c senddoc.Catalogue) map[string]string {
		m := map[string]string{}
		for _, e := range c.Entries {
			m[e.ID] = e.PlainDescription()
		}
		return m
	}
	old, cur := text(v13), text(v152)
	targets := map[string]string{}
	for _, id := range v13.IDs() {
		to, ok := senddoc.FromV13(id)
		if !ok {
			t.Errorf("v1.3:%s is not mapped", id)
			continue
		}
		if _, ok := cur[to]; !ok {
			t.Errorf("v1.3:%s maps to %s, which the 1.5.2 senddoc catalogue does not hold", id, to)
		}
		if prev, dup := targets[to]; dup {
			t.Errorf("v1.3:%s and v1.3:%s both map to 1.5.2:%s", prev, id, to)
		}
		targets[to] = id
		if back := senddoc.ToV13(to); back != id {
			t.Errorf("ToV13(%s) = %q, want %s", to, back, id)
		}
		if j := jaccard(old[id], cur[to]); j < 0.6 && id != "GPCM-SD-107" {
			t.Errorf("v1.3:%s → 1.5.2:%s: the texts share %.0f%% of their words:\n  %s\n  %s", id, to, 100*j, old[id], cur[to])
		}
	}
	if n := len(senddoc.V13Mapping()); n != len(v13.IDs()) {
		t.Errorf("V13Mapping has %d pairs, the v1.3 catalogue %d IDs", n, len(v13.IDs()))
	}
	if _, ok := senddoc.FromV13("GPCM-SD-001"); ok {
		t.Error("GPCM-SD-001 is not a v1.3 ID")
	}
}

var wordRE = regexp.MustCompile(`[a-z0-9]+`)

func jaccard(a, b string) float64 {
	wa, wb := map[string]bool{}, map[string]bool{}
	for _, w := range wordRE.FindAllString(strings.ToLower(a), -1) {
		wa[w] = true
	}
	for _, w := range wordRE.FindAllString(strings.ToLower(b), -1) {
		wb[w] = true
	}
	both, either := 0, len(wb)
	for w := range wa {
		if wb[w] {
			both++
		} else {
			either++
		}
	}
	if either == 0 {
		return 1
	}
	return float64(both) / float64(either)
}
