package pgstore_test

import (
	"testing"

	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/sender"
	"github.com/gpcm/gpcm/storetest"
)

func TestSenderStoreContract(t *testing.T) {
	pgstoretest.URL(t)
	storetest.RunSender(t, func(t *testing.T) sender.Store { return pgstoretest.MustOpen(t).Sender() })
}
