package fhir_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/gpcm/gpcm/fhir"
)

// TestConcurrentCodec decodes and encodes every example from several
// goroutines at once: the codec's per-type plans are shared, so scripts/test
// runs this test under the race detector.
func TestConcurrentCodec(t *testing.T) {
	exs := examples(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(exs))
	for range 4 {
		for name, data := range exs {
			wg.Go(func() {
				r, _, err := fhir.DecodeXML(bytes.NewReader(data), nil)
				if err != nil {
					errs <- err
					return
				}
				var x, j bytes.Buffer
				if err := fhir.EncodeXML(&x, r, nil); err != nil {
					errs <- err
					return
				}
				if err := fhir.EncodeJSON(&j, r, nil); err != nil {
					errs <- err
					return
				}
				if _, _, err := fhir.DecodeJSON(&j, nil); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
