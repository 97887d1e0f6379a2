package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/mesh"
)

// Collect lists the inbox for each Send Document workflow (every page),
// downloads each message not yet stored, stores payload and metadata, and
// only then acknowledges it on MESH. It returns how many messages were
// newly stored.
func (r *Receiver) Collect(ctx context.Context) (int, error) {
	return r.collect(ctx, nil)
}

// collect is Collect calling stored, if set, whenever messages were newly
// stored.
func (r *Receiver) collect(ctx context.Context, stored func()) (int, error) {
	// Acknowledge what an earlier round stored but could not acknowledge.
	pend, err := r.cfg.Store.PendingMeshAcks(ctx, 1000)
	if err != nil {
		return 0, err
	}
	ids := make([]string, len(pend))
	for i, m := range pend {
		ids[i] = m.MeshID
	}
	r.meshAckAll(ctx, ids)
	n := 0
	var errs []error
	for _, wf := range r.workflows() {
		next := ""
		for {
			page, err := r.cfg.Mesh.InboxPage(ctx, mesh.InboxOptions{WorkflowFilter: wf, MaxResults: r.cfg.PageSize}, next)
			if err != nil {
				errs = append(errs, fmt.Errorf("receiver: list inbox (%s): %w", wf, err))
				break
			}
			c, err := r.collectPage(ctx, page.Messages, stored)
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

// fetched is a downloaded message: its payload inline, or in the blob
// store under key.
type fetched struct {
	meshID  string
	md      mesh.Message
	key     string
	size    int64
	payload []byte
	// tooLarge: beyond MaxMessageBytes; payload is the head only.
	tooLarge bool
}

// collectPage collects a page in parts of Batch messages, so that
// processing can start on the first part while the rest downloads.
func (r *Receiver) collectPage(ctx context.Context, ids []string, stored func()) (int, error) {
	n := 0
	var errs []error
	for part := range slices.Chunk(ids, max(r.cfg.Batch, r.cfg.Workers)) {
		c, err := r.collectPart(ctx, part)
		n += c
		if c > 0 && stored != nil {
			stored()
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// collectPart downloads messages concurrently, records the new ones in
// listing (arrival) order in one transaction, then acknowledges them on
// MESH (and those an earlier round stored but could not acknowledge).
func (r *Receiver) collectPart(ctx context.Context, ids []string) (int, error) {
	known, err := r.cfg.Store.KnownMeshIDs(ctx, ids)
	if err != nil {
		return 0, err
	}
	var todo, toAck []string
	for _, id := range ids {
		acked, ok := known[id]
		switch {
		case !ok:
			todo = append(todo, id)
		case !acked:
			// Stored before (the MESH ack was lost): acknowledge again.
			toAck = append(toAck, id)
		}
	}
	got := make([]*fetched, len(todo))
	idx := make([]int, len(todo))
	for i := range idx {
		idx[i] = i
	}
	var errs []error
	if err := forEach(r.cfg.Workers, idx, func(i int) error {
		f, err := r.fetch(ctx, todo[i])
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
				LocalID: f.md.LocalID, BlobKey: f.key, Size: f.size, ReceivedAt: r.cfg.Now(), Payload: f.payload, TooLarge: f.tooLarge,
			})
		}
	}
	n := 0
	if len(params) > 0 {
		recs, err := r.cfg.Store.RecordMessages(ctx, params)
		if err != nil {
			return 0, errors.Join(append(errs, err)...)
		}
		for _, rec := range recs {
			if rec.Created {
				n++
				r.metrics.received.Add(1)
				r.log.Info("message stored", "mesh_id", rec.Message.MeshID, "id", rec.Message.ID, "workflow", rec.Message.WorkflowID, "bytes", rec.Message.Size)
			}
			toAck = append(toAck, rec.Message.MeshID)
		}
	}
	r.meshAckAll(ctx, toAck)
	return n, errors.Join(errs...)
}

// meshAckAll acknowledges stored messages on MESH concurrently and records
// the acknowledgements in one statement; failures are retried by the next
// round (the messages are stored, so nothing is lost).
func (r *Receiver) meshAckAll(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	var mu sync.Mutex
	var acked []string
	_ = forEach(r.cfg.Workers, ids, func(id string) error {
		if err := r.cfg.Mesh.Ack(ctx, id); err != nil && !errors.Is(err, mesh.ErrNotFound) && !errors.Is(err, mesh.ErrGone) {
			r.log.Warn("MESH acknowledge failed; will retry", "mesh_id", id, "err", err)
			return nil
		}
		mu.Lock()
		acked = append(acked, id)
		mu.Unlock()
		return nil
	})
	if err := r.cfg.Store.MarkMeshAcked(context.WithoutCancel(ctx), acked...); err != nil {
		r.log.Warn("recording MESH acknowledgements failed", "err", err)
	}
}

// fetch downloads one message: a payload up to InlineMax is kept in
// memory for the Store, a larger one streamed into the blob store. It
// returns nil when there is nothing to record (gone, or not ours).
//
// The download is bounded by MaxMessageBytes after decompression (issue 17
// §4): a larger payload is never written beyond that (the partial blob is
// removed) and the message is recorded TooLarge with its head only, to be
// answered 20015 by its MessageHeader.id.
func (r *Receiver) fetch(ctx context.Context, meshID string) (*fetched, error) {
	d, err := r.cfg.Mesh.Download(ctx, meshID, mesh.DownloadOptions{MaxBytes: r.cfg.MaxMessageBytes})
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
	if md.IsReport() || r.capabilityFor(md.WorkflowID) == nil {
		// Not ours (a REPORT, or a workflow the filter let through): leave
		// it for whoever handles it.
		r.log.Info("left message in inbox", "mesh_id", meshID, "type", md.Type, "workflow", md.WorkflowID)
		return nil, nil
	}
	f := &fetched{meshID: meshID, md: md, key: messageKeyPrefix + meshID}
	// The head of a message larger than the limit is kept to answer it.
	head := &headBuffer{max: headKeep}
	var first []byte
	if r.cfg.InlineMax >= 0 {
		first, err = io.ReadAll(io.LimitReader(d, r.cfg.InlineMax+1))
		head.b = first[:min(len(first), head.max):min(len(first), head.max)]
		if errors.Is(err, mesh.ErrTooLarge) {
			return r.tooLarge(f, head.b), nil
		}
		if err != nil {
			return nil, fmt.Errorf("receiver: download %s: %w", meshID, err)
		}
		if int64(len(first)) <= r.cfg.InlineMax {
			if first == nil {
				first = []byte{}
			}
			f.payload, f.size = first, int64(len(first))
			return f, nil
		}
	}
	var rest io.Reader = d
	if len(head.b) < head.max {
		rest = io.TeeReader(d, head)
	}
	src := io.MultiReader(bytes.NewReader(first), rest)
	f.size, err = r.cfg.Blobs.Put(ctx, f.key, src)
	if errors.Is(err, mesh.ErrTooLarge) {
		// The store removed its partial copy when the body failed; make
		// sure of it (a store that kept one would hold up to the limit).
		if derr := r.cfg.Blobs.Delete(context.WithoutCancel(ctx), f.key); derr != nil && !errors.Is(derr, blob.ErrNotFound) {
			return nil, fmt.Errorf("receiver: remove the partial payload of %s: %w", meshID, derr)
		}
		return r.tooLarge(f, head.b), nil
	}
	if err != nil {
		return nil, fmt.Errorf("receiver: store payload of %s: %w", meshID, err)
	}
	return f, nil
}

// headKeep is how much of a too-large message is kept: enough for the
// message Bundle's identifier and its MessageHeader, which come first.
const headKeep = 64 << 10

// tooLarge turns a download cut at MaxMessageBytes into a record of the
// message's head, answered 20015.
func (r *Receiver) tooLarge(f *fetched, head []byte) *fetched {
	r.log.Warn("message larger than the limit; only its head kept", "mesh_id", f.meshID, "max_bytes", r.cfg.MaxMessageBytes)
	f.key, f.tooLarge = "", true
	f.payload, f.size = append([]byte{}, head...), r.cfg.MaxMessageBytes
	return f
}

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	b   []byte
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if n := min(len(p), h.max-len(h.b)); n > 0 {
		h.b = append(h.b, p[:n]...)
	}
	return len(p), nil
}
