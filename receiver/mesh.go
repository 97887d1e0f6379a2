package receiver

import (
	"context"

	"github.com/gpcm/gpcm/mesh"
)

// Mesh is the part of a MESH mailbox client the receiver calls;
// *mesh.Client satisfies it.
type Mesh interface {
	// Mailbox is the receiver's own mailbox ID.
	Mailbox() string
	// InboxPage lists one page of the inbox; next is "" for the first.
	InboxPage(ctx context.Context, opts mesh.InboxOptions, next string) (mesh.InboxResponse, error)
	// Download opens a message for reading; with opts.MaxBytes the
	// reader stops with a *mesh.TooLargeError past that many
	// (decompressed) bytes.
	Download(ctx context.Context, messageID string, opts mesh.DownloadOptions) (*mesh.Download, error)
	// Ack acknowledges a downloaded message.
	Ack(ctx context.Context, messageID string) error
	// Send sends a message (the acknowledgements).
	Send(ctx context.Context, req mesh.SendRequest) (mesh.SendResult, error)
}

// LocalIDTracker is an optional capability of a Mesh: finding a message this
// mailbox sent by its local ID. With it, an ack whose send may have
// succeeded before a crash is looked up instead of sent again.
type LocalIDTracker interface {
	TrackLocalID(ctx context.Context, localID string) (mesh.Tracking, error)
}

var (
	_ Mesh           = (*mesh.Client)(nil)
	_ LocalIDTracker = (*mesh.Client)(nil)
)
