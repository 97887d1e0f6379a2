package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gpcm/gpcm/blob"
)

// messageKeyPrefix starts the key of every collected message's payload,
// whether the payload is in the blob store or kept inline by the Store.
const messageKeyPrefix = "receiver/messages/"

// payloads is the receiver's view of message payloads: a blob.Store whose
// Open finds a payload the Store keeps inline (small messages, recorded in
// the same transaction as their metadata) before looking in the blob store.
// Every reader of a payload (processing, attachment download) goes through
// it, so where a payload lives is decided only when it is collected.
type payloads struct {
	blob.Store
	msgs MessageStore
}

// Open returns the payload under key from off.
func (p payloads) Open(ctx context.Context, key string, off int64) (io.ReadCloser, error) {
	if meshID, ok := strings.CutPrefix(key, messageKeyPrefix); ok {
		b, err := p.msgs.MessagePayload(ctx, meshID)
		switch {
		case err == nil:
			return io.NopCloser(bytes.NewReader(b[min(max(off, 0), int64(len(b))):])), nil
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("receiver: open payload of %s: %w", meshID, err)
		}
	}
	return p.Store.Open(ctx, key, off)
}

// Size reports a payload's length.
func (p payloads) Size(ctx context.Context, key string) (int64, error) {
	if meshID, ok := strings.CutPrefix(key, messageKeyPrefix); ok {
		b, err := p.msgs.MessagePayload(ctx, meshID)
		switch {
		case err == nil:
			return int64(len(b)), nil
		case !errors.Is(err, ErrNotFound):
			return 0, fmt.Errorf("receiver: size of payload of %s: %w", meshID, err)
		}
	}
	return p.Store.Size(ctx, key)
}

// openPayload returns the whole payload of a claimed message (at most
// MaxMessageBytes; tooBig reports more).
func (r *Receiver) openPayload(ctx context.Context, m Message) (body []byte, tooBig bool, err error) {
	if m.TooLarge {
		return m.Payload, true, nil // the head only
	}
	if m.Payload != nil {
		if int64(len(m.Payload)) > r.cfg.MaxMessageBytes {
			return m.Payload[:r.cfg.MaxMessageBytes], true, nil
		}
		return m.Payload, false, nil
	}
	rc, err := r.cfg.Blobs.Open(ctx, m.BlobKey, 0)
	if err != nil {
		return nil, false, fmt.Errorf("receiver: open payload of message %d: %w", m.ID, err)
	}
	defer rc.Close()
	size, err := r.cfg.Blobs.Size(ctx, m.BlobKey)
	if err != nil {
		size = 0 // read it without knowing its length
	}
	body, tooBig, err = readAllLimit(rc, r.cfg.MaxMessageBytes, size)
	if err != nil {
		return nil, false, fmt.Errorf("receiver: read payload of message %d: %w", m.ID, err)
	}
	return body, tooBig, nil
}
