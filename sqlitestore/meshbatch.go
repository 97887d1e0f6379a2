package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
)

// errClosed is returned for writes submitted after Close.
var errClosed = errors.New("sqlitestore: database closed")

// batcher commits concurrent write transactions together ("group
// commit"): SQLite allows one writer and every commit waits for an fsync,
// so instead of one fsync per request, all requests waiting when the
// writer is free share one transaction and one fsync. Each request runs in
// its own SAVEPOINT, so a request that fails (a duplicate id, a conflict)
// is rolled back alone and the others still commit. A request is answered
// only after the commit that holds it.
type batcher struct {
	owner *DB
	db    *sql.DB
	ops   chan *batchOp
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

type batchOp struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	errc chan error
	// lazy ops (used tokens) may be committed without an fsync when no
	// op in their batch needs one.
	lazy bool
}

// Each request of a batch runs in this savepoint (released before the next).
const (
	qSavepoint  = `SAVEPOINT op`
	qRollbackTo = `ROLLBACK TO op`
	qRelease    = `RELEASE op`
)

// maxBatch bounds how many requests share one transaction.
const maxBatch = 128

func newBatcher(owner *DB) *batcher {
	b := &batcher{owner: owner, db: owner.write, ops: make(chan *batchOp), stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// do runs fn inside a batched transaction and returns its error, or the
// commit's.
func (b *batcher) do(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return b.submit(&batchOp{ctx: ctx, fn: fn, errc: make(chan error, 1)})
}

// doLazy is do for writes that may skip the fsync: a batch of only such
// writes commits with synchronous=NORMAL, which survives a process crash
// but may lose the last commits on a power cut.
func (b *batcher) doLazy(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return b.submit(&batchOp{ctx: ctx, fn: fn, errc: make(chan error, 1), lazy: true})
}

func (b *batcher) submit(op *batchOp) error {
	ctx := op.ctx
	select {
	case b.ops <- op:
	case <-b.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, the op is always answered (after its commit or failure).
	return <-op.errc
}

// close stops the loop after the batch in progress; it waits for it.
func (b *batcher) close() {
	b.once.Do(func() { close(b.stop) })
	<-b.done
}

func (b *batcher) run() {
	defer close(b.done)
	for {
		var first *batchOp
		select {
		case first = <-b.ops:
		case <-b.stop:
			return
		}
		batch := []*batchOp{first}
	collect:
		for len(batch) < maxBatch {
			select {
			case op := <-b.ops:
				batch = append(batch, op)
			default:
				break collect
			}
		}
		b.commit(batch)
	}
}

func (b *batcher) commit(batch []*batchOp) {
	answer := func(err error) {
		for _, op := range batch {
			if op != nil {
				op.errc <- err
			}
		}
	}
	lazy := true
	for _, op := range batch {
		lazy = lazy && op.lazy
	}
	conn, err := b.db.Conn(context.Background())
	if err != nil {
		answer(err)
		return
	}
	defer conn.Close()
	// The writer connection is always synchronous FULL (set at Open) except
	// during a lazy batch.
	if lazy {
		if _, err := conn.ExecContext(context.Background(), `PRAGMA synchronous = NORMAL`); err != nil {
			answer(err)
			return
		}
		// The writer connection is shared with other stores: leave it
		// fully synchronous again, or discard it.
		defer func() {
			if _, err := conn.ExecContext(context.Background(), `PRAGMA synchronous = FULL`); err != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	tx, err := conn.BeginTx(context.Background(), nil)
	if err != nil {
		answer(err)
		return
	}
	if len(batch) == 1 {
		// Alone in its transaction, a request needs no savepoint.
		op := batch[0]
		err := op.ctx.Err()
		if err == nil {
			err = op.fn(tx)
		}
		if err != nil {
			_ = tx.Rollback()
			op.errc <- err
			return
		}
		op.errc <- tx.Commit()
		return
	}
	ctx := context.Background()
	results := make([]error, len(batch))
	for i, op := range batch {
		if err := op.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if _, err := b.owner.txExec(ctx, tx, qSavepoint); err != nil {
			_ = tx.Rollback()
			answer(err)
			return
		}
		if err := op.fn(tx); err != nil {
			results[i] = err
			if _, rerr := b.owner.txExec(ctx, tx, qRollbackTo); rerr != nil {
				_ = tx.Rollback()
				answer(fmt.Errorf("roll back failed request: %w (after %v)", rerr, err))
				return
			}
		}
		if _, err := b.owner.txExec(ctx, tx, qRelease); err != nil {
			_ = tx.Rollback()
			answer(err)
			return
		}
	}
	if err := tx.Commit(); err != nil {
		answer(err)
		return
	}
	for i, op := range batch {
		op.errc <- results[i]
	}
}
