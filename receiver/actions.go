package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gpcm/gpcm/itk3"
)

// ErrInvalid is matched by errors from actions given bad input.
var ErrInvalid = errors.New("receiver: invalid request")

// GetDocument returns a document with its attachments.
func (r *Receiver) GetDocument(ctx context.Context, id int64) (Document, error) {
	return r.cfg.Store.GetDocument(ctx, id)
}

// ListDocuments lists the worklist.
func (r *Receiver) ListDocuments(ctx context.Context, p ListDocumentsParams) ([]Document, error) {
	return r.cfg.Store.ListDocuments(ctx, p)
}

// OpenAttachment opens attachment n of a document.
func (r *Receiver) OpenAttachment(ctx context.Context, id int64, n int) (Attachment, io.ReadCloser, error) {
	d, err := r.cfg.Store.GetDocument(ctx, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	for _, a := range d.Attachments {
		if a.Index != n {
			continue
		}
		rc, err := r.cfg.Blobs.Open(ctx, a.BlobKey, 0)
		if err != nil {
			return a, nil, fmt.Errorf("receiver: open message of document %d: %w", id, err)
		}
		body, _, err := readAllLimit(rc, r.cfg.MaxMessageBytes)
		rc.Close()
		if err != nil {
			return a, nil, fmt.Errorf("receiver: read message of document %d: %w", id, err)
		}
		p, ok := parseMessage(body, r.cfg.MaxMessageBytes)
		if !ok || n >= len(p.Attachments) || int64(len(p.Attachments[n].Data)) != a.Size {
			return a, nil, fmt.Errorf("receiver: attachment %d of document %d no longer matches the stored message", n, id)
		}
		return a, io.NopCloser(bytes.NewReader(p.Attachments[n].Data)), nil
	}
	return Attachment{}, nil, fmt.Errorf("attachment %d of document %d: %w", n, id, ErrNotFound)
}

// FileDocument marks a document awaiting filing as filed.
func (r *Receiver) FileDocument(ctx context.Context, id int64) (Document, error) {
	d, err := r.cfg.Store.TransitionDocument(ctx, TransitionParams{ID: id, From: []DocumentState{DocAwaitingFiling}, To: DocFiled, Now: r.cfg.Now()})
	if err != nil {
		return d, err
	}
	r.metrics.filed.Add(1)
	r.log.Info("document filed", "document", id, "message", d.MessageID)
	return d, nil
}

// MatchDocument confirms by hand that a held document is about the
// register's patient: it goes to awaiting filing and the business ack
// (30001, or 30004 for a recently deceased patient) is sent.
func (r *Receiver) MatchDocument(ctx context.Context, id int64) (Document, error) {
	d, err := r.cfg.Store.GetDocument(ctx, id)
	if err != nil {
		return d, err
	}
	if d.State != DocHeld {
		return d, fmt.Errorf("document %d is %s, only a held document can be matched: %w", id, d.State, ErrConflict)
	}
	code := itk3.ResponseCode(d.ConfirmedAckCode)
	if code == 0 {
		code = itk3.CodePatientKnown
	}
	return r.resolveHold(ctx, d, DocAwaitingFiling, code, "matched by hand", r.cfg.Now())
}

// RejectDocument rejects a document with a reason. A held document is
// answered 30002; a document already acknowledged gets no second ack.
func (r *Receiver) RejectDocument(ctx context.Context, id int64, reason string) (Document, error) {
	if reason == "" {
		return Document{}, fmt.Errorf("%w: a reason is required to reject a document", ErrInvalid)
	}
	d, err := r.cfg.Store.GetDocument(ctx, id)
	if err != nil {
		return d, err
	}
	if d.State == DocHeld {
		return r.resolveHold(ctx, d, DocRejected, itk3.CodePatientNotKnown, reason, r.cfg.Now())
	}
	d, err = r.cfg.Store.TransitionDocument(ctx, TransitionParams{ID: id, From: []DocumentState{DocAwaitingFiling, DocNotFiled}, To: DocRejected, Reason: reason, Now: r.cfg.Now()})
	if err != nil {
		return d, err
	}
	r.log.Info("document rejected", "document", id, "message", d.MessageID)
	return d, nil
}
