// Package s3blobtest gives tests a real S3-compatible bucket: one fresh
// bucket per test, emptied and removed at cleanup.
//
// The server is GPCM_TEST_S3_URL (http://ACCESS:SECRET@HOST:PORT, as
// scripts/test exports it), or else a versitygw (on PATH, $GOBIN or
// ~/go/bin) that this package starts once per test binary when the
// package's TestMain calls Main. Without either a test skips, or fails when
// GPCM_TEST_STRICT=1.
package s3blobtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/gpcm/gpcm/blob/s3blob"
)

// EnvURL is the environment variable that locates the test S3 server.
const EnvURL = "GPCM_TEST_S3_URL"

const (
	gwAccess = "gpcmtest"
	gwSecret = "gpcmtestsecret"
)

var gw struct {
	mu      sync.Mutex
	allowed bool // Main is running
	started bool
	cfg     s3blob.Config
	err     error
	cmd     *exec.Cmd
	dir     string
}

// Main runs the tests and then stops the versitygw started for them, if
// any. Call it from TestMain: os.Exit(s3blobtest.Main(m)).
func Main(m *testing.M) int {
	gw.mu.Lock()
	gw.allowed = true
	gw.mu.Unlock()
	code := m.Run()
	gw.mu.Lock()
	defer gw.mu.Unlock()
	if gw.cmd != nil {
		_ = gw.cmd.Process.Kill()
		_ = gw.cmd.Wait()
		os.RemoveAll(gw.dir)
		gw.cmd = nil
	}
	return code
}

// Server returns the endpoint and credentials of the test S3 server, with
// no bucket set.
func Server(tb testing.TB) s3blob.Config {
	tb.Helper()
	if raw := os.Getenv(EnvURL); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			tb.Fatalf("%s: want http(s)://ACCESS:SECRET@HOST:PORT", EnvURL)
		}
		c := s3blob.Config{Endpoint: u.Host, Secure: u.Scheme == "https", Region: u.Query().Get("region")}
		if u.User != nil {
			c.AccessKey = u.User.Username()
			c.SecretKey, _ = u.User.Password()
		}
		return c
	}
	gw.mu.Lock()
	defer gw.mu.Unlock()
	if !gw.started {
		gw.started = true
		gw.err = startGateway()
	}
	if gw.err != nil {
		if os.Getenv("GPCM_TEST_STRICT") == "1" {
			tb.Fatalf("no S3 server: %v", gw.err)
		}
		tb.Skipf("no S3 server (%v); set %s or install versitygw", gw.err, EnvURL)
	}
	return gw.cfg
}

// Bucket returns the configuration of a new, uniquely named bucket (with
// CreateBucket set, so the first Open makes it). At cleanup every object in
// it is deleted and the bucket removed.
func Bucket(tb testing.TB) s3blob.Config {
	tb.Helper()
	cfg := Server(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	cfg.Bucket, cfg.CreateBucket = "gpcm-test-"+hex.EncodeToString(b[:]), true
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := removeBucket(ctx, cfg); err != nil {
			tb.Errorf("remove test bucket %s: %v", cfg.Bucket, err)
		}
	})
	return cfg
}

// MustOpen opens a Store on a new bucket (see Bucket).
func MustOpen(tb testing.TB) *s3blob.Store {
	tb.Helper()
	s, err := s3blob.OpenConfig(tb.Context(), Bucket(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func removeBucket(ctx context.Context, cfg s3blob.Config) error {
	mc, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: cfg.Secure, Region: cfg.Region,
	})
	if err != nil {
		return err
	}
	if ok, err := mc.BucketExists(ctx, cfg.Bucket); err != nil || !ok {
		return err
	}
	for o := range mc.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			return o.Err
		}
		if err := mc.RemoveObject(ctx, cfg.Bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
			return err
		}
	}
	return mc.RemoveBucket(ctx, cfg.Bucket)
}

func findGateway() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(os.Getenv("HOME"), "go", "bin")} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// startGateway runs versitygw on a free loopback port; Main stops it.
// Called with gw.mu held.
func startGateway() error {
	if !gw.allowed {
		return errors.New("versitygw is only started for packages whose TestMain calls s3blobtest.Main")
	}
	bin := findGateway()
	if bin == "" {
		return errors.New("versitygw not found")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	dir, err := os.MkdirTemp("", "gpcm-s3-")
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "--port", addr, "posix", dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+gwAccess, "ROOT_SECRET_KEY="+gwSecret)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return err
	}
	gw.cmd, gw.dir = cmd, dir
	for range 200 {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			gw.cfg = s3blob.Config{Endpoint: addr, AccessKey: gwAccess, SecretKey: gwSecret}
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("versitygw did not listen on %s within 10s", addr)
}
