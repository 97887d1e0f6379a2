package sender_test

import (
	"os"
	"testing"
	"time"

	"github.com/gpcm/gpcm/internal/testutil"
)

// TestMain fails the package when a sender goroutine outlives the tests.
func TestMain(m *testing.M) {
	os.Exit(testutil.RunCheckingLeaks(m, "github.com/gpcm/gpcm/sender", time.Second))
}
