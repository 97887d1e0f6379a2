package fileblob_test

import (
	"testing"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/blobtest"
	"github.com/gpcm/gpcm/blob/fileblob"
)

func TestContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := fileblob.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
