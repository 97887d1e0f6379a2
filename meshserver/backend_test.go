package meshserver_test

import (
	"os"
	"testing"

	"github.com/gpcm/gpcm/blob/s3blob/s3blobtest"
	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

// backendEnv selects the storage the conformance tests run on: unset or
// "sqlite" = SQLite and files in t.TempDir(); "postgres" = PostgreSQL
// (GPCM_TEST_POSTGRES_URL, a schema per test) and S3 (GPCM_TEST_S3_URL or
// a versitygw, a bucket per test). Either way small bodies are kept in the
// database and larger ones in files or S3 (package tier), as gpcm
// mesh-server does. Run the package once per backend.
const backendEnv = "GPCM_TEST_MESH_BACKEND"

// newServer starts a meshtest server on the selected backend.
func newServer(t *testing.T, opts meshtest.Options) *meshtest.Server {
	t.Helper()
	switch b := os.Getenv(backendEnv); b {
	case "", "sqlite":
	case "postgres":
		if opts.Store == nil && opts.Blobs == nil {
			// As gpcm mesh-server --postgres --s3 opens its database and
			// keeps payloads: small ones in the database, larger ones in S3.
			db := pgstoretest.MustOpenMesh(t)
			opts.Store = db.Mesh()
			opts.Blobs = tier.New(db.Blobs(), s3blobtest.MustOpen(t), tier.DefaultThreshold)
		}
		if opts.Store == nil {
			opts.Store = pgstoretest.MustOpen(t).Mesh()
		}
		if opts.Blobs == nil {
			opts.Blobs = s3blobtest.MustOpen(t)
		}
	default:
		t.Fatalf("%s=%q: want sqlite or postgres", backendEnv, b)
	}
	return meshtest.NewServer(t, opts)
}
