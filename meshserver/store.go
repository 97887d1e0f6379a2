package meshserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	// take the message's workflow (see RequestStore.Send).
	ErrRecipient = errors.New("meshserver: recipient cannot take the message")
	// ErrMailboxChanged: a token's mailbox is gone, inactive, or no longer
	// has the password and workflows the server verified the token with
	// (see MailboxChangedError).
	ErrMailboxChanged = errors.New("meshserver: mailbox changed since the token was verified")
)

// MailboxChangedError is the error of a RequestStore method that refused
// its token because the mailbox changed since the server read it
// (errors.Is(err, ErrMailboxChanged)).
type MailboxChangedError struct {
	// Mailbox is the mailbox as stored now; Found is false when it is gone.
	Mailbox Mailbox
	Found   bool
}

func (e *MailboxChangedError) Error() string {
	if !e.Found {
		return fmt.Sprintf("mailbox %s: %v (gone)", e.Mailbox.ID, ErrMailboxChanged)
	}
	return fmt.Sprintf("mailbox %s: %v", e.Mailbox.ID, ErrMailboxChanged)
}

func (e *MailboxChangedError) Unwrap() error { return ErrMailboxChanged }

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

// Takes reports whether mb receives messages of workflow wf: it is
// active and lists wf, or lists no workflow (any).
func (mb Mailbox) Takes(wf string) bool { return mb.Active && allowsWorkflow(mb, wf) }

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

// Usage is what waits in one mailbox (UpkeepStore.InboxUsage).
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

// Store is the server's persistence: one method per MESH request, each
// recording the request's token with its work (RequestStore); the mailbox
// and patient registers; and what the admin API, expiry, purge, quotas and
// metrics read and write (UpkeepStore). Implementations live in adapter
// packages (sqlitestore, pgstore), each deciding how a request is done in
// one round trip, and pass the contract suite storetest.RunMeshServer.
type Store interface {
	RequestStore
	MailboxStore
	PatientStore
	UpkeepStore
	// InlineMax is the largest body Send keeps in the database, in the
	// same commit as its message; the driver's payload store (its
	// Payloads method, a tier.Store over the same database) reads such a
	// body back under its chunk's blob key.
	InlineMax() int64
}

// Token is a request's authentication token whose HMAC and clock window
// the server verified with the password of Seen, the mailbox as the server
// last read it. The store records it only while the mailbox still is Seen
// (Token.Holds).
type Token struct {
	Nonce string
	Count string
	At    time.Time
	Seen  Mailbox
}

// Holds reports whether mb, a mailbox as stored now, still accepts the
// token: it is active and has the password and workflows of t.Seen.
func (t Token) Holds(mb Mailbox) bool {
	// slices.Equal takes nil and empty (any workflow) as equal.
	return mb.ID == t.Seen.ID && mb.Active && mb.Password == t.Seen.Password && slices.Equal(mb.Workflows, t.Seen.Workflows)
}

// Refused is the error of a store that did not record t: ErrReplay when
// mb, the mailbox as stored now (found false: gone), still holds the token
// (it was recorded before), else a *MailboxChangedError.
func (t Token) Refused(mb Mailbox, found bool) error {
	if found && t.Holds(mb) {
		return fmt.Errorf("token of mailbox %s: %w", t.Seen.ID, ErrReplay)
	}
	if !found {
		mb = Mailbox{ID: t.Seen.ID}
	}
	return &MailboxChangedError{Mailbox: mb, Found: found}
}

// TokenRecorded reports whether a RequestStore method called with a token
// recorded it, going by the error it returned: nil, ErrNotFound or
// ErrRecipient (the request was answered); with any other error the method
// changed nothing.
func TokenRecorded(err error) bool {
	return err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrRecipient)
}

// RequestStore has one method per MESH request.
//
// A method given a Token records it in the same transaction as its work
// (in one statement where the driver can), and only if the token's mailbox
// exists and still holds it (Token.Holds) and (mailbox, nonce, count) was
// not recorded before; otherwise it changes nothing and returns ErrReplay,
// or a *MailboxChangedError carrying the mailbox as stored now
// (Token.Refused). Whether a method that went on to fail still recorded
// the token is TokenRecorded. Two stores on one database recording one
// token at once: exactly one succeeds. A nil Token records nothing (the
// request's token was recorded already, by Authenticate, or the server
// does not check replays).
type RequestStore interface {
	// Authenticate records tok and returns its mailbox as stored now: the
	// requests with no other store work (a handshake, a refusal) and those
	// whose token must be recorded before the body is read (a large send,
	// a chunk upload).
	Authenticate(ctx context.Context, tok Token) (Mailbox, error)
	// Send stores a message with its first chunk (and that chunk's body,
	// p.Body, when not nil) and p.Report, in one transaction. A message
	// with a recipient is stored only if that mailbox exists, is active and
	// takes the message's workflow; else ErrRecipient (the token recorded,
	// nothing else). ErrConflict: the id is taken.
	Send(ctx context.Context, p SendParams) error
	// UploadChunk records chunk p.Chunk.Number (2 or more, or a re-sent 1)
	// of an uploading message of p.Sender, replacing a chunk with the same
	// number. When every chunk 1..TotalChunks is present the message
	// becomes accepted in the same transaction, with StatusAt p.Now and
	// ExpiresAt p.ExpiresAt. ErrNotFound: no such message of p.Sender;
	// ErrConflict: it is no longer uploading. A chunk's token is recorded
	// before its body is read (Authenticate): UploadChunk takes none.
	UploadChunk(ctx context.Context, p UploadChunkParams) (UploadChunkResult, error)
	// InboxPage lists the ids of accepted messages addressed to p.Mailbox
	// in id order (none when p.Limit is 0) and, with p.Count, counts them
	// all.
	InboxPage(ctx context.Context, p InboxPageParams) (InboxPage, error)
	// Download reads message p.ID, the record of its chunk p.Chunk and,
	// when the store keeps that chunk's body inline, the body.
	// ErrNotFound: no such message; a missing chunk is no error
	// (Download.HasChunk is false).
	Download(ctx context.Context, p DownloadParams) (Download, error)
	// Acknowledge moves message p.ID from accepted to acknowledged if its
	// recipient is p.Mailbox, and returns it as it is now and whether this
	// call moved it. ErrNotFound: no such message.
	Acknowledge(ctx context.Context, p AcknowledgeParams) (Acknowledged, error)
	// Rich lists messages for the rich inbox and outbox, newest first.
	Rich(ctx context.Context, p RichParams) ([]Message, error)
	// Track finds the data messages p.Sender sent with id p.ID or, when
	// p.ID is empty, local id p.LocalID (in id order), with their
	// recipient and sender mailboxes.
	Track(ctx context.Context, p TrackParams) ([]Tracked, error)
}

// SendParams are the arguments of RequestStore.Send.
type SendParams struct {
	Token *Token
	// Message is accepted, uploading (TotalChunks > 1) or, when
	// GPPROVIDER routing failed, in error with no recipient.
	Message Message
	// Chunk is chunk 1; its BlobKey is where Body is kept, or where the
	// caller stored the body before calling Send.
	Chunk Chunk
	// Body, when not nil, is the chunk's body to keep with the message
	// row (at most InlineMax bytes).
	Body []byte
	// Report, when not nil, is a REPORT stored in the same transaction.
	Report *Message
}

// UploadChunkParams are the arguments of RequestStore.UploadChunk.
type UploadChunkParams struct {
	// Sender is the uploading mailbox: another's message is ErrNotFound.
	Sender    string
	Chunk     Chunk
	Now       time.Time
	ExpiresAt time.Time
}

// UploadChunkResult is what RequestStore.UploadChunk returns.
type UploadChunkResult struct {
	// Message is the message after the upload.
	Message Message
	// Replaced is the blob key of a chunk this one replaced ("" if none),
	// for the caller to delete.
	Replaced string
}

// InboxPageParams are the arguments of RequestStore.InboxPage.
type InboxPageParams struct {
	Token   *Token
	Mailbox string
	// After lists only ids greater than this one (paging); empty = start.
	After  string
	Limit  int
	Filter WorkflowFilter
	// Count also counts the whole inbox (the v2 approx_inbox_count).
	Count bool
}

// InboxPage is what RequestStore.InboxPage returns.
type InboxPage struct {
	IDs   []string
	Count int
}

// DownloadParams are the arguments of RequestStore.Download.
type DownloadParams struct {
	Token *Token
	ID    string
	Chunk int
}

// Download is what RequestStore.Download returns.
type Download struct {
	Message  Message
	Chunk    Chunk
	HasChunk bool
	// Inline is true when Body holds the whole chunk as the driver's
	// payload store would read it under Chunk.BlobKey; otherwise read it
	// from the server's blob store.
	Inline bool
	Body   []byte
}

// AcknowledgeParams are the arguments of RequestStore.Acknowledge: the
// status fields of the acknowledgement.
type AcknowledgeParams struct {
	Token *Token
	// Mailbox is the caller: only the recipient acknowledges.
	Mailbox     string
	ID          string
	Code        string
	Event       string
	Description string
	At          time.Time
}

// Acknowledged is what RequestStore.Acknowledge returns.
type Acknowledged struct {
	Message Message
	Moved   bool
}

// RichParams are the arguments of RequestStore.Rich.
type RichParams struct {
	Token *Token
	ListMessagesParams
}

// TrackParams are the arguments of RequestStore.Track.
type TrackParams struct {
	Token   *Token
	Sender  string
	ID      string
	LocalID string
}

// Tracked is one message RequestStore.Track found, with its recipient
// and sender mailboxes (zero when gone or, for the recipient, when the
// message has none).
type Tracked struct {
	Message   Message
	Recipient Mailbox
	Sender    Mailbox
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

// PatientStore is the register of which practice each patient is at.
type PatientStore interface {
	// PutPatient creates or replaces a patient by NHS number.
	PutPatient(ctx context.Context, p Patient) error
	// GetPatient returns ErrNotFound for an unknown NHS number.
	GetPatient(ctx context.Context, nhsNumber string) (Patient, error)
}

// UpkeepStore is what the admin API, expiry, purge, quotas, health and
// metrics need: no token, no request.
type UpkeepStore interface {
	// CreateMessage inserts a message together with its first chunk (nil
	// for messages without a body, such as reports): an injected report.
	// ErrConflict if the id is taken.
	CreateMessage(ctx context.Context, m Message, first *Chunk) error
	// GetMessage returns ErrNotFound for an unknown id.
	GetMessage(ctx context.Context, id string) (Message, error)
	// GetChunk returns ErrNotFound for a missing chunk.
	GetChunk(ctx context.Context, messageID string, n int) (Chunk, error)
	// CountInbox counts accepted messages addressed to mailbox.
	CountInbox(ctx context.Context, mailbox string) (int, error)
	// InboxUsage counts the messages addressed to mailbox that are
	// uploading or accepted (not yet acknowledged, expired or failed) and
	// sums their sizes: what the mailbox's quota limits.
	InboxUsage(ctx context.Context, mailbox string) (Usage, error)
	// ListMessages lists messages, newest first.
	ListMessages(ctx context.Context, p ListMessagesParams) ([]Message, error)
	// CountByStatus counts messages per status (for metrics).
	CountByStatus(ctx context.Context) (map[string]int, error)
	// ExpireDue moves up to p.Limit accepted or still uploading messages
	// whose ExpiresAt is at or before p.Now to the status p.Outcome gives
	// and, in the same transaction, stores the report it gives. It
	// returns the expired messages as stored.
	ExpireDue(ctx context.Context, p ExpireParams) ([]Message, error)
	// PurgeMessages deletes up to limit messages (with chunk records) that
	// reached a final status (acknowledged, undeliverable, error) before
	// the given time, and reports created before it. The result names the
	// payload blobs to remove afterwards.
	PurgeMessages(ctx context.Context, before time.Time, limit int) (Deleted, error)
	// DeleteMessages removes messages (and chunk records) sent by or to
	// mailbox, or every message when mailbox is empty.
	DeleteMessages(ctx context.Context, mailbox string) (Deleted, error)
	// PruneNonces forgets tokens recorded before the given time.
	PruneNonces(ctx context.Context, before time.Time) (int, error)
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

// ListMessagesParams are the arguments of UpkeepStore.ListMessages.
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

// ExpireParams are the arguments of UpkeepStore.ExpireDue.
type ExpireParams struct {
	Now   time.Time
	Limit int
	// Outcome, decided by the server, gives an expired message m its new
	// status fields (expired: Status, StatusCode, StatusEvent,
	// StatusDescription and StatusAt are stored) and the report to store
	// for it (nil: none).
	Outcome func(m Message) (expired Message, report *Message)
}
