package receiver_test

import (
	"os"
	"testing"
	"time"

	"github.com/gpcm/gpcm/internal/testutil"
)

// TestMain fails the package when a receiver goroutine outlives the tests.
// Started as a crash-test child it runs a receiver instead.
func TestMain(m *testing.M) {
	if os.Getenv("GPCM_RECEIVER_CRASH_CHILD") == "1" {
		crashChild()
	}
	os.Exit(testutil.RunCheckingLeaks(m, "github.com/gpcm/gpcm/receiver", time.Second))
}
