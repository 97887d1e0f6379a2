package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// How the MESH tables store what meshsql maps: times as microseconds since
// the epoch (0: none), a mailbox's workflows as a JSON array (”: any).
type (
	micros    struct{}
	jsonLists struct{}
)

var (
	times     meshsql.Times[int64]      = micros{}
	workflows meshsql.Workflows[string] = jsonLists{}
)

func (micros) Arg(t time.Time) any    { return toMicros(t) }
func (micros) Time(v int64) time.Time { return fromMicros(v) }

func (jsonLists) Arg(wf []string) (any, error) {
	if len(wf) == 0 {
		return "", nil
	}
	b, err := json.Marshal(wf)
	return string(b), err
}

func (jsonLists) Workflows(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	var wf []string
	err := json.Unmarshal([]byte(v), &wf)
	return wf, err
}

var (
	scanMessage = meshsql.ScanMessage(times)
	scanMailbox = meshsql.ScanMailbox(workflows)
)

// meshTx is a write transaction as meshsql's shared steps use it, with
// the statements prepared at Open.
type meshTx struct {
	db *DB
	tx *sql.Tx
}

func (t meshTx) QueryRow(ctx context.Context, q string, args ...any) meshsql.Row {
	return meshsql.MapNoRows(t.db.txQueryRow(ctx, t.tx, q, args...), sql.ErrNoRows)
}

func (t meshTx) Query(ctx context.Context, q string, args ...any) (meshsql.Rows, error) {
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (t meshTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.db.txExec(ctx, t.tx, q, args...)
	if err != nil {
		if isUniqueViolation(err) {
			return 0, fmt.Errorf("%w: %v", meshserver.ErrConflict, err)
		}
		return 0, err
	}
	return res.RowsAffected()
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// reads are the read pool as meshsql's steps use it.
type reads struct{ db *DB }

func (r reads) QueryRow(ctx context.Context, q string, args ...any) meshsql.Row {
	return meshsql.MapNoRows(r.db.queryRow(ctx, q, args...), sql.ErrNoRows)
}

func (r reads) Query(ctx context.Context, q string, args ...any) (meshsql.Rows, error) {
	rows, err := r.db.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

// writes are the writer connection as meshsql's Common uses it, for
// statements that need no group commit.
type writes struct{ db *DB }

func (w writes) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := w.db.write.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
