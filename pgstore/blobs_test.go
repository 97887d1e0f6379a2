package pgstore_test

import (
	"testing"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/blobtest"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

func TestBlobStoreContract(t *testing.T) {
	pgstoretest.URL(t)
	blobtest.Run(t, func(t *testing.T) blob.Store { return pgstoretest.MustOpen(t).Blobs() })
}
