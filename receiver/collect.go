package receiver

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gpcm/gpcm/mesh"
)

// Collect lists the inbox for each Send Document workflow (every page),
// downloads each message not yet stored, stores payload and metadata, and
// only then acknowledges it on MESH. It returns how many messages were
// newly stored.
func (r *Receiver) Collect(ctx context.Context) (int, error) {
	// Acknowledge what an earlier round stored but could not acknowledge.
	pend, err := r.cfg.Store.PendingMeshAcks(ctx, 1000)
	if err != nil {
		return 0, err
	}
	for _, m := range pend {
		r.meshAck(ctx, m.MeshID)
	}
	n := 0
	var errs []error
	for _, wf := range Workflows {
		next := ""
		for {
			page, err := r.cfg.Mesh.InboxPage(ctx, mesh.InboxOptions{WorkflowFilter: wf, MaxResults: r.cfg.PageSize}, next)
			if err != nil {
				errs = append(errs, fmt.Errorf("receiver: list inbox (%s): %w", wf, err))
				break
			}
			for _, id := range page.Messages {
				created, err := r.collectOne(ctx, id)
				if err != nil {
					if ctx.Err() != nil {
						return n, ctx.Err()
					}
					errs = append(errs, err)
					continue
				}
				if created {
					n++
				}
			}
			if page.Links.Next == "" || len(page.Messages) == 0 {
				break
			}
			next = page.Links.Next
		}
	}
	return n, errors.Join(errs...)
}

func (r *Receiver) collectOne(ctx context.Context, meshID string) (bool, error) {
	if m, err := r.cfg.Store.GetMessageByMeshID(ctx, meshID); err == nil {
		// Stored before (the MESH ack was lost): acknowledge again.
		if !m.MeshAcked {
			r.meshAck(ctx, meshID)
		}
		return false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	d, err := r.cfg.Mesh.Get(ctx, meshID)
	if errors.Is(err, mesh.ErrGone) || errors.Is(err, mesh.ErrNotFound) {
		// Another worker sharing the mailbox collected and acknowledged it
		// after we listed it (or MESH expired it and reports that to the
		// sender): nothing to do here.
		r.log.Info("message gone before download", "mesh_id", meshID)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("receiver: download %s: %w", meshID, err)
	}
	defer d.Close()
	md := d.Message
	if md.IsReport() || !slices.Contains(Workflows, md.WorkflowID) {
		// Not ours (a REPORT, or a workflow the filter let through): leave
		// it for whoever handles it.
		r.log.Info("left message in inbox", "mesh_id", meshID, "type", md.Type, "workflow", md.WorkflowID)
		return false, nil
	}
	key := "receiver/messages/" + meshID
	size, err := r.cfg.Blobs.Put(ctx, key, d)
	if err != nil {
		return false, fmt.Errorf("receiver: store payload of %s: %w", meshID, err)
	}
	now := r.cfg.Now()
	m, created, err := r.cfg.Store.RecordMessage(ctx, RecordMessageParams{
		MeshID: meshID, WorkflowID: md.WorkflowID, From: md.From, To: md.To, Subject: md.Subject,
		LocalID: md.LocalID, BlobKey: key, Size: size, ReceivedAt: now,
	})
	if err != nil {
		return false, err
	}
	if created {
		r.metrics.received.Add(1)
		r.log.Info("message stored", "mesh_id", meshID, "id", m.ID, "workflow", md.WorkflowID, "bytes", size)
	}
	r.meshAck(ctx, meshID)
	return created, nil
}

// meshAck acknowledges on MESH and records it; failures are retried by the
// next round (the message is stored, so nothing is lost).
func (r *Receiver) meshAck(ctx context.Context, meshID string) {
	if err := r.cfg.Mesh.Ack(ctx, meshID); err != nil && !errors.Is(err, mesh.ErrNotFound) && !errors.Is(err, mesh.ErrGone) {
		r.log.Warn("MESH acknowledge failed; will retry", "mesh_id", meshID, "err", err)
		return
	}
	if err := r.cfg.Store.MarkMeshAcked(ctx, meshID); err != nil {
		r.log.Warn("recording MESH acknowledge failed", "mesh_id", meshID, "err", err)
	}
}
