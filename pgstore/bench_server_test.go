package pgstore_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/gpcm/gpcm/blob/s3blob/s3blobtest"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// BenchmarkServerRoundTrip drives one 4 KiB message end to end over
// loopback HTTPS (send, inbox, download, acknowledge) against a MESH server
// on the embedded default (SQLite and payload files: the baseline) and on
// PostgreSQL + S3. Report pgstore+s3blob as a ratio to the baseline of the
// same run; the parallel rows run 8 sender/receiver pairs at once.
func BenchmarkServerRoundTrip(b *testing.B) {
	backends := []struct {
		name string
		opts func(b *testing.B) meshtest.Options
	}{
		{"baseline-sqlite-files", func(b *testing.B) meshtest.Options { return meshtest.Options{} }},
		{"pgstore-s3blob", func(b *testing.B) meshtest.Options {
			return meshtest.Options{Store: pgstoretest.MustOpen(b).Mesh(), Blobs: s3blobtest.MustOpen(b)}
		}},
	}
	payload := bytes.Repeat([]byte("gpcm "), 4096/5)
	for _, be := range backends {
		for _, par := range []bool{false, true} {
			name := be.name + "/serial"
			if par {
				name = be.name + "/parallel-8"
			}
			b.Run(name, func(b *testing.B) {
				srv := meshtest.NewServer(b, be.opts(b))
				e := endpoint{URL: srv.URL, SharedKey: srv.SharedKey, Roots: srv.CA.Pool()}
				client := func(mailbox string) *mesh.Client {
					c, err := mesh.NewClient(mesh.Config{URL: e.URL, Mailbox: mailbox, Password: "password", SharedKey: e.SharedKey,
						HTTPClient: e.client(), TempDir: b.TempDir()})
					if err != nil {
						b.Fatal(err)
					}
					return c
				}
				sender, receiver := client("X26ABC1"), client("X26ABC2")
				one := func() error {
					res, err := sender.Send(b.Context(), mesh.SendRequest{To: "X26ABC2", WorkflowID: "WF",
						Body: bytes.NewReader(payload), Size: int64(len(payload))})
					if err != nil {
						return err
					}
					if _, err := receiver.Inbox(b.Context(), mesh.InboxOptions{MaxResults: 10}); err != nil {
						return err
					}
					d, err := receiver.Get(b.Context(), res.MessageID)
					if err != nil {
						return err
					}
					n, err := io.Copy(io.Discard, d)
					d.Close()
					if err != nil || n != int64(len(payload)) {
						return fmt.Errorf("download: %d bytes, %v", n, err)
					}
					return receiver.Ack(b.Context(), res.MessageID)
				}
				b.SetBytes(int64(len(payload)))
				if !par {
					for b.Loop() {
						if err := one(); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism(4) // × GOMAXPROCS(2) = 8 pairs
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := one(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}
