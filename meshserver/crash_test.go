package meshserver_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/blob/s3blob/s3blobtest"
	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/sqlitestore"
)

const crashChildEnv = "GPCM_MESHSERVER_CRASH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	os.Exit(s3blobtest.Main(m))
}

// crashChild is the server process the crash test kills: plain HTTP on the
// given address over the given data directory. It prints "ready" when
// listening.
func crashChild() int {
	dir, addr := os.Getenv("CRASH_DATA"), os.Getenv("CRASH_ADDR")
	ctx := context.Background()
	db, err := sqlitestore.Open(ctx, filepath.Join(dir, "mesh.db"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	st := db.Mesh()
	for _, id := range []string{"X26ABC1", "X26ABC2"} {
		if err := st.PutMailbox(ctx, meshserver.Mailbox{ID: id, Password: "password", Active: true}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	blobs, err := fileblob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Small bodies inline in the database, as gpcm mesh-server keeps them.
	srv, err := meshserver.New(meshserver.Config{Store: st, Blobs: tier.New(db.Blobs(), blobs, tier.DefaultThreshold), SharedKey: "TestKey"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var ln net.Listener
	for range 100 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	_ = http.Serve(ln, srv)
	return 0
}

type crashServer struct {
	t    *testing.T
	dir  string
	addr string
	cmd  *exec.Cmd
}

func (c *crashServer) start() {
	c.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1", "CRASH_DATA="+c.dir, "CRASH_ADDR="+c.addr)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		c.t.Fatalf("crash child did not start: %q %v", line, err)
	}
	c.cmd = cmd
}

func (c *crashServer) kill() {
	_ = c.cmd.Process.Kill() // SIGKILL
	_ = c.cmd.Wait()
}

// payload is "<hex sha256 of rest>\n<rest>", so any download can be
// checked for integrity on its own.
func crashPayload(tag string, size int) []byte {
	rest := make([]byte, size)
	_, _ = rand.Read(rest)
	rest = append([]byte(tag+"\n"), rest...)
	sum := sha256.Sum256(rest)
	return append([]byte(hex.EncodeToString(sum[:])+"\n"), rest...)
}

func intact(b []byte) bool {
	sumHex, rest, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return false
	}
	sum := sha256.Sum256(rest)
	return string(sumHex) == hex.EncodeToString(sum[:])
}

// TestCrashKill9 kills the server with SIGKILL at random moments while
// senders and a receiver run. Every message that got 202 must be
// downloadable intact (or have been downloaded intact and acknowledged),
// and nothing listed may be incomplete.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	total := 2000
	if v := os.Getenv("GPCM_CRASH_MESSAGES"); v != "" {
		fmt.Sscan(v, &total)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cs := &crashServer{t: t, dir: t.TempDir(), addr: addr}
	cs.start()
	base := "http://" + addr
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: false}}

	var counter atomic.Uint64
	do := func(mb, method, path string, hdr map[string]string, body []byte) (int, http.Header, []byte, error) {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		tok := mesh.NewToken(mb, "password", "TestKey", "crash-"+mb, counter.Add(1), time.Now())
		req.Header.Set("Authorization", tok.String())
		req.Header.Set("Accept", mesh.MediaTypeV2)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := hc.Do(req)
		if err != nil {
			return 0, nil, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, b, err
	}

	var (
		mu       sync.Mutex
		accepted = map[string]bool{} // got 202 for every chunk
		acked    = map[string]bool{}
	)
	var sent atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for s := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; sent.Load() < int64(total) && ctx.Err() == nil; seq++ {
				p := crashPayload(fmt.Sprintf("s%d-%d", s, seq), 1024+seq%4096)
				chunks := 1
				if seq%10 == 0 {
					chunks = 2
				}
				half := len(p) / 2
				first := p
				if chunks == 2 {
					first = p[:half]
				}
				code, _, body, err := do("X26ABC1", "POST", "/messageexchange/X26ABC1/outbox",
					map[string]string{"Mex-To": "X26ABC2", "Mex-WorkflowID": "WF", "Mex-Chunk-Range": fmt.Sprintf("1:%d", chunks)}, first)
				if err != nil || code != http.StatusAccepted {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				var r struct {
					ID string `json:"message_id"`
				}
				_ = json.Unmarshal(body, &r)
				if chunks == 2 {
					code, _, _, err := do("X26ABC1", "POST", "/messageexchange/X26ABC1/outbox/"+r.ID+"/2",
						map[string]string{"Mex-Chunk-Range": "2:2"}, p[half:])
					if err != nil || code != http.StatusAccepted {
						continue // never complete: must never be listed
					}
				}
				mu.Lock()
				accepted[r.ID] = true
				mu.Unlock()
				sent.Add(1)
			}
		}()
	}
	var bad atomic.Value
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		for ctx.Err() == nil {
			code, _, body, err := do("X26ABC2", "GET", "/messageexchange/X26ABC2/inbox?max_results=100", nil, nil)
			if err != nil || code != http.StatusOK {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			var l struct{ Messages []string }
			_ = json.Unmarshal(body, &l)
			for _, id := range l.Messages {
				content, ok := download(do, id)
				if !ok {
					continue // connection lost; try again later
				}
				if !intact(content) {
					bad.Store(fmt.Sprintf("listed message %s downloaded damaged (%d bytes)", id, len(content)))
					return
				}
				if code, _, _, err := do("X26ABC2", "PUT", "/messageexchange/X26ABC2/inbox/"+id+"/status/acknowledged", nil, nil); err == nil && code == http.StatusOK {
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				}
			}
		}
	}()
	kills := 0
	deadline := time.Now().Add(10 * time.Minute)
	for sent.Load() < int64(total) && time.Now().Before(deadline) && bad.Load() == nil {
		// Kill after a random amount of progress (so that a slow machine
		// still gets through), at a random moment within the traffic.
		var b [2]byte
		_, _ = rand.Read(b[:])
		target := sent.Load() + 10 + int64(b[0])%190
		for sent.Load() < target && sent.Load() < int64(total) && time.Now().Before(deadline) && bad.Load() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(b[1]) * time.Millisecond)
		cs.kill()
		kills++
		cs.start()
	}
	cancel()
	wg.Wait()
	<-recvDone
	if v := bad.Load(); v != nil {
		t.Fatal(v)
	}
	if sent.Load() < int64(total) {
		t.Fatalf("only %d of %d messages accepted before the deadline", sent.Load(), total)
	}
	cs.kill()
	cs.start()
	defer cs.kill()
	missing := 0
	for id := range accepted {
		if acked[id] {
			continue
		}
		content, ok := download(do, id)
		if !ok {
			// Acknowledged during the run with the answer lost in a crash?
			_, _, body, err := do("X26ABC1", "GET", "/messageexchange/X26ABC1/outbox/tracking?messageID="+id, nil, nil)
			var tr struct{ Status string }
			if err == nil && json.Unmarshal(body, &tr) == nil && tr.Status == meshserver.StatusAcknowledged {
				continue
			}
		}
		if !ok || !intact(content) {
			missing++
			if missing < 5 {
				t.Errorf("message %s got 202 but is not downloadable intact", id)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d accepted messages lost or damaged", missing, len(accepted))
	}
	t.Logf("%d messages accepted, %d acknowledged during the run, %d kill -9", len(accepted), len(acked), kills)
}

type doFunc func(mb, method, path string, hdr map[string]string, body []byte) (int, http.Header, []byte, error)

// download fetches every chunk of a message.
func download(do doFunc, id string) ([]byte, bool) {
	var all []byte
	for n := 1; ; n++ {
		path := "/messageexchange/X26ABC2/inbox/" + id
		if n > 1 {
			path += fmt.Sprintf("/%d", n)
		}
		code, h, body, err := do("X26ABC2", "GET", path, nil, nil)
		if err != nil || (code != http.StatusOK && code != http.StatusPartialContent) {
			return nil, false
		}
		all = append(all, body...)
		if code == http.StatusOK {
			return all, true
		}
		if h.Get("Mex-Chunk-Range") == "" {
			return nil, false
		}
	}
}
