package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/storetest"
	"github.com/gpcm/gpcm/web"
)

var _ web.SessionStore = (*sqlitestore.SessionStore)(nil)

func TestSessions(t *testing.T) {
	storetest.RunSessions(t, func(t *testing.T) (storetest.SessionStore, storetest.SessionStore) {
		path := filepath.Join(t.TempDir(), "web.db")
		open := func() storetest.SessionStore {
			db, err := sqlitestore.Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db.Sessions()
		}
		return open(), open()
	})
}
