package tier_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/blobtest"
	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/sqlitestore"
)

func mustFiles(tb testing.TB) *fileblob.Store {
	tb.Helper()
	s, err := fileblob.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func mustDB(tb testing.TB) *sqlitestore.DB {
	tb.Helper()
	db, err := sqlitestore.Open(tb.Context(), filepath.Join(tb.TempDir(), "gpcm.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threshold int64
	}{
		{"everything small", tier.DefaultThreshold << 4},
		{"everything large", -1},
		{"threshold inside the test bodies", 8},
		{"default threshold", tier.DefaultThreshold},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blobtest.Run(t, func(t *testing.T) blob.Store {
				return tier.New(mustDB(t).Blobs(), mustFiles(t), tc.threshold)
			})
		})
	}
}

func readAll(t *testing.T, s blob.Store, key string) string {
	t.Helper()
	rc, err := s.Open(t.Context(), key, 0)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPlacement checks which store receives each object, at the threshold
// and one byte past it, through Put (from the body) and PutSized (from the
// announced size), and that replacing an object across the threshold
// leaves the new one visible.
func TestPlacement(t *testing.T) {
	const threshold = 10
	small, large := mustDB(t).Blobs(), mustFiles(t)
	s := tier.New(small, large, threshold)
	puts := []struct {
		name string
		put  func(ctx context.Context, key, body string) (int64, error)
	}{
		{"Put", func(ctx context.Context, key, body string) (int64, error) {
			return s.Put(ctx, key, strings.NewReader(body))
		}},
		{"PutSized", func(ctx context.Context, key, body string) (int64, error) {
			return blob.PutSized(ctx, s, key, strings.NewReader(body), int64(len(body)))
		}},
	}
	for _, tc := range []struct {
		name, key, body string
		inSmall         bool
	}{
		{"empty goes small", "k/empty", "", true},
		{"at threshold goes small", "k/at", strings.Repeat("a", threshold), true},
		{"one past threshold goes large", "k/past", strings.Repeat("b", threshold+1), false},
	} {
		for _, p := range puts {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				key := p.name + "/" + tc.key
				n, err := p.put(t.Context(), key, tc.body)
				if err != nil || n != int64(len(tc.body)) {
					t.Fatalf("%s: got %d, %v; want %d, nil", p.name, n, err, len(tc.body))
				}
				_, errSmall := small.Size(t.Context(), key)
				_, errLarge := large.Size(t.Context(), key)
				if gotSmall := errSmall == nil; gotSmall != tc.inSmall || (errLarge == nil) == tc.inSmall {
					t.Fatalf("placement: in small %v (err %v), in large %v (err %v); want in small %v only", errSmall == nil, errSmall, errLarge == nil, errLarge, tc.inSmall)
				}
				if got := readAll(t, s, key); got != tc.body {
					t.Fatalf("read back %q, want %q", got, tc.body)
				}
			})
		}
	}
	t.Run("small replaced by large", func(t *testing.T) {
		key, big := "r/1", strings.Repeat("x", 50)
		if _, err := s.Put(t.Context(), key, strings.NewReader("tiny")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(t.Context(), key, strings.NewReader(big)); err != nil {
			t.Fatal(err)
		}
		if _, err := small.Size(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("small copy after replacement: got %v, want ErrNotFound", err)
		}
		if got := readAll(t, s, key); got != big {
			t.Fatalf("got %q, want the large body", got)
		}
	})
	t.Run("large replaced by small", func(t *testing.T) {
		key := "r/2"
		if _, err := s.Put(t.Context(), key, strings.NewReader(strings.Repeat("y", 50))); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(t.Context(), key, strings.NewReader("tiny")); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s, key); got != "tiny" {
			t.Fatalf("got %q, want %q", got, "tiny")
		}
		if n, err := s.Size(t.Context(), key); err != nil || n != 4 {
			t.Fatalf("Size: got %d, %v; want 4", n, err)
		}
		if err := s.Delete(t.Context(), key); err != nil {
			t.Fatal(err)
		}
		if _, err := large.Size(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("large copy after Delete: got %v, want ErrNotFound", err)
		}
	})
}

// TestLargeStreams checks that a body past the threshold reaches the large
// store as a stream: the large store sees its first bytes before the
// source has been read to the end.
func TestLargeStreams(t *testing.T) {
	const threshold = 1 << 10
	src := &countingReader{r: bytes.NewReader(bytes.Repeat([]byte("z"), 64<<10))}
	probe := &probeStore{Store: mustFiles(t), src: src}
	s := tier.New(mustDB(t).Blobs(), probe, threshold)
	if _, err := s.Put(t.Context(), "big", src); err != nil {
		t.Fatal(err)
	}
	if probe.readAtStart > threshold+1 {
		t.Fatalf("source read before the large Put started: got %d bytes, want at most %d", probe.readAtStart, threshold+1)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type probeStore struct {
	blob.Store
	src         *countingReader
	readAtStart int64
}

func (p *probeStore) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p.readAtStart = p.src.n
	return p.Store.Put(ctx, key, r)
}
