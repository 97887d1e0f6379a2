package senddoc_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/internal/testutil/growth"
	"github.com/gpcm/gpcm/senddoc"
)

// BenchmarkValidateAttributesGrowth: validating a message with 80 000
// attributes on one element takes at most 6× the time of one with 20 000
// (both are refused by the reader's cap of 256), as gpcm validate and the
// receiver call it.
func BenchmarkValidateAttributesGrowth(b *testing.B) {
	small, large := growth.ManyAttributes(20_000), growth.ManyAttributes(80_000)
	validate := func(msg []byte) func() {
		return func() {
			rep, err := senddoc.Validate(b.Context(), bytes.NewReader(msg), senddoc.Options{})
			if !errors.Is(err, senddoc.ErrUnreadable) || !strings.Contains(err.Error(), "more than 256 attributes") || rep.ResponseCode != 10009 {
				b.Fatalf("got %v, code %d", err, rep.ResponseCode)
			}
		}
	}
	growth.Check(b, validate(small), validate(large))
}
