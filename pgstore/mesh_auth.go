package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/gpcm/gpcm/meshserver"
)

// A MESH message costs its sender and its recipient three requests (a small
// send, a download, an acknowledgement) and a share of the recipient's
// inbox pages, and each request spends a token. Recording the token on its
// own and then doing the work took two or three statements per request,
// and the token statements alone were a large share of PostgreSQL's CPU
// per message (docs/benchmarks.md). So those four requests record their
// token in a data-modifying CTE of the statement that does the work, which
// runs only if the token was recorded: one round trip each. The others
// (Authenticate, Rich, Track) record theirs through the token batcher
// (tokens.go), then read.

// tokenCTE is the CTE "tok" recording a request's token (its six
// arguments numbered from $n, see tokenArgs): one row if the token was
// recorded, none if it was used before or its mailbox no longer holds it.
// Without a token "tok" is one row: nothing to record.
func tokenCTE(token bool, n int) string {
	if !token {
		return `tok AS (SELECT 1)`
	}
	p := func(i int) string { return "$" + strconv.Itoa(n+i) }
	return `tok AS (INSERT INTO mesh_nonces (mailbox, nonce, count, used_at)
		SELECT id, ` + p(1) + `, ` + p(2) + `, ` + p(3) + ` FROM mesh_mailboxes
		WHERE id = ` + p(0) + ` AND active AND password = ` + p(4) + `
			AND coalesce(workflows, '{}') = coalesce(` + p(5) + `::text[], '{}')
		ON CONFLICT DO NOTHING RETURNING 1)`
}

// tokenArgs are the arguments of tokenCTE for tok (none for nil).
func tokenArgs(tok *meshserver.Token) []any {
	if tok == nil {
		return nil
	}
	wf, _ := workflows.Arg(tok.Seen.Workflows)
	return []any{tok.Seen.ID, tok.Nonce, tok.Count, tok.At.UTC(), tok.Seen.Password, wf}
}

// recordedNoWait is the first column of the statements whose only write
// is their token (a download, an inbox page): whether the token was
// recorded. When it was, the statement's commit does not wait for the WAL
// flush, as the token batcher's never do. Should PostgreSQL crash within
// the WAL writer's delay (200 ms by default, at most three times that),
// such a token may be forgotten and the same signed request accepted once
// more: it only reads what its caller was already given, and its header
// travels only inside TLS. Sends and acknowledgements commit their token
// with their work, waiting for the flush. Not waiting spares downloads and
// listings a share of the WAL flushes, and the disk stalls that come with
// them.
const recordedNoWait = `(SELECT count(*) FROM tok WHERE set_config('synchronous_commit', 'off', true) = 'off')`

// refused is the error of a statement that did not record tok: it reads
// the mailbox to tell a replay from a changed mailbox.
func (s *MeshStore) refused(ctx context.Context, tok meshserver.Token) error {
	mb, err := s.GetMailbox(ctx, tok.Seen.ID)
	switch {
	case errors.Is(err, meshserver.ErrNotFound):
		return tok.Refused(mb, false)
	case err != nil:
		return err
	}
	return tok.Refused(mb, true)
}

// Authenticate records tok through the token batcher, which records the
// tokens of concurrent requests together: one statement and one round trip
// per batch, committed without waiting for the WAL flush. Two concurrent
// uses of one token, in one process or several: exactly one succeeds.
func (s *MeshStore) Authenticate(ctx context.Context, tok meshserver.Token) (meshserver.Mailbox, error) {
	tb := s.db.tokenBatcher()
	if tb == nil {
		return meshserver.Mailbox{}, errClosed
	}
	wf, err := json.Marshal(tok.Seen.Workflows)
	if len(tok.Seen.Workflows) == 0 {
		wf = []byte("[]")
	}
	if err != nil {
		return meshserver.Mailbox{}, fmt.Errorf("pgstore: authenticate: %w", err)
	}
	w := string(wf)
	res, err := tb.use(ctx, tokenReq{mailbox: tok.Seen.ID, nonce: tok.Nonce, count: tok.Count, at: tok.At.UTC(),
		password: tok.Seen.Password, workflows: &w})
	switch {
	case err != nil:
		return meshserver.Mailbox{}, err
	case !res.inserted:
		return meshserver.Mailbox{}, tok.Refused(res.mb, res.found)
	}
	return res.mb, nil
}

// record records tok (nil: nothing) through the token batcher, for the
// requests that then only read.
func (s *MeshStore) record(ctx context.Context, tok *meshserver.Token) error {
	if tok == nil {
		return nil
	}
	_, err := s.Authenticate(ctx, *tok)
	return err
}
