package senddoc_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gpcm/gpcm/senddoc"
)

// TestConcurrentValidate validates every message example from several
// goroutines at once, as a receiver does: scripts/test runs this test under
// the race detector.
func TestConcurrentValidate(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(examplesDir, "*consultation_report*.xml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples in %s: %v", examplesDir, err)
	}
	var wg sync.WaitGroup
	for range 3 {
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				rep, err := senddoc.Validate(t.Context(), bytes.NewReader(data), senddoc.Options{})
				if err != nil {
					t.Errorf("%s: %v", filepath.Base(p), err)
					return
				}
				if !rep.Usable {
					t.Errorf("%s: not usable", filepath.Base(p))
				}
			})
		}
	}
	wg.Wait()
}
