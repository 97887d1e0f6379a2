package senddoc

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// node is a FHIR resource or complex element in its JSON shape
// (map[string]any, []any, string, bool, json.Number). The validator reads
// the typed model of package fhir through this view so that rules can be
// written as paths.
type node = map[string]any

// list returns v as a slice: nil for nil, the slice itself, or a one-element
// slice.
func list(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}

// hit is one value found at a path, with its indexed path.
type hit struct {
	path string
	v    any
}

// walk returns every value at the dotted path below n, flattening arrays.
func walk(n node, base, path string) []hit {
	cur := []hit{{base, n}}
	for _, seg := range strings.Split(path, ".") {
		var next []hit
		for _, h := range cur {
			m, ok := h.v.(node)
			if !ok {
				continue
			}
			v, ok := m[seg]
			if !ok {
				continue
			}
			if arr, ok := v.([]any); ok {
				for i, x := range arr {
					next = append(next, hit{fmt.Sprintf("%s.%s[%d]", h.path, seg, i), x})
				}
			} else {
				next = append(next, hit{h.path + "." + seg, v})
			}
		}
		cur = next
	}
	return cur
}

func vals(n node, path string) []any {
	hs := walk(n, "", path)
	out := make([]any, len(hs))
	for i, h := range hs {
		out[i] = h.v
	}
	return out
}

// str returns the text of a primitive value ("" for complex values).
func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return ""
}

func first(n node, path string) string {
	for _, v := range vals(n, path) {
		if s := str(v); s != "" {
			return s
		}
	}
	return ""
}

func strs(n node, path string) []string {
	var out []string
	for _, v := range vals(n, path) {
		if s := str(v); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func has(n node, path string) bool { return len(vals(n, path)) > 0 }

// ext returns the extensions of n with the given url.
func ext(n node, url string) []node {
	var out []node
	for _, v := range vals(n, "extension") {
		if m, ok := v.(node); ok && str(m["url"]) == url {
			out = append(out, m)
		}
	}
	return out
}

func profiles(n node) []string { return strs(n, "meta.profile") }

func hasProfile(n node, p string) bool {
	for _, x := range profiles(n) {
		if x == p {
			return true
		}
	}
	return false
}

// codings returns the codings of a CodeableConcept (or of a Coding) at path.
func codings(n node, path string) []node {
	var out []node
	for _, v := range vals(n, path) {
		m, ok := v.(node)
		if !ok {
			continue
		}
		if _, ok := m["coding"]; ok {
			for _, c := range list(m["coding"]) {
				if cm, ok := c.(node); ok {
					out = append(out, cm)
				}
			}
		} else if _, ok := m["code"]; ok {
			out = append(out, m)
		}
	}
	return out
}

func hasCode(n node, path, system, code string) bool {
	for _, c := range codings(n, path) {
		if (system == "" || str(c["system"]) == system) && str(c["code"]) == code {
			return true
		}
	}
	return false
}

func anyIn(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}
