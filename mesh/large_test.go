package mesh_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

// genReader yields n deterministic pseudo-random bytes without holding them.
type genReader struct {
	rng  *rand.ChaCha8
	left int64
}

func newGen(n int64, seed byte) *genReader {
	var s [32]byte
	s[0] = seed
	return &genReader{rng: rand.NewChaCha8(s), left: n}
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, _ := g.rng.Read(p)
	g.left -= int64(n)
	return n, nil
}

// TestLargeTransfer sends and downloads a 1 GiB generated stream in 20 MiB
// chunks (52 of them) from a separate client process, compares sha256 and
// reports the client's peak RSS (VmHWM). Set GPCM_TEST_LARGE=1 to run it;
// GPCM_TEST_LARGE_BYTES overrides the size.
func TestLargeTransfer(t *testing.T) {
	if os.Getenv("GPCM_TEST_LARGE") != "1" {
		t.Skip("set GPCM_TEST_LARGE=1 to round-trip 1 GiB")
	}
	size := int64(1 << 30)
	if s := os.Getenv("GPCM_TEST_LARGE_BYTES"); s != "" {
		size, _ = strconv.ParseInt(s, 10, 64)
	}
	e := mustEnv(t, nil)
	ca, certA, keyA := e.files(t, boxA)
	_, certB, keyB := e.files(t, boxB)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestLargeTransferChild$", "-test.v")
	cmd.Env = append(os.Environ(), "GPCM_LARGE_CHILD=1", "GPCM_LARGE_URL="+e.srv.URL, "GPCM_LARGE_CA="+ca,
		"GPCM_LARGE_CERT_A="+certA, "GPCM_LARGE_KEY_A="+keyA, "GPCM_LARGE_CERT_B="+certB, "GPCM_LARGE_KEY_B="+keyB,
		"GPCM_LARGE_BYTES="+strconv.FormatInt(size, 10))
	out, err := cmd.CombinedOutput()
	t.Logf("client process output:\n%s", out)
	if err != nil {
		t.Fatalf("client process: %v", err)
	}
	var rssKB int64
	for line := range strings.Lines(string(out)) {
		if _, v, ok := strings.Cut(line, "LARGE peak_rss_kb="); ok {
			rssKB, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	if rssKB == 0 {
		t.Fatal("client did not report its peak RSS")
	}
	t.Logf("client peak RSS %.1f MiB for %d bytes", float64(rssKB)/1024, size)
	if rssKB > 64<<10 {
		t.Errorf("client peak RSS %d KiB, want under 64 MiB", rssKB)
	}
}

// TestLargeTransferChild is the client half of TestLargeTransfer.
func TestLargeTransferChild(t *testing.T) {
	if os.Getenv("GPCM_LARGE_CHILD") != "1" {
		t.Skip("runs only as TestLargeTransfer's client process")
	}
	size, _ := strconv.ParseInt(os.Getenv("GPCM_LARGE_BYTES"), 10, 64)
	client := func(mb, cert, key string) *mesh.Client {
		c, err := mesh.NewClient(mesh.Config{URL: os.Getenv("GPCM_LARGE_URL"), Mailbox: mb, Password: testPW, SharedKey: testKey,
			TLS: mesh.TLSConfig{CertFile: cert, KeyFile: key, CAFile: os.Getenv("GPCM_LARGE_CA")}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := client(boxA, os.Getenv("GPCM_LARGE_CERT_A"), os.Getenv("GPCM_LARGE_KEY_A"))
	b := client(boxB, os.Getenv("GPCM_LARGE_CERT_B"), os.Getenv("GPCM_LARGE_KEY_B"))
	hs := sha256.New()
	start := time.Now()
	res, err := a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "LARGE", Size: size, Body: io.TeeReader(newGen(size, 7), hs)})
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Since(start)
	want := hex.EncodeToString(hs.Sum(nil))
	start = time.Now()
	d, err := b.Get(t.Context(), res.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	hr := sha256.New()
	n, err := io.Copy(hr, d)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := hex.EncodeToString(hr.Sum(nil))
	recv := time.Since(start)
	if err := b.Ack(t.Context(), res.MessageID); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("LARGE bytes=%d chunks=%d send=%v (%.0f MB/s) download=%v (%.0f MB/s) sha256_sent=%s sha256_got=%s\n",
		n, res.Chunks, sent.Round(time.Millisecond), float64(size)/sent.Seconds()/1e6, recv.Round(time.Millisecond),
		float64(n)/recv.Seconds()/1e6, want, got)
	if got != want || n != size {
		t.Fatalf("sha256 or size differ: %d bytes", n)
	}
	if res.Chunks < 50 && size >= 1<<30 {
		t.Errorf("only %d chunks", res.Chunks)
	}
	status, _ := os.ReadFile("/proc/self/status")
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fmt.Printf("LARGE peak_rss_kb=%s\n", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
}

// BenchmarkTransfer compares one send + download through MESH (client and
// meshserver) with a raw net/http PUT + GET of the same bytes to a plain
// file handler, over the same loopback mutual-TLS server in the same run.
// The mesh sub-benchmark reports throughput relative to raw as
// "mesh/raw". GPCM_BENCH_BYTES sets the size (default 64 MiB; the issue's
// figure uses 1073741824).
func BenchmarkTransfer(b *testing.B) {
	size := int64(64 << 20)
	if s := os.Getenv("GPCM_BENCH_BYTES"); s != "" {
		size, _ = strconv.ParseInt(s, 10, 64)
	}
	e := mustEnv(b, nil)
	dir := b.TempDir()
	var mu sync.Mutex
	e.front.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/raw/") {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		name := filepath.Join(dir, "raw.bin")
		switch r.Method {
		case http.MethodPut:
			f, err := os.Create(name)
			if err == nil {
				_, err = io.Copy(f, r.Body)
				f.Close()
			}
			if err != nil {
				w.WriteHeader(500)
			}
		case http.MethodGet:
			http.ServeFile(w, r, name)
		}
		return true
	})
	ca, cert, key := e.files(b, boxA)
	rawClient := mustRawClient(b, ca, cert, key)
	var rawNs float64
	b.Run("raw-net-http", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			req, _ := http.NewRequestWithContext(b.Context(), http.MethodPut, e.srv.URL+"/raw/x", newGen(size, 1))
			req.ContentLength = size
			resp, err := rawClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			resp, err = rawClient.Get(e.srv.URL + "/raw/x")
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if n != size {
				b.Fatalf("raw GET %d bytes", n)
			}
		}
		rawNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("mesh", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			res, err := e.a.Send(b.Context(), mesh.SendRequest{To: boxB, WorkflowID: "BENCH", Size: size, Body: newGen(size, 1)})
			if err != nil {
				b.Fatal(err)
			}
			d, err := e.b.Get(b.Context(), res.MessageID)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, d)
			d.Close()
			if err != nil || n != size {
				b.Fatalf("mesh download %d bytes, %v", n, err)
			}
			if err := e.b.Ack(b.Context(), res.MessageID); err != nil {
				b.Fatal(err)
			}
		}
		meshNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if rawNs > 0 {
			b.ReportMetric(rawNs/meshNs, "mesh/raw")
		}
	})
}
