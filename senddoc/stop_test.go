package senddoc_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gpcm/gpcm/senddoc"
)

// cancellingReader streams an endless Bundle of entries and cancels its
// context once after bytes, counting what it gave out.
type cancellingReader struct {
	cancel func()
	after  int
	n      int
	head   bool
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if !c.head {
		c.head = true
		return copy(p, `<Bundle xmlns="http://hl7.org/fhir"><type value="message"/>`), nil
	}
	const entry = `<entry><fullUrl value="urn:uuid:0"/></entry>`
	w := 0
	for w+len(entry) <= len(p) {
		w += copy(p[w:], entry)
	}
	c.n += w
	if c.n >= c.after && c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
	return w, nil
}

// TestValidateStopsWithContext: Validate stops reading soon after its
// context ends (issue 23: a processing budget per message), with the
// context's error.
func TestValidateStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := &cancellingReader{cancel: cancel, after: 1 << 20}
	_, err := senddoc.Validate(ctx, r, senddoc.Options{MaxBytes: 1 << 30})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if r.n > r.after+128<<10 {
		t.Errorf("read %d bytes, %d after the context ended", r.n, r.n-r.after)
	}
}
