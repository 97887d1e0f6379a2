// Package sqlitestore keeps gpcm's service state in one SQLite database
// (pure Go driver, WAL mode): one writer connection, a pool of readers, and
// embedded migrations applied in order inside transactions.
//
// DB.Mesh returns the meshserver.Store. DB.Blobs returns a blob.Store on
// the same file (table blobs) for small payloads, used behind a tier.Store:
// its Puts share the MESH store's group commit (one fsync for all waiting
// writes) and are durable when they return.
package sqlitestore
