package pgstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/storetest"
)

func TestReceiverStoreContract(t *testing.T) {
	pgstoretest.URL(t)
	storetest.RunReceiver(t, func(t *testing.T) receiver.Store { return pgstoretest.MustOpen(t).Receiver() })
}

// MarkMeshAcked locks its rows in id order, as CompleteMessages locks a
// claimed batch, so the two cannot deadlock. Messages are recorded with
// MESH ids in the opposite order to their ids; while another transaction
// holds the first message, MarkMeshAcked must wait on it holding nothing,
// so the last message can still be locked at once.
func TestMarkMeshAckedLocksInIDOrder(t *testing.T) {
	db := pgstoretest.MustOpen(t)
	s := db.Receiver()
	ctx := t.Context()
	var ps []receiver.RecordMessageParams
	var meshIDs []string
	for i := range 8 {
		id := fmt.Sprintf("20261125000000000000_LOCK%02d", 9-i)
		meshIDs = append(meshIDs, id)
		ps = append(ps, receiver.RecordMessageParams{MeshID: id, WorkflowID: "GPFED_CONSULT_REPORT", From: "X26ABC1", To: "X26ABC2",
			BlobKey: "rcv/lock/" + id, ReceivedAt: time.Now()})
	}
	rec, err := s.RecordMessages(ctx, ps)
	if err != nil {
		t.Fatal(err)
	}
	// Enough other messages that PostgreSQL finds the rows by the mesh_id
	// index, in MESH id order, rather than by reading the table in id order.
	var others []receiver.RecordMessageParams
	for i := range 2000 {
		id := fmt.Sprintf("20261125000000000000_OTHER%04d", i)
		others = append(others, receiver.RecordMessageParams{MeshID: id, WorkflowID: "GPFED_CONSULT_REPORT", From: "X26ABC1", To: "X26ABC2",
			BlobKey: "rcv/lock/" + id, ReceivedAt: time.Now()})
	}
	if _, err := s.RecordMessages(ctx, others); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `ANALYZE receiver_messages`); err != nil {
		t.Fatal(err)
	}
	first, last := rec[0].Message.ID, rec[len(rec)-1].Message.ID
	holder, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(context.WithoutCancel(ctx))
	if _, err := holder.Exec(ctx, `SELECT 1 FROM receiver_messages WHERE id = $1 FOR UPDATE`, first); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.MarkMeshAcked(ctx, meshIDs...) }()
	// Wait until MarkMeshAcked waits for the holder's lock.
	for {
		var waiting bool
		if err := db.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE receiver_messages SET mesh_acked%')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("MarkMeshAcked returned (%v) while message %d was locked", err, first)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := holder.Exec(ctx, `SELECT 1 FROM receiver_messages WHERE id = $1 FOR UPDATE NOWAIT`, last); err != nil {
		t.Fatalf("message %d (the last id) is locked while MarkMeshAcked waits for message %d (the first): %v", last, first, err)
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, r := range rec {
		m, err := s.GetMessage(ctx, r.Message.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !m.MeshAcked {
			t.Fatalf("message %d not marked acknowledged on MESH", m.ID)
		}
	}
}

// The document history is append-only: a trigger refuses to change or
// delete an event (issue 24 §3).
func TestDocumentHistoryIsAppendOnly(t *testing.T) {
	db := pgstoretest.MustOpen(t)
	ctx := t.Context()
	tx, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	// Without a document to point at, for this check only (rolled back).
	if _, err := tx.Exec(ctx, `ALTER TABLE receiver_document_events DROP CONSTRAINT receiver_document_events_document_id_fkey`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO receiver_document_events (document_id, at, kind) VALUES (1, 1, 'noted')`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE receiver_document_events SET actor = 'someone else'`, `DELETE FROM receiver_document_events`} {
		if _, err := tx.Exec(ctx, `SAVEPOINT s`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want the append-only refusal", q, err)
		}
		if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT s`); err != nil {
			t.Fatal(err)
		}
	}
}
