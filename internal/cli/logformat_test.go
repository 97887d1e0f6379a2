package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// jsonLines parses every line of s as a JSON log record (time, level, msg).
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for i, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("line %d is not JSON: %q (%v)", i+1, line, err)
			continue
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("line %d has no %q: %q", i+1, k, line)
			}
		}
		recs = append(recs, rec)
	}
	return recs
}

func TestLogFormatJSON(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "mesh.json", issueConfig)

	t.Run("service", func(t *testing.T) {
		p := startMeshServer(t, map[string]string{"GPCM_LOG_FORMAT": "json", "GPCM_LOG_LEVEL": "debug"},
			"--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--config", cfg)
		stopMeshServer(p)
		recs := jsonLines(t, p.stderr.String())
		var msgs []string
		for _, r := range recs {
			msgs = append(msgs, r["msg"].(string))
		}
		joined := strings.Join(msgs, "\n")
		for _, want := range []string{"mesh server TLS certificate generated", "mesh server ready", "mesh server stopping"} {
			if !strings.Contains(joined, want) {
				t.Errorf("no record %q among %q", want, msgs)
			}
		}
	})
	t.Run("flag instead of variable", func(t *testing.T) {
		p := startMeshServer(t, nil, "--log-format", "json", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data2"), "--config", cfg)
		stopMeshServer(p)
		if len(jsonLines(t, p.stderr.String())) == 0 {
			t.Error("no records")
		}
	})
	t.Run("usage error", func(t *testing.T) {
		code, _, stderr := runGPCM(t, map[string]string{"GPCM_LOG_FORMAT": "json"}, "mesh-server", "--config", cfg)
		if code != 2 {
			t.Fatalf("exit %d, want 2", code)
		}
		recs := jsonLines(t, stderr)
		if len(recs) != 1 || recs[0]["level"] != "ERROR" || !strings.Contains(recs[0]["msg"].(string), "--data DIR is required") ||
			recs[0]["try"] != "gpcm mesh-server --help" || recs[0]["exit"] != float64(2) {
			t.Errorf("records %v, want one ERROR naming --data, exit 2 and the help to try", recs)
		}
	})
}

// stopMeshServer stops p and waits for it to end (leaving its exit status
// for the cleanup that startMeshServer registered).
func stopMeshServer(p *meshServerProc) {
	p.stop()
	code := <-p.done
	p.done <- code
}
