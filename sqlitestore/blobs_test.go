package sqlitestore_test

import (
	"testing"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/blobtest"
)

func TestBlobStoreContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return MustOpen(t).Blobs() })
}
