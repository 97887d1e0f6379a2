package meshbench

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDiskProbe(t *testing.T) {
	dir := t.TempDir()
	p, err := StartDiskProbe(dir, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	for deadline := time.Now().Add(10 * time.Second); s.Count < 3 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		got, errs := p.Take()
		if errs != 0 {
			t.Fatalf("%d probes failed", errs)
		}
		s.Count += got.Count
		s.Max = max(s.Max, got.Max)
	}
	if s.Count < 3 || s.Max <= 0 {
		t.Fatalf("probe recorded %d flushes (max %v), want some", s.Count, s.Max)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("probe left %v behind", left)
	}
}

func TestDiskProbeErrors(t *testing.T) {
	tests := []struct {
		name  string
		dir   string
		every time.Duration
	}{
		{"missing directory", filepath.Join(os.TempDir(), "gpcm-no-such-dir", "x"), time.Millisecond},
		{"zero interval", t.TempDir(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := StartDiskProbe(tt.dir, tt.every); err == nil {
				p.Stop()
				t.Fatal("StartDiskProbe: want an error")
			}
		})
	}
}
