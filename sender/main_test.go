package sender_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when a sender goroutine outlives the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		var s string
		for range 50 {
			buf := make([]byte, 4<<20)
			s = string(buf[:runtime.Stack(buf, true)])
			if !strings.Contains(s, "gpcm/sender.(*") {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if strings.Contains(s, "gpcm/sender.(*") {
			fmt.Fprintf(os.Stderr, "sender goroutines leaked:\n%s\n", s)
			code = 1
		}
	}
	os.Exit(code)
}
