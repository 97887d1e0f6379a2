package sqlitestore

import (
	"context"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// The stores of DB, one per service, each checked against the interface
// its service declares.

var _ meshserver.Store = (*MeshStore)(nil)

// MeshStore implements meshserver.Store on a DB: the requests in mesh_*.go,
// the reads, Rich, Track, expiry and admin writes in meshsql.Common.
type MeshStore struct {
	db *DB
	meshsql.Common[int64, string]
}

// Mesh returns the MESH server's store on db.
func (db *DB) Mesh() *MeshStore {
	s := &MeshStore{db: db}
	s.Common = meshsql.Common[int64, string]{Driver: "sqlitestore", Reads: reads{db}, Writes: writes{db},
		Times: times, Workflows: workflows, Record: s.record, SelectDue: qExpireDue,
		InTx: func(ctx context.Context, what string, fn func(meshsql.Tx) error) error {
			return s.write(ctx, what, false, func(tx meshTx) error { return fn(tx) })
		}}
	return s
}
