package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// Every MESH request spends one authentication token. Recorded on its own,
// each would be a transaction of its own, a large share of PostgreSQL's
// transactions (docs/benchmarks.md). tokenBatcher records the tokens of
// concurrent requests together, in one statement and one round trip per
// batch ("group commit"), with up to maxTokenFlights batches in flight.
// A request waits for nothing but the batch it is in: when no batch is in
// flight its token goes at once, alone.

const (
	maxTokenBatch   = 128
	maxTokenFlights = 4
)

// tokenReq is one token to record: only if mailbox is active with
// password and, unless workflows is nil, the workflows of the JSON array
// *workflows.
type tokenReq struct {
	mailbox, nonce, count string
	at                    time.Time
	password              string
	workflows             *string
	done                  chan tokenResult // buffered: the batcher never blocks on it
}

type tokenResult struct {
	mb       meshserver.Mailbox
	found    bool
	inserted bool
	err      error
}

type tokenKey struct{ mailbox, nonce, count string }

type tokenBatcher struct {
	db     *DB
	reqs   chan *tokenReq
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
}

func newTokenBatcher(db *DB) *tokenBatcher {
	b := &tokenBatcher{db: db, reqs: make(chan *tokenReq), stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// close stops the batcher once the batches in flight are answered;
// requests arriving later get errClosed.
func (b *tokenBatcher) close() {
	b.closed.Do(func() { close(b.stop) })
	<-b.done
}

var errClosed = errors.New("pgstore: database closed")

// use records one token through the batcher.
func (b *tokenBatcher) use(ctx context.Context, r tokenReq) (tokenResult, error) {
	req := &r
	req.done = make(chan tokenResult, 1)
	select {
	case b.reqs <- req:
	case <-b.stop:
		return tokenResult{}, errClosed
	case <-ctx.Done():
		return tokenResult{}, ctx.Err()
	}
	select {
	case res := <-req.done:
		return res, res.err
	case <-ctx.Done():
		// The token may still be recorded; it is spent either way.
		return tokenResult{}, ctx.Err()
	}
}

// run collects requests into batches until stop, then waits for the
// batches in flight.
func (b *tokenBatcher) run() {
	defer close(b.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var flights sync.WaitGroup
	defer flights.Wait()
	slots := make(chan struct{}, maxTokenFlights)
	// carry holds requests for a token already in the batch being built:
	// they go in the next batch, where the database decides (normally a
	// replay) exactly as for two requests from two processes.
	var carry []*tokenReq
	for {
		var batch []*tokenReq
		if len(carry) > 0 {
			batch, carry = carry, nil
		} else {
			select {
			case req := <-b.reqs:
				batch = append(batch, req)
			case <-b.stop:
				return
			}
		}
		select {
		case slots <- struct{}{}:
		case <-b.stop:
			for _, r := range batch {
				r.done <- tokenResult{err: errClosed}
			}
			for _, r := range carry {
				r.done <- tokenResult{err: errClosed}
			}
			return
		}
		// A second request for a token already in this batch waits for
		// the next one; everything that arrived while waiting for a slot
		// joins this batch.
		seen := make(map[tokenKey]bool, len(batch))
		var keep []*tokenReq
		add := func(r *tokenReq) {
			k := tokenKey{r.mailbox, r.nonce, r.count}
			if seen[k] {
				carry = append(carry, r)
				return
			}
			seen[k] = true
			keep = append(keep, r)
		}
		for _, r := range batch {
			add(r)
		}
	drain:
		for len(keep) < maxTokenBatch {
			select {
			case r := <-b.reqs:
				add(r)
			default:
				break drain
			}
		}
		batch = keep
		flights.Add(1)
		go func() {
			defer flights.Done()
			defer func() { <-slots }()
			b.record(ctx, batch)
		}()
	}
}

// record runs one batch: BEGIN, SET LOCAL synchronous_commit = off, the
// statement and COMMIT in one round trip, and answers each request.
func (b *tokenBatcher) record(ctx context.Context, batch []*tokenReq) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n := len(batch)
	mailboxes, nonces, counts, passwords := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ats, wfs := make([]time.Time, n), make([]*string, n)
	for i, r := range batch {
		mailboxes[i], nonces[i], counts[i], passwords[i], ats[i], wfs[i] = r.mailbox, r.nonce, r.count, r.password, r.at, r.workflows
	}
	results := make([]tokenResult, n)
	pb := &pgx.Batch{}
	pb.Queue(`BEGIN`)
	pb.Queue(`SET LOCAL synchronous_commit = off`)
	pb.Queue(qUseTokens,
		mailboxes, nonces, counts, ats, passwords, wfs).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var i int64
			var res tokenResult
			var mr meshsql.MailboxRow[[]string]
			if err := rows.Scan(append(append([]any{&i, &res.found}, mr.Dest()...), &res.inserted)...); err != nil {
				return err
			}
			if i < 1 || int(i) > n {
				return fmt.Errorf("token row %d of %d", i, n)
			}
			var err error
			if res.mb, err = mr.Mailbox(workflows); err != nil {
				return err
			}
			results[i-1] = res
		}
		return rows.Err()
	})
	pb.Queue(`COMMIT`)
	// A connection left inside a failed transaction is discarded by the pool.
	err := b.db.pool.SendBatch(ctx, pb).Close()
	for i, r := range batch {
		if err != nil {
			results[i] = tokenResult{err: fmt.Errorf("pgstore: use token: %w", err)}
		}
		r.done <- results[i]
	}
}

// qUseTokens records a batch of tokens (see record): each only if its
// mailbox is active with the password and (unless NULL) the workflows the
// request saw, the latter compared as JSON arrays.
const qUseTokens = `WITH req AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])
				WITH ORDINALITY AS r(mailbox, nonce, count, used_at, password, workflows, i)),
		mb AS (SELECT ` + meshsql.MailboxColumns + ` FROM mesh_mailboxes WHERE id = ANY($1::text[])),
		ins AS (INSERT INTO mesh_nonces (mailbox, nonce, count, used_at)
			SELECT req.mailbox, req.nonce, req.count, req.used_at FROM req
			JOIN mb ON mb.id = req.mailbox AND mb.active AND mb.password = req.password
				AND (req.workflows IS NULL OR to_jsonb(coalesce(mb.workflows, '{}')) = req.workflows::jsonb)
			ON CONFLICT DO NOTHING RETURNING mailbox, nonce, count)
		SELECT req.i, mb.id IS NOT NULL, coalesce(mb.id, ''), coalesce(mb.password, ''), coalesce(mb.ods_code, ''),
			coalesce(mb.name, ''), coalesce(mb.active, false), mb.workflows,
			EXISTS (SELECT 1 FROM ins WHERE ins.mailbox = req.mailbox AND ins.nonce = req.nonce AND ins.count = req.count)
		FROM req LEFT JOIN mb ON mb.id = req.mailbox`
