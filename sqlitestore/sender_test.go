package sqlitestore_test

import (
	"testing"

	"github.com/gpcm/gpcm/sender"
	"github.com/gpcm/gpcm/storetest"
)

func TestSenderStoreContract(t *testing.T) {
	storetest.RunSender(t, func(t *testing.T) sender.Store { return MustOpen(t).Sender() })
}
