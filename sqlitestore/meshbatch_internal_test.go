package sqlitestore

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
)

// After a token-only (lazy) batch the shared writer is fully synchronous
// again, so other stores' commits keep their fsync.
func TestLazyBatchRestoresSynchronous(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mb := meshserver.Mailbox{ID: "A", Password: "pw", Active: true}
	if err := db.Mesh().PutMailbox(t.Context(), mb); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Mesh().Authenticate(t.Context(), meshserver.Token{Nonce: "n", Count: "0", At: time.Now(), Seen: mb}); err != nil {
		t.Fatal(err)
	}
	var mode int
	if err := db.write.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != 2 { // FULL
		t.Fatalf("synchronous after a lazy batch: got %d, want 2 (FULL)", mode)
	}
}

// A failing request in a batch is rolled back alone.
func TestBatchIsolatesFailures(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.write.Exec(`CREATE TABLE t (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.batch.do(t.Context(), func(tx *sql.Tx) error {
				if _, err := tx.Exec(`INSERT INTO t (k) VALUES (?)`, fmt.Sprint(i)); err != nil {
					return err
				}
				if i%2 == 1 {
					return boom
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i%2 == 1) != errors.Is(err, boom) || (i%2 == 0 && err != nil) {
			t.Fatalf("request %d: got %v", i, err)
		}
	}
	var n int
	if err := db.read.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 20 {
		t.Fatalf("rows: got %d, %v; want 20 (the even requests)", n, err)
	}
}
