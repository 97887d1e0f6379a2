// Package fhirtest compares FHIR documents semantically in tests: it turns
// an XML or JSON document into a canonical text in which element order
// between different element names does not matter, so that a document and
// its canonically ordered re-encoding compare equal.
//
// It parses with the standard library (encoding/xml, encoding/json), not
// with package fhir, so it can check fhir's own codec.
package fhirtest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
)

const nsXHTML = "http://www.w3.org/1999/xhtml"

type node struct {
	name     xml.Name
	attrs    []string
	text     string
	children []*node
}

// CanonicalXML returns a canonical text form of an XML document: comments,
// processing instructions and whitespace-only text are dropped, namespace
// declarations are resolved into names, attributes are sorted, and sibling
// elements are stably sorted by name (so the order of repeated elements is
// kept) everywhere except inside XHTML, which is kept in document order
// with its text.
func CanonicalXML(data []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	root := &node{}
	stack := []*node{root}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("fhirtest: %w", err)
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				n.attrs = append(n.attrs, fmt.Sprintf("@{%s}%s=%q", a.Name.Space, a.Name.Local, a.Value))
			}
			sort.Strings(n.attrs)
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if inXHTML(stack) {
				top.children = append(top.children, &node{text: string(t)})
			} else if s := strings.TrimSpace(string(t)); s != "" {
				top.children = append(top.children, &node{text: s})
			}
		}
	}
	var b strings.Builder
	for _, c := range root.children {
		write(&b, c, 0)
	}
	return b.String(), nil
}

func inXHTML(stack []*node) bool {
	return len(stack) > 0 && stack[len(stack)-1].name.Space == nsXHTML
}

func write(b *strings.Builder, n *node, depth int) {
	ind := strings.Repeat("  ", depth)
	if n.name.Local == "" {
		fmt.Fprintf(b, "%s#text %q\n", ind, n.text)
		return
	}
	fmt.Fprintf(b, "%s{%s}%s\n", ind, n.name.Space, n.name.Local)
	for _, a := range n.attrs {
		fmt.Fprintf(b, "%s  %s\n", ind, a)
	}
	kids := n.children
	if n.name.Space != nsXHTML {
		kids = append([]*node(nil), kids...)
		sort.SliceStable(kids, func(i, j int) bool { return key(kids[i]) < key(kids[j]) })
	}
	for _, c := range kids {
		write(b, c, depth+1)
	}
}

func key(n *node) string { return n.name.Space + " " + n.name.Local }

// CanonicalJSON returns a canonical text form of a JSON document: object
// keys sorted, numbers kept exactly as written, two-space indentation.
func CanonicalJSON(data []byte) (string, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", fmt.Errorf("fhirtest: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return "", fmt.Errorf("fhirtest: data after the JSON value")
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("fhirtest: %w", err)
	}
	return string(out), nil
}

// Diff returns "" when a and b are equal, else a short description of the
// first differing line.
func Diff(a, b string) string {
	if a == b {
		return ""
	}
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			from := max(0, i-3)
			return fmt.Sprintf("first difference at canonical line %d:\n  got:  %s\n  want: %s\ncontext:\n%s", i+1, x, y, strings.Join(la[from:min(i+1, len(la))], "\n"))
		}
	}
	return "documents differ"
}

// AssertEqualXML fails t if the two XML documents are not semantically equal.
func AssertEqualXML(tb testing.TB, got, want []byte) {
	tb.Helper()
	g, err := CanonicalXML(got)
	if err != nil {
		tb.Fatalf("got: %v", err)
	}
	w, err := CanonicalXML(want)
	if err != nil {
		tb.Fatalf("want: %v", err)
	}
	if d := Diff(g, w); d != "" {
		tb.Errorf("XML documents differ: %s", d)
	}
}

// AssertEqualJSON fails t if the two JSON documents are not semantically equal.
func AssertEqualJSON(tb testing.TB, got, want []byte) {
	tb.Helper()
	g, err := CanonicalJSON(got)
	if err != nil {
		tb.Fatalf("got: %v", err)
	}
	w, err := CanonicalJSON(want)
	if err != nil {
		tb.Fatalf("want: %v", err)
	}
	if d := Diff(g, w); d != "" {
		tb.Errorf("JSON documents differ: %s", d)
	}
}
