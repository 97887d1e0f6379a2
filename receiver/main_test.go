package receiver_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when a receiver goroutine outlives the tests.
// Started as a crash-test child it runs a receiver instead.
func TestMain(m *testing.M) {
	if os.Getenv("GPCM_RECEIVER_CRASH_CHILD") == "1" {
		crashChild()
	}
	code := m.Run()
	if code == 0 {
		var s string
		for range 50 {
			buf := make([]byte, 4<<20)
			s = string(buf[:runtime.Stack(buf, true)])
			if !strings.Contains(s, "gpcm/receiver.(*") {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if strings.Contains(s, "gpcm/receiver.(*") {
			fmt.Fprintf(os.Stderr, "receiver goroutines leaked:\n%s\n", s)
			code = 1
		}
	}
	os.Exit(code)
}
