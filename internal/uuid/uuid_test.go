package uuid

import (
	"regexp"
	"testing"
)

var form = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNew(t *testing.T) {
	seen := make(map[string]bool, 1000)
	for range 1000 {
		u := New()
		// form, version nibble 4 and variant bits 10 (the first hex digit of
		// the fourth group is 8, 9, a or b)
		if !form.MatchString(u) {
			t.Fatalf("New() = %q, want lower-case hyphenated version 4 variant 10", u)
		}
		if seen[u] {
			t.Fatalf("New() returned %q twice in 1000 calls", u)
		}
		seen[u] = true
	}
}
