package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineWriter hands each complete line written to it to a channel.
type lineWriter struct {
	mu    sync.Mutex
	part  []byte
	lines chan string
	all   []string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.part = append(w.part, p...)
	for {
		i := strings.IndexByte(string(w.part), '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.part[:i])
		w.part = w.part[i+1:]
		w.all = append(w.all, line)
		select {
		case w.lines <- line:
		default:
		}
	}
}

func (w *lineWriter) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.all, "\n") + string(w.part)
}

// TestServeLogsJSONWithoutPatientData runs the whole loop (gpcm serve: the
// demo reports go sender → MESH → receiver and their InfAcks and BusAcks
// come back) with GPCM_LOG_FORMAT=json at debug level: every stderr line
// is a JSON record, and none holds an NHS number, name or date of birth of
// the patients the reports were about.
func TestServeLogsJSONWithoutPatientData(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole loop")
	}
	stderr := &lineWriter{lines: make(chan string, 1024)}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	vars := map[string]string{"GPCM_LOG_FORMAT": "json", "GPCM_LOG_LEVEL": "debug", "GPCM_DATA": filepath.Join(t.TempDir(), "data")}
	env := &Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: stderr, Getenv: func(k string) string { return vars[k] }}
	go func() {
		done <- Main(ctx, env, []string{"serve", "--listen", "127.0.0.1:0"})
		pw.Close()
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("gpcm serve exited %d", code)
		}
	}()
	go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(pr)) }()

	// 4 demo reports: 3 matched (InfAck and BusAck each) and 1 held for a
	// person (InfAck; its BusAck waits for the hold).
	const want = 7
	acks := 0
	deadline := time.After(2 * time.Minute)
	for acks < want {
		select {
		case line := <-stderr.lines:
			if strings.Contains(line, `"msg":"acknowledgement recorded"`) {
				acks++
			}
		case <-deadline:
			t.Fatalf("%d acknowledgements recorded in 2 minutes, want %d; stderr:\n%s", acks, want, stderr.text())
		}
	}
	cancel()
	code := <-done
	done <- code // for the deferred check

	var patientData []string
	for _, p := range demoPatients() {
		patientData = append(patientData, p.nhs, p.family, p.given, p.birth, p.birth[:4]+"-"+p.birth[4:6]+"-"+p.birth[6:])
	}
	patientData = append(patientData, "Dave") // the held report's given name
	lines := strings.Split(strings.TrimSpace(stderr.text()), "\n")
	if len(lines) < want {
		t.Fatalf("only %d log lines", len(lines))
	}
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("line %d is not JSON: %q", i+1, line)
			continue
		}
		for _, d := range patientData {
			if strings.Contains(line, d) {
				t.Errorf("line %d holds patient data %q: %s", i+1, d, line)
			}
		}
	}
	t.Logf("%d JSON log lines, %d acknowledgements, none with any of %d patient details", len(lines), acks, len(patientData))
}
