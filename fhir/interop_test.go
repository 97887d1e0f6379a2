package fhir_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"github.com/gpcm/gpcm/fhir"
)

// interopDir holds the interop corpus: messages as independent XML
// writers re-serialise them (scripts/interop-corpus, testdata/README.md).
const interopDir = "../testdata/interop"

// interopVariant is one spelling of a corpus message.
type interopVariant struct {
	message, name string
	data          []byte
}

// interopCorpus returns every message of the corpus: its original and its
// variants (the other .xml files beside it), in name order.
func interopCorpus(tb testing.TB) (originals map[string][]byte, variants []interopVariant) {
	tb.Helper()
	dirs, err := filepath.Glob(filepath.Join(interopDir, "*", "original.xml"))
	if err != nil || len(dirs) == 0 {
		tb.Fatalf("no interop corpus in %s (run scripts/interop-corpus): %v", interopDir, err)
	}
	originals = map[string][]byte{}
	for _, o := range dirs {
		dir := filepath.Dir(o)
		msg := filepath.Base(dir)
		files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
		sort.Strings(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			if filepath.Base(f) == "original.xml" {
				originals[msg] = data
				continue
			}
			variants = append(variants, interopVariant{message: msg, name: filepath.Base(f), data: data})
		}
	}
	return originals, variants
}

// narrativeSpace matches white space between tags of a canonical narrative
// (which has no prefixes, so its end is the first </div> closing it).
var narrativeSpace = regexp.MustCompile(`>\s+<`)

// withoutNarrativeIndent removes white space between tags inside every
// narrative div of canonical XML: xmllint --format indents elements that
// hold only elements, the narrative's too, which adds text to it.
func withoutNarrativeIndent(b []byte) []byte {
	const start = `<div xmlns="http://www.w3.org/1999/xhtml">`
	var out []byte
	for {
		i := bytes.Index(b, []byte(start))
		if i < 0 {
			return append(out, b...)
		}
		j := i + bytes.Index(b[i:], []byte("</text>"))
		out = append(out, b[:i]...)
		out = append(out, narrativeSpace.ReplaceAll(b[i:j], []byte("><"))...)
		b = b[j:]
	}
}

// TestInteropCorpus: every variant of every corpus message reads to the
// same resource as its original (the same canonical XML and the same
// codec findings), issue 17 (Deliver 5).
func TestInteropCorpus(t *testing.T) {
	originals, variants := interopCorpus(t)
	type read struct{ canonical, findings []byte }
	decode := func(t *testing.T, data []byte) read {
		res, findings, err := fhir.DecodeXML(bytes.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		return read{mustEncodeXML(t, res, &fhir.EncodeOptions{Compact: true}), findingsText(findings)}
	}
	want := map[string]read{}
	for msg, data := range originals {
		t.Run(msg+"/original.xml", func(t *testing.T) { want[msg] = decode(t, data) })
	}
	for _, v := range variants {
		t.Run(v.message+"/"+v.name, func(t *testing.T) {
			w, ok := want[v.message]
			if !ok {
				t.Skip("original unreadable")
			}
			got := decode(t, v.data)
			gc, wc := got.canonical, w.canonical
			if v.name == "xmllint-format.xml" {
				gc, wc = withoutNarrativeIndent(gc), withoutNarrativeIndent(wc)
			}
			if !bytes.Equal(gc, wc) {
				i := 0
				for i < min(len(gc), len(wc)) && gc[i] == wc[i] {
					i++
				}
				t.Errorf("canonical XML differs from the original's at byte %d:\ngot  …%s\nwant …%s", i, gc[max(0, i-80):min(len(gc), i+80)], wc[max(0, i-80):min(len(wc), i+80)])
			}
			if !bytes.Equal(got.findings, w.findings) {
				t.Errorf("findings differ:\ngot  %s\nwant %s", got.findings, w.findings)
			}
		})
	}
}
