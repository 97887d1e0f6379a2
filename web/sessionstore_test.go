package web_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/storetest"
	"github.com/gpcm/gpcm/web"
)

// storetest.RunSessions checks the methods web calls: the suite declares
// its own SessionStore (contract suites do not import the UI), and these two
// lines hold its method set equal to web's.
var (
	_ storetest.SessionStore = web.SessionStore(nil)
	_ web.SessionStore       = storetest.SessionStore(nil)
)

// Issue 18 §3: signed-in sessions live in the project's store, so they
// survive a restart and every server process on one database sees them.
func TestSessionsSurviveRestartAndAreShared(t *testing.T) {
	for _, tc := range []struct {
		name string
		// open returns another handle on the test's one database.
		open func(t *testing.T) func() web.SessionStore
	}{
		{"sqlite", func(t *testing.T) func() web.SessionStore {
			path := filepath.Join(t.TempDir(), "web.db")
			return func() web.SessionStore {
				db, err := sqlitestore.Open(t.Context(), path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db.Sessions()
			}
		}},
		{"postgres", func(t *testing.T) func() web.SessionStore {
			schema := pgstoretest.Schema(t)
			return func() web.SessionStore { return pgstoretest.MustOpenSchema(t, schema).Sessions() }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := tc.open(t)
			key := []byte("0123456789abcdef0123456789abcdef")
			a := MustServer(t, web.Config{Sessions: open(), CookieKey: key})
			b := MustServer(t, web.Config{Sessions: open(), CookieKey: key})
			// The login form of one process posts to the other (a load
			// balancer without sticky sessions).
			c := a.newClient()
			c.get("/login")
			c.base = b.ts.URL
			res, _ := c.postForm("/login", url.Values{"username": {"admin"}, "password": {testPassword}})
			if res.StatusCode != http.StatusOK || res.Request.URL.Path == "/login" {
				t.Fatalf("login form from A posted to B: got %d at %s", res.StatusCode, res.Request.URL.Path)
			}
			c.base = a.ts.URL
			if res, _ := c.get("/validator"); res.Request.URL.Path != "/validator" {
				t.Fatal("A does not know the session made on B")
			}
			// A restarted process (new server, new database handle) still
			// knows it.
			restarted := MustServer(t, web.Config{Sessions: open(), CookieKey: key})
			c.base = restarted.ts.URL
			if res, _ := c.get("/validator"); res.Request.URL.Path != "/validator" {
				t.Fatal("the session did not survive a restart")
			}
			// Signing out on one ends it on all.
			c.postForm("/logout", url.Values{})
			c.base = b.ts.URL
			if res, _ := c.get("/validator"); res.Request.URL.Path != "/login" {
				t.Fatal("B still accepts a session ended on another process")
			}
		})
	}
}
