package meshserver

import (
	"context"
	"errors"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

// Sentinel errors returned (possibly wrapped) by Store implementations.
var (
	// ErrNotFound: the mailbox, message or patient does not exist.
	ErrNotFound = errors.New("meshserver: not found")
	// ErrConflict: the row exists already, or is not in a state that allows
	// the change (for example a chunk for a message no longer uploading).
	ErrConflict = errors.New("meshserver: conflict")
	// ErrReplay: an authentication token (mailbox, nonce, count) was used before.
	ErrReplay = errors.New("meshserver: token already used")
	// ErrRecipient: the recipient mailbox is unknown, inactive or does not
	// take the message's workflow (see CheckedInlineStore).
	ErrRecipient = errors.New("meshserver: recipient cannot take the message")
	// ErrTokenRefused is returned by TokenOpStore methods that did nothing
	// because the token could not be recorded as given (see TokenOpStore).
	ErrTokenRefused = errors.New("meshserver: token not recorded")
)

// Message statuses, as tracking shows them in v2 (lower-case).
const (
	StatusUploading     = mesh.StatusUploading
	StatusAccepted      = mesh.StatusAccepted
	StatusAcknowledged  = mesh.StatusAcknowledged
	StatusUndeliverable = mesh.StatusUndeliverable
	StatusError         = mesh.StatusError
)

// Message types.
const (
	TypeData   = mesh.MessageTypeData
	TypeReport = mesh.MessageTypeReport
)

// Mailbox is one MESH mailbox.
type Mailbox struct {
	ID       string
	Password string
	ODSCode  string
	Name     string
	Active   bool
	// Workflows the mailbox may send and receive; nil or empty means any.
	Workflows []string
}

// Message is the metadata of one message; payload chunks live in blob storage.
type Message struct {
	ID                string
	MessageType       string
	Sender            string
	Recipient         string
	WorkflowID        string
	Subject           string
	LocalID           string
	PartnerID         string
	FileName          string
	Checksum          string
	ContentType       string
	ContentEncoding   string
	Encrypted         string
	Compressed        string
	LinkedMsgID       string
	Status            string
	StatusCode        string
	StatusEvent       string
	StatusDescription string
	TotalChunks       int
	Size              int64
	CreatedAt         time.Time
	StatusAt          time.Time
	// ExpiresAt is when an accepted message not yet acknowledged becomes
	// undeliverable; zero for messages that do not expire.
	ExpiresAt time.Time
	// AckedAt is when the recipient acknowledged the message (zero if not).
	AckedAt time.Time
}

// Usage is what waits in one mailbox (MessageStore.InboxUsage).
type Usage struct {
	Messages int
	Bytes    int64
}

// Chunk is one stored chunk of a message.
type Chunk struct {
	MessageID string
	Number    int
	Size      int64
	BlobKey   string
}

// Deleted lists what a delete removed: message ids and the blob keys of
// their chunks (which the caller deletes after the rows are gone).
type Deleted struct {
	IDs      []string
	BlobKeys []string
}

// Patient is one row of the patient register used for GPPROVIDER routing.
type Patient struct {
	NHSNumber   string
	BirthDate   string // YYYYMMDD
	Surname     string
	PracticeODS string
}

// Store is the persistence the server needs, split by aggregate.
// Implementations live in adapter packages (sqlitestore, pgstore) and pass
// the contract suite storetest.RunMeshServer.
type Store interface {
	MailboxStore
	MessageStore
	NonceStore
	PatientStore
}

// MailboxStore keeps mailboxes.
type MailboxStore interface {
	// PutMailbox creates or replaces a mailbox.
	PutMailbox(ctx context.Context, mb Mailbox) error
	// GetMailbox returns ErrNotFound for an unknown id.
	GetMailbox(ctx context.Context, id string) (Mailbox, error)
	// ListMailboxes returns every mailbox ordered by id; a non-empty
	// odsCode keeps only that practice's mailboxes.
	ListMailboxes(ctx context.Context, odsCode string) ([]Mailbox, error)
	// SetMailboxActive enables or disables a mailbox (ErrNotFound if unknown).
	SetMailboxActive(ctx context.Context, id string, active bool) error
}

// MessageStore keeps message metadata and chunk records.
type MessageStore interface {
	// CreateMessage inserts a message together with its first chunk (nil
	// for messages without a body, such as reports). ErrConflict if the id
	// is taken.
	CreateMessage(ctx context.Context, m Message, first *Chunk) error
	// GetMessage returns ErrNotFound for an unknown id.
	GetMessage(ctx context.Context, id string) (Message, error)
	// AddChunk records chunk c of an uploading message, replacing a chunk
	// with the same number. When every chunk 1..TotalChunks is present the
	// message becomes accepted in the same transaction, with StatusAt and
	// ExpiresAt from p. ErrNotFound if the message is unknown, ErrConflict
	// if it is no longer uploading.
	AddChunk(ctx context.Context, p AddChunkParams) (Message, error)
	// GetChunk returns ErrNotFound for a missing chunk.
	GetChunk(ctx context.Context, messageID string, n int) (Chunk, error)
	// ListInbox returns accepted messages addressed to p.Mailbox in id order.
	ListInbox(ctx context.Context, p ListInboxParams) ([]Message, error)
	// CountInbox counts accepted messages addressed to mailbox.
	CountInbox(ctx context.Context, mailbox string) (int, error)
	// InboxUsage counts the messages addressed to mailbox that are
	// uploading or accepted (not yet acknowledged, expired or failed) and
	// sums their sizes: what the mailbox's quota limits.
	InboxUsage(ctx context.Context, mailbox string) (Usage, error)
	// ListMessages lists messages for admin and rich views, newest first.
	ListMessages(ctx context.Context, p ListMessagesParams) ([]Message, error)
	// FindByLocalID lists messages sent by sender with the given local id.
	FindByLocalID(ctx context.Context, sender, localID string) ([]Message, error)
	// UpdateStatus moves a message from one of p.From to p.To; ErrNotFound
	// if unknown, ErrConflict if its status is not in p.From.
	UpdateStatus(ctx context.Context, p UpdateStatusParams) (Message, error)
	// ExpireDue moves up to p.Limit accepted or still uploading messages
	// whose ExpiresAt is at or before p.Now to undeliverable and, in the same transaction, stores
	// the report p.Report builds for each. It returns the expired messages.
	ExpireDue(ctx context.Context, p ExpireParams) ([]Message, error)
	// CountByStatus counts messages per status (for metrics).
	CountByStatus(ctx context.Context) (map[string]int, error)
	// PurgeMessages deletes up to limit messages (with chunk records) that
	// reached a final status (acknowledged, undeliverable, error) before
	// the given time, and reports created before it. The result names the
	// payload blobs to remove afterwards.
	PurgeMessages(ctx context.Context, before time.Time, limit int) (Deleted, error)
	// DeleteMessages removes messages (and chunk records) sent by or to
	// mailbox, or every message when mailbox is empty.
	DeleteMessages(ctx context.Context, mailbox string) (Deleted, error)
}

// InlineStore is an optional capability of a Store whose database also
// holds small payloads (see Config.InlineBodies).
type InlineStore interface {
	// CreateMessageInline does what CreateMessage does and, in the same
	// transaction, stores body as the blob first.BlobKey.
	CreateMessageInline(ctx context.Context, m Message, first Chunk, body []byte) error
}

// TokenStore is an optional capability of a Store: UseToken records a
// token and re-reads its mailbox in one step (one round trip on a network
// database), so that a server which verified the token's HMAC against a
// password it remembers needs no separate mailbox read. The store checks
// that password against the mailbox row in the same statement that records
// the token, so the result is exact across processes.
type TokenStore interface {
	// UseToken records p's token only if mailbox p.Mailbox is active and
	// its password is still password, and returns the mailbox as stored
	// now. ErrNotFound: no such mailbox. ErrReplay: the token was used
	// before. ErrConflict: the mailbox is inactive or has another password
	// (it is returned too); nothing was recorded.
	UseToken(ctx context.Context, p UseNonceParams, password string) (Mailbox, error)
}

// PendingToken is a request's token whose HMAC this process verified with
// the mailbox it last saw, not yet recorded.
type PendingToken struct {
	UseNonceParams
	// Mailbox is the mailbox as this process last saw it; the store
	// records the token only if the row still has its password, its
	// workflows and is active.
	Mailbox Mailbox
}

// TokenOpStore is an optional capability of a TokenStore that is also a
// CheckedInlineStore, a ChunkReader and an InboxPager: the requests every
// message costs (a small send, an inbox page, its download and its
// acknowledgement) record their token in the same statement as their work,
// one round trip each instead of two or three.
//
// Each method records tok.UseNonceParams exactly as UseToken would and
// does its work only if it did so: when the token was used before, or the
// mailbox is gone, inactive or changed from tok.Mailbox, it records
// nothing, changes nothing and returns an error wrapping ErrTokenRefused.
// The caller then decides with UseToken (which tells a replay from a
// changed mailbox) and, if that succeeds, does the work the ordinary way.
type TokenOpStore interface {
	// CreateMessageInlineCheckedToken is CreateMessageInlineChecked after
	// recording tok.
	CreateMessageInlineCheckedToken(ctx context.Context, tok PendingToken, m Message, first Chunk, body []byte) error
	// ReadChunkToken is ReadChunk after recording tok.
	ReadChunkToken(ctx context.Context, tok PendingToken, messageID string, n int) (ChunkRead, error)
	// AcknowledgeToken records tok and then moves message p.ID from
	// StatusAccepted to StatusAcknowledged as UpdateStatus would (p.From
	// and p.To are ignored), but only if its recipient is tok.Mailbox.
	// It returns the message as it was before, or ErrNotFound, and
	// whether it moved it.
	AcknowledgeToken(ctx context.Context, tok PendingToken, p UpdateStatusParams) (before Message, moved bool, err error)
	// ListInboxIDsToken is InboxPager.ListInboxIDs after recording tok.
	ListInboxIDsToken(ctx context.Context, tok PendingToken, p ListInboxParams, count bool) (ids []string, n int, err error)
}

// ChunkReader is an optional capability of an InlineStore: ReadChunk reads a
// message, its chunk n and, when the store keeps that chunk's body inline,
// the body, in one step (one round trip on a network database) instead of
// GetMessage, GetChunk and a blob read.
type ChunkReader interface {
	// ReadChunk returns ErrNotFound for an unknown message. A missing
	// chunk is not an error: ChunkRead.HasChunk is false.
	ReadChunk(ctx context.Context, messageID string, n int) (ChunkRead, error)
}

// ChunkRead is what ChunkReader.ReadChunk returns.
type ChunkRead struct {
	Message  Message
	Chunk    Chunk
	HasChunk bool
	// Inline is true when Body holds the whole chunk as Config.Blobs
	// would read it under Chunk.BlobKey; otherwise read it from there.
	Inline bool
	Body   []byte
}

// InboxPager is an optional capability of a Store: ListInboxIDs lists the
// ids ListInbox would return and, when count is true, counts the inbox as
// CountInbox does, in one step (one round trip on a network database).
type InboxPager interface {
	ListInboxIDs(ctx context.Context, p ListInboxParams, count bool) (ids []string, n int, err error)
}

// CheckedInlineStore is an optional capability of an InlineStore: it checks
// the recipient in the same step as it stores the message, so that a server
// which remembers the recipient as valid needs no separate mailbox read.
type CheckedInlineStore interface {
	// CreateMessageInlineChecked does what CreateMessageInline does, but
	// only if mailbox m.Recipient exists, is active and takes m.WorkflowID
	// (it has no workflows or lists it); otherwise it stores nothing and
	// returns ErrRecipient.
	CreateMessageInlineChecked(ctx context.Context, m Message, first Chunk, body []byte) error
}

// NonceStore remembers authentication tokens so that each is used once,
// across every server process sharing the store.
type NonceStore interface {
	// UseNonce records the token; ErrReplay if it was recorded before.
	UseNonce(ctx context.Context, p UseNonceParams) error
	// PruneNonces forgets tokens recorded before the given time.
	PruneNonces(ctx context.Context, before time.Time) (int, error)
}

// PatientStore is the register of which practice each patient is at.
type PatientStore interface {
	// PutPatient creates or replaces a patient by NHS number.
	PutPatient(ctx context.Context, p Patient) error
	// GetPatient returns ErrNotFound for an unknown NHS number.
	GetPatient(ctx context.Context, nhsNumber string) (Patient, error)
}

// AddChunkParams are the arguments of MessageStore.AddChunk.
type AddChunkParams struct {
	Chunk     Chunk
	Now       time.Time
	ExpiresAt time.Time
}

// ListInboxParams are the arguments of MessageStore.ListInbox.
type ListInboxParams struct {
	Mailbox string
	// After lists only ids greater than this one (paging); empty = start.
	After  string
	Limit  int
	Filter WorkflowFilter
}

// WorkflowFilter selects by workflow id: equal, prefix or contains, or
// their negations. The zero value matches everything.
type WorkflowFilter struct {
	Op     FilterOp
	Value  string
	Negate bool
}

// FilterOp is how a WorkflowFilter compares.
type FilterOp int

// Filter operations.
const (
	FilterNone FilterOp = iota
	FilterEquals
	FilterPrefix
	FilterContains
)

// ListMessagesParams are the arguments of MessageStore.ListMessages.
type ListMessagesParams struct {
	// Recipient and Sender restrict the list when non-empty.
	Recipient string
	Sender    string
	// Since keeps messages created at or after it when non-zero.
	Since time.Time
	// Before lists only ids less than this one (paging newest first).
	Before string
	Limit  int
}

// UpdateStatusParams are the arguments of MessageStore.UpdateStatus.
type UpdateStatusParams struct {
	ID          string
	From        []string
	To          string
	Code        string
	Event       string
	Description string
	At          time.Time
}

// ExpireParams are the arguments of MessageStore.ExpireDue.
type ExpireParams struct {
	Now   time.Time
	Limit int
	// Report builds the non-delivery report stored for an expired message.
	Report func(expired Message) Message
}

// UseNonceParams are the arguments of NonceStore.UseNonce.
type UseNonceParams struct {
	Mailbox string
	Nonce   string
	Count   string
	At      time.Time
}
