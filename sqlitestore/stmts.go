package sqlitestore

import (
	"context"
	"database/sql"
	"sync"

	"github.com/gpcm/gpcm/internal/meshsql"
)

// Prepared statements. The SQLite driver compiles every query text anew on
// each call, and compiling costs more CPU than running the small queries of
// the MESH hot path (docs/benchmarks.md, "SQLite prepared statements"), so
// the hot query texts are prepared once: database/sql then prepares a
// statement on each connection the first time it runs there and keeps it.
//
// Write statements are prepared at Open, before the batcher holds the only
// writer connection (preparing later on the pool would wait for that very
// connection), and bound to a transaction with Tx.StmtContext, which
// reuses the statement already prepared on the transaction's connection.
// Read statements are prepared on first use.

// hotWrites are the write statements prepared at Open.
var hotWrites = []string{
	qSavepoint, qRelease, qRollbackTo,
	meshsql.MailboxByID, meshsql.InsertNonce, meshsql.InsertMessage, meshsql.InsertChunk, meshsql.MessageByID, qAcknowledge,
	qPutBlob, qDeleteBlob,
}

// stmtCache holds prepared statements of one pool by query text.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// prepare returns the statement for q, preparing it on first use.
func (c *stmtCache) prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	st := c.m[q]
	c.mu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[q]; old != nil {
		_ = st.Close()
		return old, nil
	}
	c.m[q] = st
	return st, nil
}

// lookup returns the statement for q if it was prepared.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		_ = st.Close()
		delete(c.m, q)
	}
}

// queryRow runs a one-row query on the read pool with a prepared statement.
func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := db.rstmts.prepare(ctx, q)
	if err != nil {
		// Let database/sql report the error through the Row.
		return db.read.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a query on the read pool with a prepared statement.
func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := db.rstmts.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// txExec runs q in tx, with the statement prepared at Open if q is one.
func (db *DB) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := db.wstmts.lookup(q); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// txQueryRow runs a one-row query in tx, prepared like txExec.
func (db *DB) txQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st := db.wstmts.lookup(q); st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}
