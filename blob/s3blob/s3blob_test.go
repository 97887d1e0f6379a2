package s3blob_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/blobtest"
	"github.com/gpcm/gpcm/blob/s3blob"
	"github.com/gpcm/gpcm/blob/s3blob/s3blobtest"
)

func TestMain(m *testing.M) { os.Exit(s3blobtest.Main(m)) }

func TestContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		cfg := s3blobtest.Bucket(t)
		cfg.Prefix = "p/"
		s, err := s3blob.OpenConfig(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestLargeMultipart puts a body bigger than the one-request limit and
// than one part, from a reader of unknown length, and reads it back whole
// and from an offset inside the second part.
func TestLargeMultipart(t *testing.T) {
	cfg := s3blobtest.Bucket(t)
	cfg.PartSize = 5 << 20
	s, err := s3blob.OpenConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 11<<20+123)
	_, _ = rand.Read(body)
	n, err := s.Put(t.Context(), "big/object", struct{ io.Reader }{bytes.NewReader(body)})
	if err != nil || n != int64(len(body)) {
		t.Fatalf("Put: got %d, %v; want %d", n, err, len(body))
	}
	if size, err := s.Size(t.Context(), "big/object"); err != nil || size != int64(len(body)) {
		t.Fatalf("Size: got %d, %v; want %d", size, err, len(body))
	}
	for _, off := range []int64{0, 6<<20 + 7, int64(len(body)), int64(len(body)) + 10} {
		r, err := s.Open(t.Context(), "big/object", off)
		if err != nil {
			t.Fatalf("Open at %d: %v", off, err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		want := body[min(off, int64(len(body))):]
		if err != nil || sha256.Sum256(got) != sha256.Sum256(want) {
			t.Fatalf("Open at %d: got %d bytes, %v; want %d bytes equal to the body", off, len(got), err, len(want))
		}
	}
}

// TestFailedLargePutLeavesNothing aborts a multipart upload mid-way.
func TestFailedLargePutLeavesNothing(t *testing.T) {
	cfg := s3blobtest.Bucket(t)
	cfg.PartSize = 5 << 20
	s, err := s3blob.OpenConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := io.MultiReader(bytes.NewReader(make([]byte, 7<<20)), errReader{})
	if _, err := s.Put(t.Context(), "broken", r); err == nil {
		t.Fatal("Put from a failing reader: got nil error")
	}
	if _, err := s.Size(t.Context(), "broken"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("after failed put: got %v, want ErrNotFound", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("reader broke") }

// TestDeletePrefixBatches deletes more objects than one multi-object
// DELETE takes (1000), and leaves other prefixes alone.
func TestDeletePrefixBatches(t *testing.T) {
	s := s3blobtest.MustOpen(t)
	ctx := t.Context()
	const n = 1005
	sem := make(chan struct{}, 8)
	errs := make(chan error, n)
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := s.Put(ctx, fmt.Sprintf("gone/%04d", i), strings.NewReader("x"))
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Put(ctx, "kept/one", strings.NewReader("y")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePrefix(ctx, "gone/"); err != nil {
		t.Fatalf("DeletePrefix: %v", err)
	}
	for _, k := range []string{"gone/0000", "gone/0999", "gone/1004"} {
		if _, err := s.Size(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("%s after DeletePrefix: got %v, want ErrNotFound", k, err)
		}
	}
	if _, err := s.Size(ctx, "kept/one"); err != nil {
		t.Fatalf("other prefix: got %v, want it kept", err)
	}
}

func TestPing(t *testing.T) {
	s := s3blobtest.MustOpen(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: got %v, want nil", err)
	}
}

func TestOpenMissingBucket(t *testing.T) {
	cfg := s3blobtest.Bucket(t)
	cfg.CreateBucket = false
	_, err := s3blob.OpenConfig(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("got %v, want bucket does not exist", err)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    s3blob.Config
		wantErr string
	}{
		{"http with prefix", "http://AK:SK@127.0.0.1:7070/bucket/mesh?create=1", s3blob.Config{Endpoint: "127.0.0.1:7070", AccessKey: "AK", SecretKey: "SK", Bucket: "bucket", Prefix: "mesh/", CreateBucket: true}, ""},
		{"https bucket only", "https://s3.example.org/b", s3blob.Config{Endpoint: "s3.example.org", Secure: true, Bucket: "b"}, ""},
		{"s3 defaults to TLS", "s3://AK:SK@s3.example.org/b?region=eu-west-2", s3blob.Config{Endpoint: "s3.example.org", Secure: true, AccessKey: "AK", SecretKey: "SK", Bucket: "b", Region: "eu-west-2"}, ""},
		{"s3 insecure", "s3://AK:SK@127.0.0.1:9000/b/p/q?secure=false&create=true", s3blob.Config{Endpoint: "127.0.0.1:9000", AccessKey: "AK", SecretKey: "SK", Bucket: "b", Prefix: "p/q/", CreateBucket: true}, ""},
		{"no bucket", "http://h:1/", s3blob.Config{}, "names no bucket"},
		{"no host", "http:///b", s3blob.Config{}, "no host"},
		{"bad scheme", "ftp://h/b", s3blob.Config{}, "want http, https or s3"},
		{"bad secure", "s3://h/b?secure=maybe", s3blob.Config{}, "secure="},
		{"bad create", "s3://h/b?create=please", s3blob.Config{}, "create="},
		{"secret not echoed", "http://AK:topsecret@h:badport/b", s3blob.Config{}, "URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s3blob.ParseURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "topsecret") {
					t.Fatalf("got %+v, %v; want error containing %q without the secret", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestPutSized stores bodies of announced length in one PUT (or as Put
// does for small ones), and refuses a body of any other length, leaving
// nothing stored.
var errDropped = errors.New("client dropped the connection")

func TestPutSized(t *testing.T) {
	s, err := s3blob.OpenConfig(t.Context(), s3blobtest.Bucket(t))
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 3<<20+5)
	_, _ = rand.Read(body)
	tests := []struct {
		name    string
		body    []byte
		size    int64
		wantErr bool
		drop    bool // the body fails after 2 MiB, as a dropped client's
	}{
		{"one PUT of 3 MiB", body, int64(len(body)), false, false},
		{"small body", body[:100], 100, false, false},
		{"shorter than announced", body[:2<<20], int64(len(body)), true, false},
		{"longer than announced", body, 2 << 20, true, false},
		{"small, shorter than announced", body[:10], 100, true, false},
		{"body fails mid-way", body, int64(len(body)), true, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("sized/%d", i)
			// Hide bytes.Reader's other methods, as an HTTP body would.
			var src io.Reader = struct{ io.Reader }{bytes.NewReader(tt.body)}
			if tt.drop {
				src = io.MultiReader(bytes.NewReader(tt.body[:2<<20]), iotest.ErrReader(errDropped))
			}
			n, err := s.PutSized(t.Context(), key, src, tt.size)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("PutSized: got %d, nil; want an error", n)
				}
				if tt.drop && !errors.Is(err, errDropped) {
					t.Fatalf("PutSized: got %v, want the body's error", err)
				}
				if _, err := s.Size(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
					t.Fatalf("after a refused body: got %v, want ErrNotFound", err)
				}
				return
			}
			if err != nil || n != tt.size {
				t.Fatalf("PutSized: got %d, %v; want %d", n, err, tt.size)
			}
			r, err := s.Open(t.Context(), key, 0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(got, tt.body) {
				t.Fatalf("read back %d bytes, %v; want the %d bytes put", len(got), err, len(tt.body))
			}
		})
	}
}
