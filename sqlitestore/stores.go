package sqlitestore

import "github.com/gpcm/gpcm/meshserver"

// The stores of DB, one per service, each checked against the interface
// its service declares.

var _ meshserver.Store = (*MeshStore)(nil)

// MeshStore implements meshserver.Store on a DB.
type MeshStore struct{ db *DB }

// Mesh returns the MESH server's store on db.
func (db *DB) Mesh() *MeshStore { return &MeshStore{db: db} }
