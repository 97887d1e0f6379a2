package cli_test

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpcm/gpcm/internal/testutil"
)

// gpcm serve stops promptly with pages open (issue 24 §6: within 2 s): a
// real process, built as shipped, with live-update streams connected is
// sent SIGTERM; the streams end and the process exits 0 in time. Before,
// shutdown waited for the streams until its 30 s deadline.
func TestServeStopsWithOpenEventStreams(t *testing.T) {
	const streams, limit = 3, 2 * time.Second
	dir := t.TempDir()
	bin := filepath.Join(dir, "gpcm")
	if err := testutil.BuildGPCM(bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--demo=false")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := newSyncBuffer()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited, gone := make(chan error, 1), make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-gone
	})
	sc := bufio.NewScanner(stdout)
	var lines []string
	for len(lines) < 5 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	go func() {
		for sc.Scan() {
		}
		exited <- cmd.Wait()
		close(gone)
	}()
	if len(lines) < 5 {
		t.Fatalf("gpcm serve printed %q; stderr:\n%s", lines, stderr)
	}
	p := &serveProc{url: lines[0], lines: lines[1:]}
	pw := p.passwords(t)

	ended := make(chan error, streams)
	for i := range streams {
		user := []string{"practice", "sender", "admin"}[i]
		c := login(t, p.url, user, pw[user])
		c.Timeout = 0 // the stream stays open
		req, _ := http.NewRequestWithContext(context.WithoutCancel(t.Context()), http.MethodGet, p.url+"/events", nil)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("GET /events as %s: %d %s", user, res.StatusCode, res.Header.Get("Content-Type"))
		}
		br := bufio.NewReader(res.Body)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("event stream as %s: %v", user, err)
			}
			if strings.HasPrefix(l, ": connected") {
				break
			}
		}
		go func() {
			defer res.Body.Close()
			for {
				if _, err := br.ReadString('\n'); err != nil {
					ended <- err
					return
				}
			}
		}()
	}

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		took := time.Since(start)
		t.Logf("gpcm serve exited %v after SIGTERM with %d open event streams, in %s", err, streams, took.Round(time.Millisecond))
		if err != nil {
			t.Fatalf("exit: %v; stderr:\n%s", err, stderr)
		}
		if took > limit {
			t.Fatalf("gpcm serve took %s to stop with open event streams, want at most %s", took, limit)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("gpcm serve did not stop within 30 s of SIGTERM; stderr:\n%s", stderr)
	}
	for range streams {
		select {
		case <-ended:
		case <-time.After(time.Second):
			t.Fatal("an event stream stayed open after the process exited")
		}
	}
	_ = os.Remove(bin)
}
