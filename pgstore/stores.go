package pgstore

import (
	"context"
	"time"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// The stores of DB, one per service, each checked against the interface
// its service declares.

var _ meshserver.Store = (*MeshStore)(nil)

// MeshStore implements meshserver.Store on a DB: the requests in mesh_*.go,
// the reads, Rich, Track, expiry and admin writes in meshsql.Common. It holds no state of its
// own: every process with a MeshStore on the same schema sees the same data.
type MeshStore struct {
	db *DB
	meshsql.Common[*time.Time, []string]
}

// Mesh returns the MESH server's store on db.
func (db *DB) Mesh() *MeshStore {
	pool := meshTx{db.pool}
	s := &MeshStore{db: db}
	s.Common = meshsql.Common[*time.Time, []string]{Driver: "pgstore", Reads: pool, Writes: pool,
		Times: times, Workflows: workflows, Record: s.record, SelectDue: qExpireDue,
		InTx: func(ctx context.Context, what string, fn func(meshsql.Tx) error) error {
			return s.tx(ctx, what, func(tx meshTx) error { return fn(tx) })
		}}
	return s
}
