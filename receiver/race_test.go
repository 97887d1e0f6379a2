//go:build race

package receiver_test

// raceDetector is true when the tests run under the race detector, which
// makes CPU-bound work several times slower.
const raceDetector = true
