package mesh_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/gpcm/gpcm/internal/testutil"
	"github.com/gpcm/gpcm/mesh"
)

// TestDownloadMaxBytes reads gzip bombs (single and chunked) and an exact
// fit with DownloadOptions.MaxBytes: the reader returns at most MaxBytes
// bytes, then *TooLargeError (errors.Is ErrTooLarge), and stops there.
func TestDownloadMaxBytes(t *testing.T) {
	const limit = 1 << 20
	for _, tt := range []struct {
		name    string
		size    int64
		chunk   int64
		tooBig  bool
		wantLen int64
	}{
		{name: "bomb of 64 MiB in one gzip chunk", size: 64 << 20, chunk: 90 << 20, tooBig: true, wantLen: limit},
		{name: "bomb of 24 MiB in 8 MiB gzip chunks", size: 24 << 20, chunk: 8 << 20, tooBig: true, wantLen: limit},
		{name: "one byte over", size: limit + 1, chunk: 90 << 20, tooBig: true, wantLen: limit},
		{name: "exactly the limit", size: limit, chunk: 90 << 20, wantLen: limit},
		{name: "chunks ending at the limit", size: limit, chunk: limit / 4, wantLen: limit},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEnv(t, func(c *mesh.Config) { c.ChunkSize = tt.chunk; c.TempDir = t.TempDir() })
			res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", Compress: true, Body: testutil.Filler(0, tt.size), Size: tt.size})
			if err != nil {
				t.Fatal(err)
			}
			d, err := e.b.Download(t.Context(), res.MessageID, mesh.DownloadOptions{MaxBytes: limit})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			n, err := io.Copy(io.Discard, d)
			if n != tt.wantLen {
				t.Errorf("read %d bytes, want %d", n, tt.wantLen)
			}
			var tl *mesh.TooLargeError
			switch {
			case tt.tooBig && (!errors.As(err, &tl) || !errors.Is(err, mesh.ErrTooLarge) || tl.MaxBytes != limit || tl.MessageID != res.MessageID):
				t.Fatalf("got error %v, want a *TooLargeError for %s at %d bytes", err, res.MessageID, limit)
			case !tt.tooBig && err != nil:
				t.Fatalf("got error %v, want none", err)
			}
			if tt.tooBig {
				if k, err := d.Read(make([]byte, 10)); k != 0 || !errors.Is(err, mesh.ErrTooLarge) {
					t.Errorf("read after the bound: %d bytes, %v", k, err)
				}
			}
		})
	}
}

// TestDownloadMaxBytesUnbounded: zero options read everything, and a
// negative bound is refused.
func TestDownloadMaxBytesUnbounded(t *testing.T) {
	e := mustEnv(t, nil)
	body := bytes.Repeat([]byte("x"), 3000)
	res, err := e.a.Send(t.Context(), mesh.SendRequest{To: boxB, WorkflowID: "WF", Compress: true, Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Download(t.Context(), res.MessageID, mesh.DownloadOptions{MaxBytes: -1}); err == nil {
		t.Error("negative MaxBytes accepted")
	}
	d, err := e.b.Download(t.Context(), res.MessageID, mesh.DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := io.ReadAll(d)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("got %d bytes, %v; want %d", len(got), err, len(body))
	}
}
