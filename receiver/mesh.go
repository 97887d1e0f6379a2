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

// SentFinder is an optional capability of a Mesh: listing what this
// mailbox sent and tracking one message. With it, an ack whose send may
// have succeeded before a crash is found by its file name (each ack's is
// unique: its own MessageHeader.id) instead of being sent again.
type SentFinder interface {
	RichOutbox(ctx context.Context, opts mesh.RichInboxOptions) ([]mesh.RichMessage, error)
	Track(ctx context.Context, messageID string) (mesh.Tracking, error)
}

var (
	_ Mesh       = (*mesh.Client)(nil)
	_ SentFinder = (*mesh.Client)(nil)
)
