package receiver_test

import "testing"

// TestCrashTwoReceivers runs two receiver processes on one PostgreSQL schema
// (GPCM_TEST_POSTGRES_URL) and one S3 bucket (GPCM_TEST_S3_URL): one runs
// throughout while the other is killed with SIGKILL at random moments and
// restarted. Afterwards every message is filed exactly once and answered
// with exactly one InfAck and one BusAck (the checks of
// TestCrashExactlyOnce). It skips without those services unless
// GPCM_TEST_STRICT=1; GPCM_TEST_LARGE=1 sends 2 000 messages instead of 200.
func TestCrashTwoReceivers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts receiver processes")
	}
	runCrash(t, postgresS3, true)
}
