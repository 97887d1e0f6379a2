// Package htmlcheck asserts facts about an HTML document by CSS-like
// selectors, so that page tests check structure (this table has a row with
// that text) instead of comparing whole pages.
//
// Selectors support a subset of CSS: type (table), class (.nhsuk-table), id
// (#findings), attribute ([name], [name=value], [name="value"]), any compound
// of those (input.nhsuk-input[type=password]) and the descendant combinator
// (a space): "table#findings tbody tr".
package htmlcheck

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html"
)

// Checker checks a node; the root checker gets the document node.
type Checker func(*html.Node) error

// Parse reads an HTML document.
func Parse(r io.Reader) (*html.Node, error) {
	n, err := html.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("htmlcheck: parsing: %w", err)
	}
	return n, nil
}

// Run parses r and applies every checker, joining their errors.
func Run(r io.Reader, checkers ...Checker) error {
	doc, err := Parse(r)
	if err != nil {
		return err
	}
	return All(checkers...)(doc)
}

// All applies every checker to the node and joins their errors.
func All(checkers ...Checker) Checker {
	return func(n *html.Node) error {
		var errs []error
		for _, c := range checkers {
			if err := c(n); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}

// In applies the checkers to the first element under the node that matches
// selector; it fails if there is none.
func In(selector string, checkers ...Checker) Checker {
	sel := MustSelector(selector)
	return func(n *html.Node) error {
		m := sel.First(n)
		if m == nil {
			return fmt.Errorf("no element matches %q", selector)
		}
		if err := All(checkers...)(m); err != nil {
			return fmt.Errorf("in %q: %w", selector, err)
		}
		return nil
	}
}

// InAll applies the checkers to every element matching selector; it fails if
// there is none.
func InAll(selector string, checkers ...Checker) Checker {
	sel := MustSelector(selector)
	return func(n *html.Node) error {
		ms := sel.All(n)
		if len(ms) == 0 {
			return fmt.Errorf("no element matches %q", selector)
		}
		for i, m := range ms {
			if err := All(checkers...)(m); err != nil {
				return fmt.Errorf("in %q #%d: %w", selector, i, err)
			}
		}
		return nil
	}
}

// Count checks that exactly want elements match selector.
func Count(want int, selector string) Checker {
	sel := MustSelector(selector)
	return func(n *html.Node) error {
		if got := len(sel.All(n)); got != want {
			return fmt.Errorf("%q matches %d elements, want %d", selector, got, want)
		}
		return nil
	}
}

// Absent checks that nothing matches selector.
func Absent(selector string) Checker {
	sel := MustSelector(selector)
	return func(n *html.Node) error {
		if m := sel.First(n); m != nil {
			return fmt.Errorf("%q matches <%s> with text %q, want no match", selector, m.Data, Text(m))
		}
		return nil
	}
}

// HasText checks that the node's text, with runs of white space collapsed,
// contains s.
func HasText(s string) Checker {
	return func(n *html.Node) error {
		if t := Text(n); !strings.Contains(t, s) {
			return fmt.Errorf("text %q does not contain %q", clip(t), s)
		}
		return nil
	}
}

// HasExactText checks that the node's collapsed text equals s.
func HasExactText(s string) Checker {
	return func(n *html.Node) error {
		if t := Text(n); t != s {
			return fmt.Errorf("text is %q, want %q", clip(t), s)
		}
		return nil
	}
}

// HasAttr checks that the node has the attribute with exactly this value.
func HasAttr(name, value string) Checker {
	return func(n *html.Node) error {
		v, ok := Attr(n, name)
		if !ok {
			return fmt.Errorf("<%s> has no attribute %s", n.Data, name)
		}
		if v != value {
			return fmt.Errorf("<%s> attribute %s is %q, want %q", n.Data, name, v, value)
		}
		return nil
	}
}

// Attr returns the node's attribute.
func Attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

// Text is the node's text content with white space runs collapsed to one
// space and trimmed.
func Text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
