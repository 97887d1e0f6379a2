package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/storetest"
	"github.com/gpcm/gpcm/web"
)

var _ web.AccountStore = (*sqlitestore.UserStore)(nil)

func TestUsers(t *testing.T) {
	storetest.RunUsers(t, func(t *testing.T) (storetest.UserStore, storetest.UserStore) {
		path := filepath.Join(t.TempDir(), "web.db")
		open := func() storetest.UserStore {
			db, err := sqlitestore.Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db.Users()
		}
		return open(), open()
	})
}
