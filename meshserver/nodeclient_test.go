package meshserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/internal/testutil"
	"github.com/gpcm/gpcm/meshtest"
)

// TestNodeMeshClient runs NHS England's Node MESH client (npm
// nhs-mesh-client 1.0.9) against the server on the selected backend, over
// TLS verified against the server's CA: handshake, plain send, gzip send,
// a chunked send of 21 MiB, inbox, each message read byte for byte and
// acknowledged, inbox empty; then a few routes with Node's HTTP/2 client.
// The driver is testdata/node/meshflow.mjs, which says what it works around
// in the client.
func TestNodeMeshClient(t *testing.T) {
	nm, node := testutil.NodeModules(t, "nhs-mesh-client")
	srv := newServer(t, meshtest.Options{})
	ca := caFile(t, srv)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("..", "testdata", "node", "meshflow.mjs"))
	cmd.Env = append(os.Environ(), "NODE_MODULES="+nm, "MESH_URL="+srv.URL, "MESH_CA="+ca, "MESH_SHARED_KEY="+srv.SharedKey,
		"MESH_SENDER=X26ABC1", "MESH_RECEIVER=X26ABC2", "MESH_PASSWORD=password", "MESH_CHUNKED_BYTES="+strconv.Itoa(21<<20))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res struct {
		Steps []struct {
			Name, Detail string
			OK           bool
		}
		Passed, Failed int
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &res); jerr != nil {
		t.Fatalf("node meshflow.mjs: %v; no result line (%v)\nstdout: %s\nstderr: %s", err, jerr, out, stderr.Bytes())
	}
	for _, s := range res.Steps {
		if s.OK {
			t.Logf("ok   %s", s.Name)
		} else {
			t.Errorf("FAIL %s: %s", s.Name, s.Detail)
		}
	}
	t.Logf("Node client flow: %d steps passed, %d failed", res.Passed, res.Failed)
	if err != nil || res.Failed > 0 || res.Passed == 0 {
		t.Fatalf("node meshflow.mjs: %v\nstderr: %s", err, stderr.Bytes())
	}
}
