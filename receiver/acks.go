package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/senddoc"
)

// SendAcks claims a batch of unsent acknowledgements and sends them to the
// original senders' mailboxes concurrently; the sent marks are recorded in
// one transaction after MESH accepted them. It returns how many were sent.
func (r *Receiver) SendAcks(ctx context.Context) (int, error) {
	acks, err := r.cfg.Store.ClaimAcks(ctx, ClaimParams{Owner: r.cfg.Owner, Now: r.cfg.Now(), Lease: r.cfg.Lease, Limit: r.cfg.Batch})
	if err != nil || len(acks) == 0 {
		return 0, err
	}
	meshIDs := make([]string, len(acks))
	idx := make([]int, len(acks))
	for i := range idx {
		idx[i] = i
	}
	err = forEach(r.cfg.Workers, idx, func(i int) error {
		a := acks[i]
		meshID, err := r.sendAck(ctx, a)
		if err != nil {
			errs := []error{err}
			if rerr := r.cfg.Store.ReleaseAck(context.WithoutCancel(ctx), a.ID, r.cfg.Owner, err.Error(), r.cfg.Now().Add(backoff(a.Attempts))); rerr != nil {
				errs = append(errs, rerr)
			}
			if ctx.Err() == nil {
				r.log.Warn("sending ack failed; will retry", "ack", a.ID, "message", a.MessageID, "code", a.Code, "err", err)
			}
			return errors.Join(errs...)
		}
		meshIDs[i] = meshID
		return nil
	})
	var sent []AckSent
	for i, a := range acks {
		if meshIDs[i] != "" {
			sent = append(sent, AckSent{ID: a.ID, MeshID: meshIDs[i]})
		}
	}
	// MESH has them: record that even if ctx ended meanwhile. Should this
	// fail, the claims run out and the next send finds each in the outbox.
	if merr := r.cfg.Store.MarkAcksSent(context.WithoutCancel(ctx), sent, r.cfg.Now()); merr != nil {
		return 0, errors.Join(err, merr)
	}
	for i, a := range acks {
		if meshIDs[i] != "" {
			r.metrics.ackSent(a.Code)
			r.log.Info("ack sent", "ack", a.ID, "message", a.MessageID, "kind", a.Kind, "code", a.Code, "mesh_id", meshIDs[i], "response_header_id", a.HeaderID)
		}
	}
	if ctx.Err() != nil {
		return len(sent), ctx.Err()
	}
	return len(sent), err
}

// sendAck sends one ack. Its Mex-LocalID is the responder's ODS code
// (itk3.md §5.3; the sender matches responses by
// MessageHeader.response.identifier, never by local ID) and its file name
// is the response's own MessageHeader.id, which is how a retry finds an
// ack whose earlier send may have reached MESH.
func (r *Receiver) sendAck(ctx context.Context, a Ack) (string, error) {
	file := a.HeaderID + ".xml"
	if a.Attempts > 1 {
		// A previous claim may have sent it and crashed before recording.
		if id := r.findSentAck(ctx, a, file); id != "" {
			return id, nil
		}
	}
	res, err := r.cfg.Mesh.Send(ctx, mesh.SendRequest{
		To: a.To, WorkflowID: a.WorkflowID, LocalID: r.cfg.ODSCode, Filename: file,
		ContentType: "application/fhir+xml", Body: bytes.NewReader(a.Body), Size: int64(len(a.Body)),
	})
	if err != nil {
		return "", fmt.Errorf("receiver: send %s ack %d: %w", itk3.ResponseCode(a.Code), a.ID, err)
	}
	return res.MessageID, nil
}

// maxSentCandidates bounds the messages tracked to find one ack.
const maxSentCandidates = 100

// findSentAck looks for the ack among the messages this mailbox sent to
// its recipient on its workflow since shortly before the ack was made that
// no recorded ack holds (after a crash: the few whose sends were not
// recorded), newest first, and returns its MESH id, or "" (then it is sent
// again: at worst a duplicate ack, which the sender ignores).
func (r *Receiver) findSentAck(ctx context.Context, a Ack, file string) string {
	f, ok := r.cfg.Mesh.(SentFinder)
	if !ok {
		return ""
	}
	sent, err := f.RichOutbox(ctx, mesh.RichInboxOptions{StartTime: a.CreatedAt.Add(-10 * time.Minute)})
	if err != nil {
		r.log.Warn("listing the outbox to find an ack failed; sending it again", "ack", a.ID, "err", err)
		return ""
	}
	var ids []string
	for _, m := range sent {
		if strings.EqualFold(m.Recipient, a.To) && m.WorkflowID == a.WorkflowID {
			ids = append(ids, m.MessageID)
		}
	}
	known := map[string]bool{}
	for part := range slices.Chunk(ids, 500) {
		k, err := r.cfg.Store.SentAckMeshIDs(ctx, part)
		if err != nil {
			r.log.Warn("looking up sent acks failed; sending it again", "ack", a.ID, "err", err)
			return ""
		}
		maps.Copy(known, k)
	}
	n := 0
	for _, id := range ids {
		if known[id] {
			continue
		}
		if n++; n > maxSentCandidates {
			break
		}
		if tr, err := f.Track(ctx, id); err == nil && tr.Filename == file {
			return id
		}
	}
	return ""
}

// ExpireHolds answers 30002 for held documents whose deadline passed
// without a person deciding.
func (r *Receiver) ExpireHolds(ctx context.Context) (int, error) {
	now := r.cfg.Now()
	docs, err := r.cfg.Store.HeldPastDeadline(ctx, now, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, d := range docs {
		_, err := r.resolveHold(ctx, d, TransitionParams{To: DocNotFiled, Reason: "no decision before the review deadline", Now: now,
			Events: []NewDocumentEvent{{Kind: EventNotFiled, Detail: "no decision before the review deadline"}}}, itk3.CodePatientNotKnown, "")
		if errors.Is(err, ErrConflict) {
			continue // someone decided meanwhile
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// resolveHold moves a held document to p.To with its business ack (code),
// in one transition: p names the target state, reason, time, events and,
// for a match by hand, the register patient chosen; diag explains a
// negative code to the sender.
func (r *Receiver) resolveHold(ctx context.Context, d Document, p TransitionParams, code itk3.ResponseCode, diag string) (Document, error) {
	m, err := r.cfg.Store.GetMessage(ctx, d.MessageID)
	if err != nil {
		return Document{}, err
	}
	p.ID, p.From = d.ID, []DocumentState{DocHeld}
	if acks, err := r.busAckFor(m, code, diag, p.Now); err != nil {
		return Document{}, err
	} else if len(acks) > 0 {
		p.Acks, p.BusAckCode = acks, int(code)
		by := ""
		if len(p.Events) > 0 {
			by = p.Events[0].By
		}
		p.Events = append(p.Events, busAckEvent(int(code), by))
	}
	nd, err := r.cfg.Store.TransitionDocument(ctx, p)
	if err != nil {
		return Document{}, err
	}
	for _, a := range p.Acks {
		r.metrics.ackEnqueued(a.Code)
	}
	attrs := []any{"document", d.ID, "message", d.MessageID, "state", p.To, "busack", int(code)}
	if p.Match != nil {
		attrs = append(attrs, "matched_by_hand", true, "by", p.Match.By)
	}
	r.log.Info("held document resolved", attrs...)
	r.changes.publish(DocumentChange{ID: nd.ID})
	r.Kick()
	return nd, nil
}

// busAckFor builds the business ack of a held message, if the sender asked
// for one. The message's stored payload tells whether it did.
func (r *Receiver) busAckFor(m Message, code itk3.ResponseCode, diag string, now time.Time) ([]NewAck, error) {
	if !m.BusAckRequested {
		return nil, nil
	}
	to := m.From
	rep := reportOf(m)
	ack, err := r.buildAck(AckBus, code, diag, rep, m, to, now)
	if err != nil {
		return nil, err
	}
	return []NewAck{ack}, nil
}

func reportOf(m Message) senddoc.Report {
	return senddoc.Report{MessageHeaderID: m.HeaderID, SenderReference: m.SenderReference}
}
