// Package testutil holds helpers shared by gpcm's tests.
package testutil

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// RunCheckingLeaks runs the tests of m and, when they pass, waits up to wait
// for every goroutine running code of package pkg (an import path such as
// "github.com/gpcm/gpcm/receiver") to end. It fails the run, printing their
// stacks, if any is still there: every goroutine must have an owner that
// stops it. It returns the exit code for os.Exit.
func RunCheckingLeaks(m *testing.M, pkg string, wait time.Duration) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	if leaked := LeakedGoroutines(pkg, wait); leaked != "" {
		fmt.Fprintf(os.Stderr, "goroutines of package %s still running after the tests:\n%s\n", pkg, leaked)
		return 1
	}
	return 0
}

// LeakedGoroutines waits up to d for goroutines running code of pkg to end and
// returns the stacks of those that did not.
func LeakedGoroutines(pkg string, d time.Duration) string {
	frame := pkg + "." // functions and methods of pkg, not of pkg_test
	deadline := time.Now().Add(d)
	for {
		buf := make([]byte, 4<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, frame) {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
