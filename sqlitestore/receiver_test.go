package sqlitestore_test

import (
	"testing"

	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/storetest"
)

func TestReceiverStoreContract(t *testing.T) {
	storetest.RunReceiver(t, func(t *testing.T) receiver.Store { return MustOpen(t).Receiver() })
}
