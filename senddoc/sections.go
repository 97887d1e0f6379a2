package senddoc

import (
	"fmt"
	"strings"
)

// sectionEntry is one Composition.section.entry reference and the resource
// it stands for.
type sectionEntry struct {
	path    string // e.g. …(Composition).section[2].entry[0]
	section int    // index of the top-level section
	title   string
	target  *entry // nil when the reference does not resolve
}

// sectionEntries resolves every section entry of the Composition, in
// document order (top-level sections, their entries, then nested sections).
//
// A fullUrl used by two resources (a bdl-7 breach, reported by the bundle
// check) is resolved per section rather than by a preferred type: the
// resource whose type the section's title names ("Questionnaire Response" →
// the QuestionnaireResponse), otherwise the first candidate no other
// section claims by title. So in the official online-consultation examples,
// where the QuestionnaireResponse and the PDF share one fullUrl, the first
// section is the QuestionnaireResponse and the PDF the later one, as their
// titles say.
func (c *checker) sectionEntries(comp *entry) []sectionEntry {
	if comp == nil {
		return nil
	}
	type raw struct {
		sectionEntry
		ref string
	}
	var rs []raw
	var visit func(n node, path string, top int)
	visit = func(n node, path string, top int) {
		for i, s := range list(n["section"]) {
			sm, ok := s.(node)
			if !ok {
				continue
			}
			sp := fmt.Sprintf("%s.section[%d]", path, i)
			t := top
			if t < 0 {
				t = i
			}
			for j, e := range list(sm["entry"]) {
				em, _ := e.(node)
				rs = append(rs, raw{sectionEntry{path: fmt.Sprintf("%s.entry[%d]", sp, j), section: t, title: str(sm["title"])}, str(em["reference"])})
			}
			visit(sm, sp, t)
		}
	}
	visit(comp.res, comp.path, -1)

	claimed := map[*entry]bool{} // candidates a section names by title
	cands := make([][]*entry, len(rs))
	for i := range rs {
		cands[i] = c.candidates(rs[i].ref)
		if len(cands[i]) > 1 {
			if t := byTitle(cands[i], rs[i].title); t != nil {
				rs[i].target = t
				claimed[t] = true
			}
		}
	}
	out := make([]sectionEntry, len(rs))
	for i, r := range rs {
		switch {
		case r.target != nil:
		case len(cands[i]) == 1:
			r.target = cands[i][0]
		case len(cands[i]) > 1:
			r.target = cands[i][0]
			for _, e := range cands[i] {
				if !claimed[e] {
					r.target = e
					break
				}
			}
		}
		out[i] = r.sectionEntry
	}
	return out
}

// candidates lists every resource a reference could mean.
func (c *checker) candidates(ref string) []*entry {
	if ref == "" {
		return nil
	}
	var out []*entry
	for _, set := range [][]*entry{c.docEntries, c.outer} {
		for _, e := range set {
			if e.fullURL == ref || (e.typ+"/"+str(e.res["id"])) == ref {
				out = append(out, e)
			}
		}
	}
	return out
}

// byTitle returns the one candidate whose resource type a section title
// names, ignoring case and spaces.
func byTitle(cands []*entry, title string) *entry {
	t := strings.ToLower(strings.Join(strings.Fields(title), ""))
	var found *entry
	for _, e := range cands {
		if t == strings.ToLower(e.typ) {
			if found != nil {
				return nil
			}
			found = e
		}
	}
	return found
}

// attachments returns the section entries that are Binaries.
func attachments(ses []sectionEntry) []sectionEntry {
	var out []sectionEntry
	for _, s := range ses {
		if s.target != nil && s.target.typ == "Binary" {
			out = append(out, s)
		}
	}
	return out
}

// pdfRequired reports whether the use case's primary attachment must be a
// PDF: the consultation report (GPCM-SD-CS-028) and the online consultation
// (GPCM-SD-OC-012, and its patient-registration twin). A generic document's
// may be any ITK-Attachment-Binary-1 (GPCM-SD-GE-012).
func (c *checker) pdfRequired() bool { return c.uc != UseCaseGeneric }

const pdfType = "application/pdf"
