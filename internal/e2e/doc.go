// Package e2e holds whole-system tests: they build the gpcm binary once and
// run it as real subprocesses (killing them with SIGKILL where a test says
// so), talking to them only over their public interfaces. They run only
// with GPCM_TEST_E2E=1 and never in -short mode.
package e2e
