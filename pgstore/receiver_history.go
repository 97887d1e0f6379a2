package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gpcm/gpcm/internal/rcvsql"
	"github.com/gpcm/gpcm/receiver"
)

// rcvAddEvents appends events to a document's history.
func rcvAddEvents(ctx context.Context, tx pgx.Tx, docID, now int64, evs []receiver.NewDocumentEvent) error {
	for _, e := range evs {
		if _, err := tx.Exec(ctx, `INSERT INTO receiver_document_events (document_id, at, kind, actor, detail) VALUES ($1, $2, $3, $4, $5)`,
			docID, now, string(e.Kind), e.By, e.Detail); err != nil {
			return fmt.Errorf("history of document %d: %w", docID, err)
		}
	}
	return nil
}

// AnnotateDocument records a note or an assignment with its event.
func (s *ReceiverStore) AnnotateDocument(ctx context.Context, p receiver.AnnotateParams) (receiver.Document, error) {
	var doc receiver.Document
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		now := micros(p.Now)
		assign, to := p.AssignTo != nil, ""
		if assign {
			to = *p.AssignTo
		}
		tag, err := tx.Exec(ctx, `UPDATE receiver_documents SET updated_at = $1, assigned_to = CASE WHEN $2 THEN $3 ELSE assigned_to END WHERE id = $4`,
			now, assign, to, p.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("document %d: %w", p.ID, receiver.ErrNotFound)
		}
		if err := rcvAddEvents(ctx, tx, p.ID, now, []receiver.NewDocumentEvent{p.Event}); err != nil {
			return err
		}
		doc, err = rcvGetDoc(ctx, tx, p.ID, "")
		return err
	})
	if err != nil {
		return doc, rcvErr(fmt.Sprintf("document %d", p.ID), err)
	}
	return doc, nil
}

// DocumentEvents lists a document's history, oldest first; ErrNotFound for
// an unknown document.
func (s *ReceiverStore) DocumentEvents(ctx context.Context, id int64) ([]receiver.DocumentEvent, error) {
	rows, _ := s.db.pool.Query(ctx, rcvsql.EventsQuery("$1"), id)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (receiver.DocumentEvent, error) {
		var r rcvsql.EventRow
		err := row.Scan(r.Dest()...)
		return r.Event(), err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: history of document %d: %w", id, err)
	}
	if len(out) == 0 { // no history yet, or no such document
		if _, err := s.GetDocument(ctx, id); err != nil {
			return nil, err
		}
		out = []receiver.DocumentEvent{}
	}
	return out, nil
}

// LatestDocumentEvent is the newest history event's id.
func (s *ReceiverStore) LatestDocumentEvent(ctx context.Context) (int64, error) {
	var n *int64
	if err := s.db.pool.QueryRow(ctx, `SELECT max(id) FROM receiver_document_events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: latest document event: %w", err)
	}
	if n == nil {
		return 0, nil
	}
	return *n, nil
}
