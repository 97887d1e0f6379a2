package pgstore_test

import (
	"testing"

	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/storetest"
)

func TestReceiverStoreContract(t *testing.T) {
	pgstoretest.URL(t)
	storetest.RunReceiver(t, func(t *testing.T) receiver.Store { return pgstoretest.MustOpen(t).Receiver() })
}
