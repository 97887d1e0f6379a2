package receiver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

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
			c, err := r.collectPage(ctx, page.Messages)
			n += c
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			if err != nil {
				errs = append(errs, err)
			}
			if page.Links.Next == "" || len(page.Messages) == 0 {
				break
			}
			next = page.Links.Next
		}
	}
	return n, errors.Join(errs...)
}

// fetched is a downloaded message whose payload is in the blob store.
type fetched struct {
	meshID string
	md     mesh.Message
	key    string
	size   int64
}

// collectPage downloads a page's new messages concurrently, records them
// in listing (arrival) order, then acknowledges them on MESH.
func (r *Receiver) collectPage(ctx context.Context, ids []string) (int, error) {
	got := make([]*fetched, len(ids))
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	var errs []error
	if err := forEach(r.cfg.Workers, idx, func(i int) error {
		f, err := r.fetch(ctx, ids[i])
		got[i] = f
		return err
	}); err != nil {
		errs = append(errs, err)
	}
	var params []RecordMessageParams
	for _, f := range got {
		if f != nil {
			params = append(params, RecordMessageParams{
				MeshID: f.meshID, WorkflowID: f.md.WorkflowID, From: f.md.From, To: f.md.To, Subject: f.md.Subject,
				LocalID: f.md.LocalID, BlobKey: f.key, Size: f.size, ReceivedAt: r.cfg.Now(),
			})
		}
	}
	if len(params) == 0 {
		return 0, errors.Join(errs...)
	}
	recs, err := r.cfg.Store.RecordMessages(ctx, params)
	if err != nil {
		return 0, errors.Join(append(errs, err)...)
	}
	n := 0
	var toAck []string
	for _, rec := range recs {
		if rec.Created {
			n++
			r.metrics.received.Add(1)
			r.log.Info("message stored", "mesh_id", rec.Message.MeshID, "id", rec.Message.ID, "workflow", rec.Message.WorkflowID, "bytes", rec.Message.Size)
		}
		toAck = append(toAck, rec.Message.MeshID)
	}
	// Acknowledge on MESH only now that the messages are stored.
	var mu sync.Mutex
	var acked []string
	_ = forEach(r.cfg.Workers, toAck, func(id string) error {
		if err := r.cfg.Mesh.Ack(ctx, id); err != nil && !errors.Is(err, mesh.ErrNotFound) && !errors.Is(err, mesh.ErrGone) {
			r.log.Warn("MESH acknowledge failed; will retry", "mesh_id", id, "err", err)
			return nil
		}
		mu.Lock()
		acked = append(acked, id)
		mu.Unlock()
		return nil
	})
	if err := r.cfg.Store.MarkMeshAcked(ctx, acked...); err != nil {
		r.log.Warn("recording MESH acknowledgements failed", "err", err)
	}
	return n, errors.Join(errs...)
}

// fetch downloads one message into the blob store; nil when there is
// nothing to record (stored before, gone, or not ours).
func (r *Receiver) fetch(ctx context.Context, meshID string) (*fetched, error) {
	if m, err := r.cfg.Store.GetMessageByMeshID(ctx, meshID); err == nil {
		// Stored before (the MESH ack was lost): acknowledge again.
		if !m.MeshAcked {
			r.meshAck(ctx, meshID)
		}
		return nil, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	d, err := r.cfg.Mesh.Get(ctx, meshID)
	if errors.Is(err, mesh.ErrGone) || errors.Is(err, mesh.ErrNotFound) {
		// Another worker sharing the mailbox collected and acknowledged it
		// after we listed it (or MESH expired it and reports that to the
		// sender): nothing to do here.
		r.log.Info("message gone before download", "mesh_id", meshID)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("receiver: download %s: %w", meshID, err)
	}
	defer d.Close()
	md := d.Message
	if md.IsReport() || !slices.Contains(Workflows, md.WorkflowID) {
		// Not ours (a REPORT, or a workflow the filter let through): leave
		// it for whoever handles it.
		r.log.Info("left message in inbox", "mesh_id", meshID, "type", md.Type, "workflow", md.WorkflowID)
		return nil, nil
	}
	key := "receiver/messages/" + meshID
	size, err := r.cfg.Blobs.Put(ctx, key, d)
	if err != nil {
		return nil, fmt.Errorf("receiver: store payload of %s: %w", meshID, err)
	}
	return &fetched{meshID: meshID, md: md, key: key, size: size}, nil
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
