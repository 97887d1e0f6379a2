package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is an open SQLite database: a single writer connection (SQLite allows
// one writer; queueing in Go avoids SQLITE_BUSY) and a read pool.
type DB struct {
	path  string
	write *sql.DB
	read  *sql.DB
	// batch groups the MESH store's write transactions (see batcher).
	batch *batcher
	// wstmts and rstmts are prepared statements (see stmts.go).
	wstmts, rstmts *stmtCache
}

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlitestore: empty database path")
	}
	// The database holds mailbox passwords (needed for the HMAC) and
	// patient data: only its owner may read it, whatever mode an older
	// file had.
	if err := restrictFiles(path); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %q: %w", path, err)
	}
	// busy_timeout must come first so that the following pragmas wait
	// instead of failing while another connection holds a lock.
	pragmas := []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)", "case_sensitive_like(1)"}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	dsnW := "file:" + path + "?" + q.Encode() + "&_txlock=immediate"
	w, err := sql.Open("sqlite", dsnW)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	db := &DB{path: path, write: w}
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %q: %w", path, err)
	}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	// SQLite made the -wal and -shm files with the database file's mode;
	// make sure of it.
	if err := restrictFiles(path); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %q: %w", path, err)
	}
	q.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %q for reading: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db.read = r
	db.wstmts, db.rstmts = newStmtCache(w), newStmtCache(r)
	for _, q := range hotWrites {
		if _, err := db.wstmts.prepare(ctx, q); err != nil {
			db.wstmts.close()
			r.Close()
			w.Close()
			return nil, fmt.Errorf("sqlitestore: open %q: prepare %q: %w", path, q, err)
		}
	}
	db.batch = newBatcher(db)
	return db, nil
}

// FileMode is the mode of the database file and its -wal and -shm files.
const FileMode fs.FileMode = 0o600

// restrictFiles creates the database file at path with FileMode if it does
// not exist, and sets FileMode on it and on its -wal and -shm files if
// they have another.
func restrictFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, FileMode)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm() != FileMode {
			if err := os.Chmod(p, FileMode); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	if db.batch != nil {
		db.batch.close()
	}
	if db.wstmts != nil {
		db.wstmts.close()
		db.rstmts.close()
	}
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	errs = append(errs, db.write.Close())
	return errors.Join(errs...)
}

// migrate applies every embedded migration not yet recorded, each in its
// own transaction together with the row that records its name.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlitestore: create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlitestore: list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, name string) (err error) {
	base := strings.TrimPrefix(name, "migrations/")
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: migration %s: %w", base, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var n int
	if err = tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, base).Scan(&n); err != nil {
		return fmt.Errorf("sqlitestore: migration %s: %w", base, err)
	}
	if n > 0 {
		return tx.Rollback()
	}
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return fmt.Errorf("sqlitestore: migration %s: %w", base, err)
	}
	if _, err = tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("sqlitestore: migration %s: %w", base, err)
	}
	if _, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, base, time.Now().UTC().Unix()); err != nil {
		return fmt.Errorf("sqlitestore: migration %s: %w", base, err)
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: migration %s: %w", base, err)
	}
	return nil
}

// Migrations lists the names of applied migrations in order.
func (db *DB) Migrations(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list migrations: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
