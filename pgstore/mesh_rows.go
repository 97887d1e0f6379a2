package pgstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// How the MESH tables store what meshsql maps: times as timestamptz (NULL:
// none), a mailbox's workflows as text[] (NULL: any).
type (
	timestamps struct{}
	textArrays struct{}
)

var (
	times     meshsql.Times[*time.Time]   = timestamps{}
	workflows meshsql.Workflows[[]string] = textArrays{}
)

func (timestamps) Arg(t time.Time) any         { return ts(t) }
func (timestamps) Time(v *time.Time) time.Time { return fromTS(v) }

func (textArrays) Arg(wf []string) (any, error) {
	if len(wf) == 0 {
		return nil, nil
	}
	return wf, nil
}

func (textArrays) Workflows(v []string) ([]string, error) {
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

var (
	scanMessage = meshsql.ScanMessage(times)
	scanMailbox = meshsql.ScanMailbox(workflows)
)

// meshTx is the pool or a transaction as meshsql's shared steps use it.
type meshTx struct{ q querier }

func (t meshTx) QueryRow(ctx context.Context, q string, args ...any) meshsql.Row {
	return meshsql.MapNoRows(t.q.QueryRow(ctx, q, args...), pgx.ErrNoRows)
}

func (t meshTx) Query(ctx context.Context, q string, args ...any) (meshsql.Rows, error) {
	return t.q.Query(ctx, q, args...)
}

func (t meshTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.q.Exec(ctx, q, args...)
	if isUniqueViolation(err) {
		return 0, fmt.Errorf("%w: %v", meshserver.ErrConflict, err)
	}
	return tag.RowsAffected(), err
}

// pool is the pool as meshsql's steps use it.
func (s *MeshStore) pool() meshTx { return meshTx{s.db.pool} }

// tx runs fn in a READ COMMITTED transaction.
func (s *MeshStore) tx(ctx context.Context, what string, fn func(tx meshTx) error) error {
	tx, err := s.db.pool.Begin(ctx)
	if err != nil {
		return meshsql.Err("pgstore", what, err)
	}
	if err := fn(meshTx{tx}); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return meshsql.Err("pgstore", what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return meshsql.Err("pgstore", what+": commit", err)
	}
	return nil
}

// orZeroMessageCols is MessageColumns of m with a value of the column's
// type in place of NULL, for a LEFT JOIN that may find no message.
var orZeroMessageCols = func() string {
	zero := map[string]string{"total_chunks": "0", "size": "0",
		"created_at": "'epoch'", "status_at": "'epoch'", "expires_at": "", "acked_at": ""}
	var cols []string
	for _, c := range strings.Split(meshsql.MessageColumns, ",") {
		c = strings.TrimSpace(c)
		z, ok := zero[c]
		switch {
		case !ok:
			c = "coalesce(m." + c + ", '')"
		case z == "":
			c = "m." + c
		default:
			c = "coalesce(m." + c + ", " + z + ")"
		}
		cols = append(cols, c)
	}
	return strings.Join(cols, ", ")
}()
