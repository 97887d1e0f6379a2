package sqlitestore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// Every MESH request is one operation of the writer's group commit (see
// batcher): its token recorded and, for a send or an acknowledgement, its
// work, in one savepoint of a transaction shared with the requests waiting
// at the same time. A request whose only write is its token (a download,
// an inbox page, a listing) is lazy: a batch of only such requests commits
// without an fsync (a power cut may forget the last few tokens, whose
// 2-hour window then bounds any replay; a process crash loses none); it
// then reads on the read pool.

// write runs fn in the writer's group commit; lazy as above.
func (s *MeshStore) write(ctx context.Context, what string, lazy bool, fn func(tx meshTx) error) error {
	op := func(tx *sql.Tx) error { return fn(meshTx{db: s.db, tx: tx}) }
	var err error
	if lazy {
		err = s.db.batch.doLazy(ctx, op)
	} else {
		err = s.db.batch.do(ctx, op)
	}
	return meshsql.Err("sqlitestore", what, err)
}

// useToken records tok in tx if its mailbox still holds it, and returns
// the mailbox as stored. The writer runs one transaction at a time, so the
// mailbox read and the insert see the same row.
func useToken(ctx context.Context, tx meshTx, tok meshserver.Token) (meshserver.Mailbox, error) {
	mb, err := scanMailbox(tx.QueryRow(ctx, meshsql.MailboxByID, tok.Seen.ID))
	found := err == nil
	if err != nil && !errors.Is(err, meshsql.ErrNoRows) {
		return mb, err
	}
	if !found || !tok.Holds(mb) {
		return mb, tok.Refused(mb, found)
	}
	n, err := tx.Exec(ctx, meshsql.InsertNonce, meshsql.TokenArgs(times, tok)...)
	if err != nil {
		return mb, err
	}
	if n == 0 {
		return mb, tok.Refused(mb, true)
	}
	return mb, nil
}

// record records tok (nil: nothing) lazily, before a request's reads.
func (s *MeshStore) record(ctx context.Context, tok *meshserver.Token) error {
	if tok == nil {
		return nil
	}
	return s.write(ctx, "record token", true, func(tx meshTx) error {
		_, err := useToken(ctx, tx, *tok)
		return err
	})
}

// Authenticate records tok and returns its mailbox as stored now.
func (s *MeshStore) Authenticate(ctx context.Context, tok meshserver.Token) (meshserver.Mailbox, error) {
	var mb meshserver.Mailbox
	err := s.write(ctx, "authenticate", true, func(tx meshTx) error {
		var err error
		mb, err = useToken(ctx, tx, tok)
		return err
	})
	if err != nil {
		return meshserver.Mailbox{}, err
	}
	return mb, nil
}
