package updaterecord_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gpcm/gpcm/updaterecord"
)

// TestConcurrentValidate validates and reads the official messages and
// builds every use case from several goroutines at once, as a receiver and a sender do
// (run under the race detector: the validator's tables are shared).
func TestConcurrentValidate(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(fixtures, "messages", "*.xml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no messages: %v", err)
	}
	var wg sync.WaitGroup
	for range 3 {
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				rep, err := updaterecord.Validate(t.Context(), bytes.NewReader(data), updaterecord.Options{AllowTestNHSNumbers: true})
				if err != nil || !rep.Conformant() {
					t.Errorf("%s: %v %d errors", filepath.Base(p), err, rep.Errors())
				}
				if s, err := updaterecord.ReadMessage(bytes.NewReader(data)); err != nil || len(s.View().Sections) < 3 {
					t.Errorf("%s: read: %v", filepath.Base(p), err)
				}
			})
		}
		for _, uc := range updaterecord.UseCases() {
			wg.Go(func() {
				if _, err := updaterecord.Build(updaterecord.Example(uc), updaterecord.BuildOptions{}); err != nil {
					t.Errorf("%s: %v", uc, err)
				}
			})
		}
	}
	wg.Wait()
}
