// Package pgstore keeps the MESH server's state in PostgreSQL, so that
// several server processes behind one address share mailboxes, messages and
// used authentication tokens.
//
// Open connects a pgx connection pool (github.com/jackc/pgx/v5/pgxpool),
// applies the embedded migrations and returns a DB; DB.Mesh returns the
// meshserver.Store. The native pgx pool is used rather than database/sql:
// the SQL here is PostgreSQL's own (SKIP LOCKED, arrays, ON CONFLICT), so
// database/sql's portability buys nothing, while pgx gives the binary
// protocol, a per-connection prepared-statement cache, typed errors
// (*pgconn.PgError for unique violations) and AfterConnect-free runtime
// parameters such as search_path.
//
// Migrations (migrations/*.sql, applied in name order) run in one
// transaction that first takes a transaction-scoped advisory lock, so any
// number of processes may start at once: one applies them, the others wait
// and find them recorded in schema_migrations.
//
// Concurrency across processes: work is claimed with SELECT … FOR UPDATE
// SKIP LOCKED (expiry, purge), state changes lock the message row first
// (chunk upload, acknowledge), and a token is single-use because its
// (mailbox, nonce, count) is the primary key of mesh_nonces. Nothing that
// matters lives only in a process's memory.
//
// Options.Schema places every table in one PostgreSQL schema (created when
// missing), which lets tests, or several independent servers, share a
// database.
package pgstore
