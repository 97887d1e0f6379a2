package s3blob_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/blobtest"
	"github.com/gpcm/gpcm/blob/s3blob"
)

// s3URL returns an S3 endpoint for tests: GPCM_TEST_S3_URL
// (http://ACCESS:SECRET@HOST:PORT/any-bucket), or a versitygw started here
// when the binary is on PATH or in $GOPATH/bin. Without either the tests
// skip, or fail when GPCM_TEST_STRICT=1.
func s3Config(t *testing.T) s3blob.Config {
	t.Helper()
	if u := os.Getenv("GPCM_TEST_S3_URL"); u != "" {
		c, err := s3blob.ParseURL(u)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	gw.once.Do(startGateway)
	if gw.err != "" {
		if os.Getenv("GPCM_TEST_STRICT") == "1" {
			t.Fatalf("no S3 server: %s", gw.err)
		}
		t.Skipf("no S3 server (%s); set GPCM_TEST_S3_URL or install versitygw", gw.err)
	}
	return s3blob.Config{Endpoint: gw.addr, AccessKey: "gpcmtest", SecretKey: "gpcmtestsecret"}
}

var gw struct {
	once sync.Once
	addr string
	err  string
}

func findGateway() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(os.Getenv("HOME"), "go", "bin")} {
		if dir == "" {
			continue
		}
		if p := filepath.Join(dir, "versitygw"); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// startGateway runs one versitygw for the whole test binary; it dies with
// the process (TestMain stops it).
func startGateway() {
	bin := findGateway()
	if bin == "" {
		gw.err = "versitygw not found"
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		gw.err = err.Error()
		return
	}
	addr := ln.Addr().String()
	ln.Close()
	dir, err := os.MkdirTemp("", "gpcm-s3-")
	if err != nil {
		gw.err = err.Error()
		return
	}
	cmd := exec.Command(bin, "--port", addr, "posix", dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY=gpcmtest", "ROOT_SECRET_KEY=gpcmtestsecret")
	if err := cmd.Start(); err != nil {
		gw.err = err.Error()
		return
	}
	gwCmd, gwDir = cmd, dir
	for range 200 {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			gw.addr = addr
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	gw.err = "versitygw did not start listening"
}

var (
	gwCmd *exec.Cmd
	gwDir string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if gwCmd != nil {
		_ = gwCmd.Process.Kill()
		_ = gwCmd.Wait()
		os.RemoveAll(gwDir)
	}
	os.Exit(code)
}

func randomName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "gpcm-test-" + hex.EncodeToString(b[:])
}

func TestContract(t *testing.T) {
	base := s3Config(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		cfg := base
		cfg.Bucket, cfg.CreateBucket = randomName(), true
		cfg.Prefix = "p/"
		s, err := s3blob.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    s3blob.Config
		wantErr bool
	}{
		{"http with prefix", "http://AK:SK@127.0.0.1:7070/bucket/mesh?create=1", s3blob.Config{Endpoint: "127.0.0.1:7070", AccessKey: "AK", SecretKey: "SK", Bucket: "bucket", Prefix: "mesh/", CreateBucket: true}, false},
		{"https bucket only", "https://s3.example.org/b", s3blob.Config{Endpoint: "s3.example.org", Secure: true, Bucket: "b"}, false},
		{"no bucket", "http://h:1/", s3blob.Config{}, true},
		{"bad scheme", "s3://h/b", s3blob.Config{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s3blob.ParseURL(tt.in)
			if (err != nil) != tt.wantErr || (err == nil && got != tt.want) {
				t.Fatalf("got %+v, %v; want %+v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
