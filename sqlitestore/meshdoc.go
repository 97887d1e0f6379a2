// Package sqlitestore keeps gpcm's service state in one SQLite database
// (pure Go driver, WAL mode): one writer connection, a pool of readers, and
// embedded migrations applied in order inside transactions.
//
// DB.Mesh returns the meshserver.Store.
package sqlitestore
