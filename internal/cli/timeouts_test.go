package cli_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

// pacedBody yields n bytes in pieces of at most size every interval,
// counting what it gave; it stops when ctx ends.
type pacedBody struct {
	ctx      context.Context
	n, size  int
	interval time.Duration
	sent     atomic.Int64
}

func (p *pacedBody) Read(b []byte) (int, error) {
	if int(p.sent.Load()) >= p.n {
		return 0, io.EOF
	}
	select {
	case <-p.ctx.Done():
		return 0, p.ctx.Err()
	case <-time.After(p.interval):
	}
	k := min(len(b), p.size, p.n-int(p.sent.Load()))
	for i := range k {
		b[i] = 'z'
	}
	p.sent.Add(int64(k))
	return k, nil
}

// Issue 18 §6: gpcm mesh-server cuts a request whose body trickles in
// below --min-transfer-rate about --read-timeout after it began, while the
// chunks of a large message, each taking longer than --read-timeout but
// moving faster than the minimum rate, are accepted.
func TestMeshServerSlowBodyAndLargeChunks(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "mesh.json", issueConfig)
	data := filepath.Join(dir, "data")
	p := startMeshServer(t, nil, "--listen", "127.0.0.1:0", "--data", data, "--config", cfg,
		"--read-timeout", "1s", "--write-timeout", "1s", "--min-transfer-rate", "256KiB")
	caPEM, _ := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	post := func(ctx context.Context, path string, hdr map[string]string, body *pacedBody) (int, string, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", p.url+path, body)
		req.ContentLength = int64(body.n)
		req.Header.Set("Authorization", mesh.NewToken("X26ABC1", "password", "TestKey", mesh.NewNonce(), 0, time.Now()).String())
		req.Header.Set("Accept", mesh.MediaTypeV2)
		req.Header.Set("Content-Type", "application/octet-stream")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := hc.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), nil
	}

	// Two chunks of 512 KiB at about 400 KiB/s: 1.3 s each, beyond the
	// 1 s read timeout; at 256 KiB/s each has earned 2 s more.
	const chunk = 512 << 10
	paced := func() *pacedBody {
		return &pacedBody{ctx: t.Context(), n: chunk, size: 16 << 10, interval: 40 * time.Millisecond}
	}
	code, body, err := post(t.Context(), "/messageexchange/X26ABC1/outbox",
		map[string]string{"Mex-To": "X26ABC2", "Mex-WorkflowID": "GPFED_CONSULT_REPORT", "Mex-Chunk-Range": "1:2"}, paced())
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("chunk 1 at 400 KiB/s: got %d %s %v, want 202", code, body, err)
	}
	var sent struct {
		MessageID string `json:"message_id"`
	}
	if err := json.Unmarshal([]byte(body), &sent); err != nil || sent.MessageID == "" {
		t.Fatalf("chunk 1: no message_id in %s", body)
	}
	code, body, err = post(t.Context(), "/messageexchange/X26ABC1/outbox/"+sent.MessageID+"/2", map[string]string{"Mex-Chunk-Range": "2:2"}, paced())
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("chunk 2 at 400 KiB/s: got %d %s %v, want 202", code, body, err)
	}

	// 100 bytes at one every 100 ms would take 10 s.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	slow := &pacedBody{ctx: ctx, n: 100, size: 1, interval: 100 * time.Millisecond}
	began := time.Now()
	code, body, err = post(ctx, "/messageexchange/X26ABC1/outbox", map[string]string{"Mex-To": "X26ABC2", "Mex-WorkflowID": "GPFED_CONSULT_REPORT"}, slow)
	took := time.Since(began)
	if err == nil && code == http.StatusAccepted {
		t.Fatalf("slow body: accepted (%s) after %v", body, took)
	}
	if n := slow.sent.Load(); n >= 100 {
		t.Fatalf("slow body: the client sent all %d bytes before the server cut it (%d %s %v)", n, code, body, err)
	}
	t.Logf("slow body cut after %v, %d of 100 bytes sent: %d %s %v", took.Round(time.Millisecond), slow.sent.Load(), code, strings.TrimSpace(body), err)
}
