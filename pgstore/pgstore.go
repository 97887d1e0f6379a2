package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options tune Open. The zero value is valid.
type Options struct {
	// Schema, when set, is created if missing and becomes the search_path
	// of every pooled connection: all tables live there. It must be a
	// lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 bytes).
	// Empty uses the URL's search_path (by default "public").
	Schema string
	// Password, when set, replaces the URL's password, so that it need
	// not be written into the URL (which command lines show).
	Password string
	// MaxConns bounds the pool. Default: the URL's pool_max_conns if it
	// has one, else 16 (each in-flight MESH request holds a connection only
	// for its queries, but 8 concurrent senders plus receivers outgrow
	// pgxpool's own default of max(4, CPUs)).
	MaxConns int32
	// MinConns connections are opened before Open returns and kept
	// open, so that the first requests of a long-running service do not
	// wait for PostgreSQL to start backends. Default: the URL's
	// pool_min_conns if it has one, else none. At most MaxConns; -1 means
	// MaxConns (a full pool from the start).
	MinConns int32
	// PrepareMesh prepares the statements of the MESH server's requests
	// on every connection as it opens (after the migrations), so that the
	// first requests on a connection do not pay for parsing and planning
	// them, nor PostgreSQL for loading its catalog caches.
	PrepareMesh bool
}

// DB is an open PostgreSQL connection pool with the schema migrated.
type DB struct {
	pool   *pgxpool.Pool
	schema string

	tokensMu sync.Mutex
	tokens   *tokenBatcher // started by the first token batch, stopped by Close
	closed   bool
}

const defaultMaxConns = 16

var schemaRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects to the database at url, a PostgreSQL URL or keyword/value
// string as libpq accepts ("postgres://user:pass@host:5432/db?sslmode=disable"),
// and applies pending migrations.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	if url == "" {
		return nil, errors.New("pgstore: empty database URL (want postgres://USER:PASSWORD@HOST:PORT/DATABASE)")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn masks the password in the string it quotes.
		return nil, fmt.Errorf("pgstore: database URL is not a valid PostgreSQL connection string: %w", err)
	}
	if opts.Schema != "" {
		if !schemaRE.MatchString(opts.Schema) {
			return nil, fmt.Errorf("pgstore: schema %q: want a lower-case identifier ([a-z_][a-z0-9_]*, at most 63 bytes)", opts.Schema)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	if opts.Password != "" {
		cfg.ConnConfig.Password = opts.Password
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = defaultMaxConns
	}
	if opts.MinConns != 0 && !strings.Contains(url, "pool_min_conns") {
		cfg.MinConns = cfg.MaxConns
		if opts.MinConns > 0 {
			cfg.MinConns = min(opts.MinConns, cfg.MaxConns)
		}
	}
	first := cfg
	if opts.PrepareMesh {
		// The statements can be prepared only once the tables exist: the
		// migrations run on a pool of their own, without standing
		// connections, and the pool that prepares replaces it.
		first = cfg.Copy()
		first.MinConns = 0
	}
	pool, err := connect(ctx, first)
	if err != nil {
		return nil, err
	}
	db := &DB{pool: pool, schema: opts.Schema}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if opts.PrepareMesh {
		pool.Close()
		hot := meshHotSQL()
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			for _, q := range hot {
				if _, err := c.Prepare(ctx, q, q); err != nil {
					return fmt.Errorf("pgstore: prepare MESH statements: %w", err)
				}
			}
			return nil
		}
		if db.pool, err = connect(ctx, cfg); err != nil {
			return nil, err
		}
	}
	return db, nil
}

// DropSchema drops schema and everything in it, for tools that made one of
// their own (gpcm bench mesh --spawn).
func DropSchema(ctx context.Context, url, schema string) error {
	if !schemaRE.MatchString(schema) {
		return fmt.Errorf("pgstore: schema %q: want a lower-case identifier", schema)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("pgstore: drop schema %s: %w", schema, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		return fmt.Errorf("pgstore: drop schema %s: %w", schema, err)
	}
	return nil
}

// connect opens a pool and checks that the server answers.
func connect(ctx context.Context, cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: connect to %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	if err := warm(ctx, pool, cfg.MinConns); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: open %d connections to %s:%d (MinConns): %w", cfg.MinConns, cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return pool, nil
}

// warm holds n connections of pool at once, so that they are open (and
// AfterConnect has run on each) when Open returns: pgxpool opens MinConns
// only in the background, and a service that took its first requests
// meanwhile made them wait for PostgreSQL to start backends.
func warm(ctx context.Context, pool *pgxpool.Pool, n int32) error {
	conns := make([]*pgxpool.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() { conns[i], errs[i] = pool.Acquire(ctx) })
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			c.Release()
		}
	}
	return errors.Join(errs...)
}

// Close stops the token batcher and closes the pool.
func (db *DB) Close() error {
	db.tokensMu.Lock()
	tb := db.tokens
	db.closed = true
	db.tokensMu.Unlock()
	if tb != nil {
		tb.close()
	}
	db.pool.Close()
	return nil
}

// tokenBatcher returns the batcher, starting it on first use; nil after
// Close.
func (db *DB) tokenBatcher() *tokenBatcher {
	db.tokensMu.Lock()
	defer db.tokensMu.Unlock()
	if db.tokens == nil && !db.closed {
		db.tokens = newTokenBatcher(db)
	}
	return db.tokens
}

// Ping checks that the database answers (for health checks).
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pgstore: ping: %w", err)
	}
	return nil
}

// Pool returns the underlying pool (for health checks and tests).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// migrationLockKey is the advisory lock that serialises migrations of all
// gpcm schemas in a database (the first 8 bytes of "gpcm-mig").
const migrationLockKey int64 = 0x6770636d2d6d6967

// migrate applies every embedded migration not yet recorded, all in one
// transaction under an advisory lock, recording each name.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("pgstore: list migrations: %w", err)
	}
	sort.Strings(names)
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
		return fmt.Errorf("pgstore: migrate: lock: %w", err)
	}
	if db.schema != "" {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{db.schema}.Sanitize()); err != nil {
			return fmt.Errorf("pgstore: create schema %s: %w", db.schema, err)
		}
	}
	var schema *string
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if schema == nil {
		return errors.New("pgstore: no schema of the search_path exists; create one or set Options.Schema")
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("pgstore: create schema_migrations: %w", err)
	}
	done := map[string]bool{}
	rows, err := tx.Query(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("pgstore: read schema_migrations: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("pgstore: read schema_migrations: %w", err)
	}
	for _, n := range applied {
		done[n] = true
	}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		if done[base] {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return fmt.Errorf("pgstore: migration %s: %w", base, err)
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("pgstore: migration %s: %w", base, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, base); err != nil {
			return fmt.Errorf("pgstore: migration %s: %w", base, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: migrate: commit: %w", err)
	}
	return nil
}

// Migrations lists the names of applied migrations in order.
func (db *DB) Migrations(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list migrations: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgstore: list migrations: %w", err)
	}
	return names, nil
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// ts converts a time for a nullable TIMESTAMPTZ column: zero is NULL.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// fromTS converts a scanned nullable TIMESTAMPTZ back: NULL is zero, and
// every time is in UTC as callers stored it.
func fromTS(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
