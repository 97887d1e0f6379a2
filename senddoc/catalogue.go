package senddoc

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// CatalogueEntry is one requirement as published in an official YAML
// catalogue (fields id, area, description, page).
type CatalogueEntry struct {
	ID          string `yaml:"id"`
	Area        string `yaml:"area"`
	Description string `yaml:"description"`
	Page        string `yaml:"page"`
}

// Catalogue is one requirement YAML file.
type Catalogue struct {
	Name    string // file base name without extension, e.g. "senddoc_requirements"
	Entries []CatalogueEntry
}

// legend lists the pseudo-IDs every catalogue carries as a table legend.
var legend = map[string]bool{"GFR": true, "ITK": true, "None": true}

// IDs returns the distinct requirement IDs in file order, without the legend
// pseudo-IDs (GFR, ITK, None).
func (c Catalogue) IDs() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range c.Entries {
		if legend[e.ID] || seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		out = append(out, e.ID)
	}
	return out
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// PlainDescription returns the description without its HTML markup.
func (e CatalogueEntry) PlainDescription() string {
	return strings.Join(strings.Fields(tagRE.ReplaceAllString(e.Description, "")), " ")
}

// ReadCatalogue parses a requirement catalogue in the published YAML form.
func ReadCatalogue(name string, r io.Reader) (Catalogue, error) {
	var doc struct {
		Requirements []CatalogueEntry `yaml:"requirements"`
	}
	dec := yaml.NewDecoder(io.LimitReader(r, 16<<20))
	if err := dec.Decode(&doc); err != nil {
		return Catalogue{}, fmt.Errorf("senddoc: catalogue %s: %w", name, err)
	}
	if len(doc.Requirements) == 0 {
		return Catalogue{}, fmt.Errorf("senddoc: catalogue %s has no requirements list", name)
	}
	for i, e := range doc.Requirements {
		if e.ID == "" {
			return Catalogue{}, fmt.Errorf("senddoc: catalogue %s: entry %d has no id", name, i)
		}
	}
	return Catalogue{Name: name, Entries: doc.Requirements}, nil
}

// LoadCatalogue reads one catalogue file, e.g.
// testdata/spec/senddoc_requirements.yml.
func LoadCatalogue(path string) (Catalogue, error) {
	f, err := os.Open(path)
	if err != nil {
		return Catalogue{}, fmt.Errorf("senddoc: %w", err)
	}
	defer f.Close()
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return ReadCatalogue(name, f)
}
