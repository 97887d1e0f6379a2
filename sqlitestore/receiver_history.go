package sqlitestore

import (
	"context"
	"fmt"

	"github.com/gpcm/gpcm/internal/rcvsql"
	"github.com/gpcm/gpcm/receiver"
)

// rcvAddEvents appends events to a document's history.
func rcvAddEvents(ctx context.Context, tx rcvExecer, docID, now int64, evs []receiver.NewDocumentEvent) error {
	for _, e := range evs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO receiver_document_events (document_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?)`,
			docID, now, string(e.Kind), e.By, e.Detail); err != nil {
			return fmt.Errorf("sqlitestore: history of document %d: %w", docID, err)
		}
	}
	return nil
}

// AnnotateDocument records a note or an assignment with its event.
func (s *ReceiverStore) AnnotateDocument(ctx context.Context, p receiver.AnnotateParams) (doc receiver.Document, err error) {
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return doc, fmt.Errorf("sqlitestore: document %d: %w", p.ID, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	now := toMicros(p.Now)
	set, args := `updated_at = ?`, []any{now}
	if p.AssignTo != nil {
		set, args = set+`, assigned_to = ?`, append(args, *p.AssignTo)
	}
	res, err := tx.ExecContext(ctx, `UPDATE receiver_documents SET `+set+` WHERE id = ?`, append(args, p.ID)...)
	if err != nil {
		return doc, fmt.Errorf("sqlitestore: document %d: %w", p.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		err = fmt.Errorf("document %d: %w", p.ID, receiver.ErrNotFound)
		return doc, err
	}
	if err = rcvAddEvents(ctx, tx, p.ID, now, []receiver.NewDocumentEvent{p.Event}); err != nil {
		return doc, err
	}
	if doc, err = rcvGetDoc(ctx, tx, p.ID); err != nil {
		return doc, err
	}
	if err = tx.Commit(); err != nil {
		return doc, fmt.Errorf("sqlitestore: document %d: %w", p.ID, err)
	}
	return doc, nil
}

// DocumentEvents lists a document's history, oldest first; ErrNotFound for
// an unknown document.
func (s *ReceiverStore) DocumentEvents(ctx context.Context, id int64) ([]receiver.DocumentEvent, error) {
	rows, err := s.db.read.QueryContext(ctx, rcvsql.EventsQuery("?"), id)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: history of document %d: %w", id, err)
	}
	defer rows.Close()
	out := []receiver.DocumentEvent{}
	var r rcvsql.EventRow
	for rows.Next() {
		if err := rows.Scan(r.Dest()...); err != nil {
			return nil, fmt.Errorf("sqlitestore: history of document %d: %w", id, err)
		}
		out = append(out, r.Event())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: history of document %d: %w", id, err)
	}
	if len(out) == 0 { // no history yet, or no such document
		if _, err := s.GetDocument(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LatestDocumentEvent is the newest history event's id.
func (s *ReceiverStore) LatestDocumentEvent(ctx context.Context) (int64, error) {
	var n *int64
	if err := s.db.read.QueryRowContext(ctx, `SELECT max(id) FROM receiver_document_events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlitestore: latest document event: %w", err)
	}
	if n == nil {
		return 0, nil
	}
	return *n, nil
}
