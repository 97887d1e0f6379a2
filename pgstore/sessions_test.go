package pgstore_test

import (
	"testing"

	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/storetest"
	"github.com/gpcm/gpcm/web"
)

var _ web.SessionStore = (*pgstore.SessionStore)(nil)

func TestSessions(t *testing.T) {
	storetest.RunSessions(t, func(t *testing.T) (storetest.SessionStore, storetest.SessionStore) {
		schema := pgstoretest.Schema(t)
		return pgstoretest.MustOpenSchema(t, schema).Sessions(), pgstoretest.MustOpenSchema(t, schema).Sessions()
	})
}
