package pgstore_test

import (
	"testing"

	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/storetest"
	"github.com/gpcm/gpcm/web"
)

var _ web.AccountStore = (*pgstore.UserStore)(nil)

func TestUsers(t *testing.T) {
	storetest.RunUsers(t, func(t *testing.T) (storetest.UserStore, storetest.UserStore) {
		schema := pgstoretest.Schema(t)
		return pgstoretest.MustOpenSchema(t, schema).Users(), pgstoretest.MustOpenSchema(t, schema).Users()
	})
}
