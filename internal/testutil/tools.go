package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Missing skips t because what is not installed, or fails it when
// GPCM_TEST_STRICT=1 (CI, where scripts/test installs it); how says how to
// get it.
func Missing(t testing.TB, what, how string) {
	t.Helper()
	if os.Getenv("GPCM_TEST_STRICT") == "1" {
		t.Fatalf("%s not found (%s) and GPCM_TEST_STRICT=1", what, how)
	}
	t.Skipf("%s not found: %s (scripts/test does)", what, how)
}

// Tool returns the path of the program name, from the Debian package pkg;
// see Missing for when it is not installed.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, "apt-get install "+pkg)
	}
	return p
}

// NodeModules returns the node_modules directory that holds the npm
// packages of testdata/node/package-lock.json, named by
// GPCM_TEST_NODE_MODULES (scripts/test installs them outside the
// repository and sets it), and the node program. want names a package the
// test needs; see Missing for when it is not there.
func NodeModules(t testing.TB, want string) (dir, node string) {
	t.Helper()
	node = Tool(t, "node", "nodejs")
	dir = os.Getenv("GPCM_TEST_NODE_MODULES")
	if dir == "" {
		Missing(t, "npm package "+want, "set GPCM_TEST_NODE_MODULES to a node_modules installed from testdata/node")
	}
	if _, err := os.Stat(filepath.Join(dir, want, "package.json")); err != nil {
		Missing(t, "npm package "+want+" in "+dir, "npm ci in a copy of testdata/node")
	}
	return dir, node
}
