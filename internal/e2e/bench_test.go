package e2e_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
)

// TestBenchSpawn runs "gpcm bench mesh --spawn" from the built binary: it
// starts gpcm mesh-server itself, drives it, reports its peak memory and
// stops it.
func TestBenchSpawn(t *testing.T) {
	requireE2E(t)
	bin := gpcmBinary(t)
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, rep benchReport)
	}{
		{"load runs", []string{"--messages", "200", "--senders", "4", "--runs", "2"}, func(t *testing.T, rep benchReport) {
			if len(rep.Runs) != 2 || rep.Runs[0].Messages != 200 || rep.Runs[1].Messages != 200 {
				t.Errorf("runs %+v, want 2 of 200 messages", rep.Runs)
			}
			if rep.Ratios["ours run2/run1"] <= 0 {
				t.Errorf("ratios %v lack ours run2/run1", rep.Ratios)
			}
		}},
		{"large", []string{"--large", "8MiB"}, func(t *testing.T, rep benchReport) {
			if rep.Large == nil || rep.Large.Bytes != 8<<20 || rep.Large.SendVsDisk <= 0 {
				t.Errorf("large %+v", rep.Large)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), bin, append([]string{"bench", "mesh", "--spawn", "--json"}, tt.args...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v: %s\n%s", err, stderr.String(), stdout.String())
			}
			var rep benchReport
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
				t.Fatalf("%v:\n%s", err, stdout.String())
			}
			if rep.ServerMemory == nil || rep.ServerMemory.PeakBytes <= 0 {
				t.Errorf("server memory not measured: %s", stdout.String())
			}
			tt.check(t, rep)
		})
	}
}

type benchReport struct {
	Runs []struct {
		Messages int `json:"messages"`
	} `json:"runs"`
	Large *struct {
		Bytes      int64   `json:"bytes"`
		SendVsDisk float64 `json:"send_vs_disk"`
	} `json:"large"`
	Ratios       map[string]float64 `json:"ratios"`
	ServerMemory *struct {
		PeakBytes int64 `json:"peak_rss_bytes"`
	} `json:"server_memory"`
}
