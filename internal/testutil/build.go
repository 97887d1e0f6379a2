package testutil

import (
	"fmt"
	"os"
	"os/exec"
)

// BuildGPCM builds cmd/gpcm into the file out as the container image
// ships it: static, CGO_ENABLED=0. Every test that runs gpcm as a
// subprocess builds it so, so that the Go build cache compiles it once
// for all of them.
func BuildGPCM(out string) error {
	// go test puts the GOROOT/bin of the toolchain running it first in the
	// test's PATH, so "go" is that toolchain.
	cmd := exec.Command("go", "build", "-o", out, "github.com/gpcm/gpcm/cmd/gpcm")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build gpcm: %v\n%s", err, b)
	}
	return nil
}
