// Package pgstore keeps the MESH server's state in PostgreSQL, so that
// several server processes behind one address share mailboxes, messages and
// used authentication tokens.
//
//	db, err := pgstore.Open(ctx, "postgres://mesh:PASSWORD@db:5432/mesh", pgstore.Options{Schema: "mesh"})
//	...
//	defer db.Close()
//	srv, err := meshserver.New(meshserver.Config{Store: db.Mesh(), Blobs: blobs, SharedKey: key})
//
// The URL is anything pgx accepts: postgres://USER:PASSWORD@HOST:PORT/DB
// with libpq parameters (sslmode, …), pool_max_conns and other server
// settings such as search_path as query parameters, or the keyword/value
// form.
//
// Open uses pgx's own pool (github.com/jackc/pgx/v5/pgxpool) rather than
// database/sql: the SQL here is PostgreSQL's (SKIP LOCKED, arrays, ON
// CONFLICT, data-modifying CTEs), so database/sql's portability buys
// nothing, while native pgx gives the binary protocol, a per-connection
// prepared-statement cache, pipelined batches (one round trip to authenticate a request)
// and typed errors (*pgconn.PgError for unique violations).
//
// Migrations (migrations/*.sql, applied in name order, names recorded in
// schema_migrations) run in one transaction that first takes a
// transaction-scoped advisory lock, so any number of processes may start at
// once: one applies them, the others wait and find them recorded.
//
// Across processes: expiry and purge claim rows with SELECT … FOR UPDATE
// SKIP LOCKED, so two servers never expire or purge the same message; chunk
// uploads lock the message row, so the last chunk finalises a message
// exactly once; acknowledgement is one conditional UPDATE; and a token is
// single-use because (mailbox, nonce, count) is the primary key of
// mesh_nonces. Nothing that matters lives in a process's memory.
//
// Durability: a request that changes a message (a send, an upload, an
// acknowledgement) commits its token with its work and waits for the WAL
// flush before the server answers. A request whose only write is its token
// (a download, an inbox page) does not wait, nor do the token batches of the other requests
// (whatever a request writes after them waits, and flushes them too): after
// a PostgreSQL crash the tokens of the last few hundred milliseconds of
// requests that wrote nothing else may be forgotten.
//
// DB.Blobs returns a blob.Store on the same database (table blobs, bytea)
// for small payloads, used behind a tier.Store in front of S3: a small
// chunk then costs one INSERT instead of an S3 PUT.
//
// Options.Schema places every table in one PostgreSQL schema (created when
// missing), so several independent servers, or parallel tests (see
// pgstoretest), can share a database.
package pgstore
