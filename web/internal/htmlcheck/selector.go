package htmlcheck

import (
	"fmt"
	"strings"

	"golang.org/x/net/html"
)

// Selector is a parsed selector: compounds joined by descendant combinators.
type Selector struct {
	parts []compound
}

type attrTest struct {
	name, value string
	hasValue    bool
}

type compound struct {
	tag     string
	id      string
	classes []string
	attrs   []attrTest
}

// ParseSelector parses the supported subset of CSS selectors.
func ParseSelector(s string) (*Selector, error) {
	var sel Selector
	for _, f := range splitOutsideBrackets(strings.TrimSpace(s)) {
		c, err := parseCompound(f)
		if err != nil {
			return nil, fmt.Errorf("htmlcheck: selector %q: %w", s, err)
		}
		sel.parts = append(sel.parts, c)
	}
	if len(sel.parts) == 0 {
		return nil, fmt.Errorf("htmlcheck: empty selector")
	}
	return &sel, nil
}

// MustSelector is ParseSelector for selectors written in tests; it panics on
// a malformed selector, which is a bug in the test.
func MustSelector(s string) *Selector {
	sel, err := ParseSelector(s)
	if err != nil {
		panic(err)
	}
	return sel
}

// splitOutsideBrackets splits on spaces that are not inside [...] or quotes.
func splitOutsideBrackets(s string) []string {
	var out []string
	var cur strings.Builder
	depth, quote := 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == ' ' && depth == 0:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteByte(c)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func isNameByte(c byte) bool {
	return c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func parseCompound(s string) (compound, error) {
	var c compound
	name := func(i int) (string, int) {
		j := i
		for j < len(s) && isNameByte(s[j]) {
			j++
		}
		return s[i:j], j
	}
	i := 0
	if i < len(s) && (isNameByte(s[i]) || s[i] == '*') {
		if s[i] == '*' {
			i++
		} else {
			c.tag, i = name(i)
			c.tag = strings.ToLower(c.tag)
		}
	}
	for i < len(s) {
		switch s[i] {
		case '#':
			var n string
			if n, i = name(i + 1); n == "" {
				return c, fmt.Errorf("empty id at %d", i)
			}
			c.id = n
		case '.':
			var n string
			if n, i = name(i + 1); n == "" {
				return c, fmt.Errorf("empty class at %d", i)
			}
			c.classes = append(c.classes, n)
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return c, fmt.Errorf("unclosed [")
			}
			body := s[i+1 : i+end]
			i += end + 1
			var a attrTest
			if k, v, ok := strings.Cut(body, "="); ok {
				a = attrTest{name: strings.TrimSpace(k), value: strings.Trim(strings.TrimSpace(v), `"'`), hasValue: true}
			} else {
				a = attrTest{name: strings.TrimSpace(body)}
			}
			if a.name == "" {
				return c, fmt.Errorf("empty attribute name")
			}
			c.attrs = append(c.attrs, a)
		default:
			return c, fmt.Errorf("unexpected %q at %d", s[i], i)
		}
	}
	return c, nil
}

func (c compound) matches(n *html.Node) bool {
	if n.Type != html.ElementNode || (c.tag != "" && n.Data != c.tag) {
		return false
	}
	if c.id != "" {
		if v, _ := Attr(n, "id"); v != c.id {
			return false
		}
	}
	if len(c.classes) > 0 {
		v, _ := Attr(n, "class")
		have := strings.Fields(v)
		for _, want := range c.classes {
			found := false
			for _, h := range have {
				if h == want {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	for _, a := range c.attrs {
		v, ok := Attr(n, a.name)
		if !ok || (a.hasValue && v != a.value) {
			return false
		}
	}
	return true
}

// matches reports whether n matches the whole selector: its last compound
// matches n and the earlier ones match ancestors in order.
func (s *Selector) matches(n *html.Node) bool {
	last := len(s.parts) - 1
	if !s.parts[last].matches(n) {
		return false
	}
	i := last - 1
	for p := n.Parent; p != nil && i >= 0; p = p.Parent {
		if s.parts[i].matches(p) {
			i--
		}
	}
	return i < 0
}

// All returns every element under root (root excluded) matching s, in
// document order.
func (s *Selector) All(root *html.Node) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if s.matches(c) {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(root)
	return out
}

// First returns the first element under root matching s, or nil.
func (s *Selector) First(root *html.Node) *html.Node {
	if all := s.All(root); len(all) > 0 {
		return all[0]
	}
	return nil
}
