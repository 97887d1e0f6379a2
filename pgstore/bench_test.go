package pgstore_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/sqlitestore"
)

// BenchmarkMessageLifecycle measures the store's hot path for one message,
// as the server drives it: four requests (a small send with its body, the
// recipient's inbox page with its count, the download, the
// acknowledgement), each one store method recording its token. sqlitestore (the embedded default, one writer) is the
// baseline; compare pgstore to it as a ratio in the same run. The parallel
// rows run 8 goroutines, as 8 concurrent senders would.
func BenchmarkMessageLifecycle(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) meshserver.Store
	}{
		{"baseline-sqlitestore", func(b *testing.B) meshserver.Store {
			db, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "mesh.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			return db.Mesh()
		}},
		{"pgstore", func(b *testing.B) meshserver.Store {
			db := pgstoretest.MustOpen(b)
			var fsync, syncCommit string
			_ = db.Pool().QueryRow(b.Context(), `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &syncCommit)
			b.Logf("PostgreSQL fsync=%s synchronous_commit=%s", fsync, syncCommit)
			return db.Mesh()
		}},
	}
	for _, st := range stores {
		for _, par := range []bool{false, true} {
			name := st.name + "/serial"
			if par {
				name = st.name + "/parallel-8"
			}
			b.Run(name, func(b *testing.B) {
				s := st.open(b)
				ctx := b.Context()
				mbs := map[string]meshserver.Mailbox{}
				for _, id := range []string{"X26ABC1", "X26ABC2"} {
					mbs[id] = meshserver.Mailbox{ID: id, Password: "password", ODSCode: "X26", Active: true}
					if err := s.PutMailbox(ctx, mbs[id]); err != nil {
						b.Fatal(err)
					}
				}
				body := make([]byte, 4096)
				var seq atomic.Int64
				one := func() error {
					i := seq.Add(1)
					now := time.Now().UTC()
					id := fmt.Sprintf("%s%06d_%06X", now.Format("20060102150405"), i%1000000, i)
					tok := func(mailbox string, k int) *meshserver.Token {
						return &meshserver.Token{Nonce: id, Count: fmt.Sprint(k), At: now, Seen: mbs[mailbox]}
					}
					m := meshserver.Message{ID: id, MessageType: meshserver.TypeData, Sender: "X26ABC1", Recipient: "X26ABC2",
						WorkflowID: "WF", Status: meshserver.StatusAccepted, TotalChunks: 1, Size: 4096,
						CreatedAt: now, StatusAt: now, ExpiresAt: now.Add(meshserver.DefaultExpiry)}
					if err := s.Send(ctx, meshserver.SendParams{Token: tok("X26ABC1", 0), Message: m,
						Chunk: meshserver.Chunk{MessageID: id, Number: 1, Size: 4096, BlobKey: "k/" + id}, Body: body}); err != nil {
						return err
					}
					if _, err := s.InboxPage(ctx, meshserver.InboxPageParams{Token: tok("X26ABC2", 1), Mailbox: "X26ABC2", Limit: 10, Count: true}); err != nil {
						return err
					}
					if _, err := s.Download(ctx, meshserver.DownloadParams{Token: tok("X26ABC2", 2), ID: id, Chunk: 1}); err != nil {
						return err
					}
					_, err := s.Acknowledge(ctx, meshserver.AcknowledgeParams{Token: tok("X26ABC2", 3), Mailbox: "X26ABC2", ID: id, Code: "00", Event: "ACK", At: now})
					return err
				}
				if !par {
					for b.Loop() {
						if err := one(); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism(8)
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
