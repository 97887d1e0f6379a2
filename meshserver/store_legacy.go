package meshserver

import (
	"context"
	"errors"
	"time"
)

// ErrTokenRefused is returned by TokenOpStore methods that did nothing
// because the token could not be recorded as given (see TokenOpStore).
var ErrTokenRefused = errors.New("meshserver: token not recorded")

// legacyStore is what the server used before RequestStore.
type legacyStore interface {
	AddChunk(ctx context.Context, p AddChunkParams) (Message, error)
	ListInbox(ctx context.Context, p ListInboxParams) ([]Message, error)
	FindByLocalID(ctx context.Context, sender, localID string) ([]Message, error)
	UpdateStatus(ctx context.Context, p UpdateStatusParams) (Message, error)
	UseNonce(ctx context.Context, p UseNonceParams) error
}

// InlineStore is an optional capability of a Store whose database also
// holds small payloads (see Config.InlineBodies).
type InlineStore interface {
	CreateMessageInline(ctx context.Context, m Message, first Chunk, body []byte) error
}

// TokenStore is an optional capability of a Store.
type TokenStore interface {
	UseToken(ctx context.Context, p UseNonceParams, password string) (Mailbox, error)
}

// PendingToken is a request's token whose HMAC this process verified with
// the mailbox it last saw, not yet recorded.
type PendingToken struct {
	UseNonceParams
	Mailbox Mailbox
}

// TokenOpStore is an optional capability of a TokenStore.
type TokenOpStore interface {
	CreateMessageInlineCheckedToken(ctx context.Context, tok PendingToken, m Message, first Chunk, body []byte) error
	ReadChunkToken(ctx context.Context, tok PendingToken, messageID string, n int) (ChunkRead, error)
	AcknowledgeToken(ctx context.Context, tok PendingToken, p UpdateStatusParams) (before Message, moved bool, err error)
	ListInboxIDsToken(ctx context.Context, tok PendingToken, p ListInboxParams, count bool) (ids []string, n int, err error)
}

// ChunkReader is an optional capability of an InlineStore.
type ChunkReader interface {
	ReadChunk(ctx context.Context, messageID string, n int) (ChunkRead, error)
}

// ChunkRead is what ChunkReader.ReadChunk returns.
type ChunkRead = Download

// InboxPager is an optional capability of a Store.
type InboxPager interface {
	ListInboxIDs(ctx context.Context, p ListInboxParams, count bool) (ids []string, n int, err error)
}

// CheckedInlineStore is an optional capability of an InlineStore.
type CheckedInlineStore interface {
	CreateMessageInlineChecked(ctx context.Context, m Message, first Chunk, body []byte) error
}

// AddChunkParams are the arguments of AddChunk.
type AddChunkParams struct {
	Chunk     Chunk
	Now       time.Time
	ExpiresAt time.Time
}

// ListInboxParams are the arguments of ListInbox.
type ListInboxParams struct {
	Mailbox string
	After   string
	Limit   int
	Filter  WorkflowFilter
}

// UpdateStatusParams are the arguments of UpdateStatus.
type UpdateStatusParams struct {
	ID          string
	From        []string
	To          string
	Code        string
	Event       string
	Description string
	At          time.Time
}

// UseNonceParams are the arguments of UseNonce.
type UseNonceParams struct {
	Mailbox string
	Nonce   string
	Count   string
	At      time.Time
}
