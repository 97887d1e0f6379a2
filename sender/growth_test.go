package sender_test

import (
	"strings"
	"testing"

	"github.com/gpcm/gpcm/internal/testutil/growth"
	"github.com/gpcm/gpcm/sender"
)

// BenchmarkParseResponseAttributesGrowth: the sender's ITK3 response
// parser, given a response whose Bundle start tag has 80 000 attributes,
// takes at most 6× the time it takes for 20 000 (issue 23): the FHIR
// reader refuses both at its cap of 256 attributes per element.
func BenchmarkParseResponseAttributesGrowth(b *testing.B) {
	parse := func(body []byte) func() {
		return func() {
			if _, err := sender.ParseResponse(body); err == nil || !strings.Contains(err.Error(), "more than 256 attributes") {
				b.Fatalf("got %v, want the attribute cap", err)
			}
		}
	}
	growth.Check(b, parse(growth.ManyAttributes(20_000)), parse(growth.ManyAttributes(80_000)))
}
