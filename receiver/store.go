package receiver

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors of a Store, matched with errors.Is.
var (
	// ErrNotFound: no row with that key.
	ErrNotFound = errors.New("receiver: not found")
	// ErrConflict: the row is not in a state that allows the change (for
	// example a document already filed, or a hold already resolved).
	ErrConflict = errors.New("receiver: state conflict")
	// ErrDuplicateMessage: another message already carries this
	// MessageHeader.id or message Bundle.identifier (ITK3 20007).
	ErrDuplicateMessage = errors.New("receiver: duplicate message")
	// ErrDuplicateDocument: a document with this identifier was already
	// received (ITK3 20008).
	ErrDuplicateDocument = errors.New("receiver: duplicate document")
	// ErrReplacementTarget: the document a replacement names is not known
	// (ITK3 20014).
	ErrReplacementTarget = errors.New("receiver: replaced document not found")
)

// Store is the receiver's durable state. It is split by aggregate; every
// method is safe for concurrent use by several processes sharing one
// database, and each state change commits together with the acknowledgements
// it causes.
type Store interface {
	MessageStore
	DocumentStore
	RegisterStore
	AckStore
}

// MessageState is where a received message is in the pipeline.
type MessageState string

// Message states.
const (
	// MessageReceived: stored, waiting to be validated and matched.
	MessageReceived MessageState = "received"
	// MessageAccepted: InfAck positive; a document record exists.
	MessageAccepted MessageState = "accepted"
	// MessageRejected: a negative InfAck ended the exchange.
	MessageRejected MessageState = "rejected"
)

// Message is one MESH message this receiver collected.
type Message struct {
	ID         int64
	MeshID     string
	WorkflowID string
	From       string // sender mailbox: acknowledgements go here
	To         string
	Subject    string // patient data: never log
	LocalID    string
	BlobKey    string
	Size       int64
	ReceivedAt time.Time
	MeshAcked  bool
	State      MessageState
	// Payload is the raw message when the store keeps it itself (small
	// messages); only ClaimMessages fills it. Nil means the payload is in
	// the blob store under BlobKey.
	Payload []byte
	// TooLarge: the payload went beyond the receiver's size limit; only
	// its head was kept (in Payload), to read the MessageHeader.id for
	// the 20015 answer.
	TooLarge  bool
	Attempts  int
	LastError string

	// Set when processed.
	HeaderID         string
	BundleIdentifier string
	SenderReference  string
	BusAckRequested  bool
	InfAckCode       int
	ProcessedAt      time.Time
}

// RecordMessageParams stores a downloaded message: its payload is either
// Payload, kept by the store in the same transaction, or already in the
// blob store under BlobKey (Payload nil).
type RecordMessageParams struct {
	MeshID, WorkflowID, From, To, Subject, LocalID string
	BlobKey                                        string
	Size                                           int64
	ReceivedAt                                     time.Time
	Payload                                        []byte
	// TooLarge records a message beyond the size limit: Payload holds
	// only its head and BlobKey names nothing.
	TooLarge bool
}

// Recorded is the result of recording one message.
type Recorded struct {
	Message Message
	Created bool
}

// ClaimParams claims up to Limit rows for Owner until Now+Lease.
type ClaimParams struct {
	Owner string
	Now   time.Time
	Lease time.Duration
	Limit int
}

// ReleaseParams gives a claimed message back after a transient failure.
type ReleaseParams struct {
	ID      int64
	Owner   string
	Error   string // no patient data
	RetryAt time.Time
}

// CompleteParams records the outcome of processing a message, in one
// transaction: the message state, its duplicate keys, the document (if
// accepted) and the acknowledgements to send.
type CompleteParams struct {
	ID    int64
	Owner string
	Now   time.Time
	State MessageState

	HeaderID         string
	BundleIdentifier string
	SenderReference  string
	BusAckRequested  bool
	InfAckCode       int
	// Keys are the message's duplicate keys (MessageHeader.id, Bundle
	// identifier); if one belongs to another message, Complete fails with
	// ErrDuplicateMessage and changes nothing.
	Keys []string
	// Document is created when not nil; a document identifier already
	// known fails with ErrDuplicateDocument, a replacement target that is
	// unknown, or not a document of the same sending organisation for the
	// same patient, with ErrReplacementTarget.
	Document *NewDocument
	// Void, with a 20014 outcome, voids the document the failed
	// replacement named, if the same sending organisation sent it.
	Void *VoidTarget
	Acks []NewAck
}

// VoidTarget names the documents a replacement that could not be
// processed voids (GPCM-SD-034: the receiver voids the original as the
// sender will): those with Identifier as Composition, document-Bundle or
// message-Bundle identifier from the same sending organisation (SenderODS;
// From, the mailbox, for documents recorded without an ODS code) that are
// awaiting filing, held or filed. Documents of other senders are never
// touched.
type VoidTarget struct {
	Identifier string
	SenderODS  string
	From       string
	Reason     string // no patient data
}

// MessageStore holds collected messages and their pipeline state.
type MessageStore interface {
	// RecordMessages stores downloaded messages in one transaction, in the
	// order given (their ids follow that order). Recording a MESH message
	// ID again returns the existing row with Created false.
	RecordMessages(ctx context.Context, ps []RecordMessageParams) ([]Recorded, error)
	// MarkMeshAcked notes that MESH accepted the acknowledgements.
	MarkMeshAcked(ctx context.Context, meshIDs ...string) error
	// PendingMeshAcks lists messages stored but not yet acknowledged on MESH.
	PendingMeshAcks(ctx context.Context, limit int) ([]Message, error)
	// GetMessage returns ErrNotFound for an unknown id.
	GetMessage(ctx context.Context, id int64) (Message, error)
	// GetMessageByMeshID returns ErrNotFound for an unknown MESH id.
	GetMessageByMeshID(ctx context.Context, meshID string) (Message, error)
	// ClaimMessages leases received messages whose lease is free or expired
	// (so messages of a crashed worker are rescued) and whose retry time
	// has come, oldest first.
	ClaimMessages(ctx context.Context, p ClaimParams) ([]Message, error)
	// ReleaseMessage ends a claim without an outcome.
	ReleaseMessage(ctx context.Context, p ReleaseParams) error
	// CompleteMessage records the outcome; ErrConflict if Owner no longer
	// holds the claim or the message was already completed.
	CompleteMessage(ctx context.Context, p CompleteParams) (Document, error)
	// CompleteMessages records the outcomes of several messages in one
	// transaction, applying them in the order given exactly as that many
	// CompleteMessage calls would: an item sees the items before it. It
	// stops at the first item that CompleteMessage would refuse
	// (ErrDuplicateMessage, ErrDuplicateDocument, ErrReplacementTarget,
	// ErrConflict, ErrNotFound), commits the items before it and returns
	// their documents (a zero Document for an item without one) with that
	// item's error, so len(docs) is the index of the refused item. Any
	// other error commits nothing and returns no documents.
	CompleteMessages(ctx context.Context, ps []CompleteParams) ([]Document, error)
	// KnownMeshIDs reports which of the MESH ids are stored, each mapped
	// to whether MESH already accepted its acknowledgement.
	KnownMeshIDs(ctx context.Context, meshIDs []string) (map[string]bool, error)
	// MessagePayload returns the payload the store keeps for the message
	// with this MESH id; ErrNotFound when it keeps none (the payload is in
	// the blob store, or the message is unknown).
	MessagePayload(ctx context.Context, meshID string) ([]byte, error)
	// CountMessages counts messages per state.
	CountMessages(ctx context.Context) (map[MessageState]int, error)
}

// DocumentState is where a document is in the practice workflow.
type DocumentState string

// Document states.
const (
	// DocAwaitingFiling: matched to a registered patient, waiting for a
	// person to file it.
	DocAwaitingFiling DocumentState = "awaiting_filing"
	// DocFiled: filed in the patient record.
	DocFiled DocumentState = "filed"
	// DocHeld: held for review, the demographics differ from the register.
	DocHeld DocumentState = "held_for_review"
	// DocNotFiled: the patient is not known here or has left (30002/30003).
	DocNotFiled DocumentState = "not_filed"
	// DocRejected: rejected by a person.
	DocRejected DocumentState = "rejected"
	// DocReplaced: archived because a later version replaced it.
	DocReplaced DocumentState = "replaced"
	// DocVoid: null and void because a replacement naming it could not be
	// processed (ITK3 20014, GPCM-SD-034); Reason says which.
	DocVoid DocumentState = "void"
)

// Valid reports whether s is a known state.
func (s DocumentState) Valid() bool {
	switch s {
	case DocAwaitingFiling, DocFiled, DocHeld, DocNotFiled, DocRejected, DocReplaced, DocVoid:
		return true
	}
	return false
}

// Patient demographics as the document carries them.
type DocPatient struct {
	NHSNumber string `json:"nhsNumber"`
	BirthDate string `json:"birthDate"` // YYYY-MM-DD
	Family    string `json:"family"`
	Given     string `json:"given"`
}

// Attachment is one Binary of a document, stored in the blob store.
type Attachment struct {
	Index       int    `json:"index"`
	Title       string `json:"title"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	BlobKey     string `json:"-"`
}

// Document is a received document in the practice workflow.
type Document struct {
	ID              int64         `json:"id"`
	MessageID       int64         `json:"messageId"`
	MeshID          string        `json:"meshMessageId"`
	HeaderID        string        `json:"messageHeaderId"`
	DocumentID      string        `json:"documentId"` // Composition.identifier
	DocBundleID     string        `json:"documentBundleIdentifier,omitempty"`
	MessageBundleID string        `json:"messageBundleIdentifier,omitempty"`
	State           DocumentState `json:"state"`
	Subject         string        `json:"subject"` // MESH subject as the worklist shows it (confidential: senddoc.DisplaySubject)
	TypeLabel       string        `json:"typeLabel"`
	RecipientType   string        `json:"recipientType"` // FA or FI
	ForAction       bool          `json:"forAction"`
	Patient         DocPatient    `json:"patient"`
	Version         int           `json:"version,omitempty"`
	SenderReference string        `json:"senderReference,omitempty"`
	From            string        `json:"fromMailbox"`
	Replacement     bool          `json:"replacement"`
	ReplacesID      int64         `json:"replacesId,omitempty"`
	ReplacedByID    int64         `json:"replacedById,omitempty"`
	MatchReason     string        `json:"matchReason,omitempty"`
	Reason          string        `json:"reason,omitempty"` // why rejected
	BusAckCode      int           `json:"busAckCode,omitempty"`
	HoldUntil       time.Time     `json:"holdUntil,omitzero"`
	Findings        []string      `json:"findings,omitempty"`
	// MeshFindings are the MESH transport metadata deviations (subject
	// wording, local ID, …) the document came with: shown to staff, never
	// a reason to reject it.
	MeshFindings []DocFinding `json:"meshFindings,omitempty"`
	// SenderODS is the sending organisation's ODS code
	// (MessageHeader.sender).
	SenderODS   string       `json:"senderOds,omitempty"`
	Attachments []Attachment `json:"attachments"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
	// ConfirmedAckCode is the business ack a manual match sends (30001 or
	// 30004) for a held document.
	ConfirmedAckCode int `json:"-"`
	// MatchedPatient is the register patient a person matched a held
	// document to (nil until then); Patient keeps the demographics the
	// message carried. MatchedBy names the person, MatchedAt when.
	MatchedPatient *DocPatient `json:"matchedPatient,omitempty"`
	MatchedBy      string      `json:"matchedBy,omitempty"`
	MatchedAt      time.Time   `json:"matchedAt,omitzero"`
	// FiledBy names who filed the document (a person, or AutoFiledBy for
	// an Update Record the practice setting filed), FiledAt when.
	FiledBy string    `json:"filedBy,omitempty"`
	FiledAt time.Time `json:"filedAt,omitzero"`
	// AssignedTo names the person the document is assigned to ("": no
	// one).
	AssignedTo string `json:"assignedTo,omitempty"`
}

// NewDocument is the document created when a message is accepted.
type NewDocument struct {
	DocumentID      string
	DocBundleID     string
	MessageBundleID string
	State           DocumentState
	Subject         string
	TypeLabel       string
	RecipientType   string
	Patient         DocPatient
	Version         int
	SenderReference string
	From            string
	// ReplacesIdentifier names the replaced document by Composition,
	// document-Bundle or message-Bundle identifier ("" when not a
	// replacement); only a document from the same sending organisation
	// (SenderODS, else From) for the same patient (NHS number) is
	// replaced.
	ReplacesIdentifier string
	MatchReason        string
	BusAckCode         int
	ConfirmedAckCode   int
	HoldUntil          time.Time
	Findings           []string
	MeshFindings       []DocFinding
	SenderODS          string
	Attachments        []Attachment
	// FiledBy is who filed a document created filed (State DocFiled).
	FiledBy string
	// Events start the document's history, in the same transaction.
	Events []NewDocumentEvent
}

// DocFinding is a deviation a document was accepted with: the requirement
// it breaks, where, and what is wrong (never patient data).
type DocFinding struct {
	Requirement string `json:"requirement"`
	Path        string `json:"path"`
	Message     string `json:"message"`
}

// ListDocumentsParams filters the worklist in id order (the API's
// paging). Zero values do not filter.
type ListDocumentsParams struct {
	State     DocumentState
	NHSNumber string
	ForAction *bool
	AfterID   int64 // paging: ids greater than this
	Limit     int   // default 100, at most 1000
}

// DocumentSort orders a DocumentQuery.
type DocumentSort string

// Document orders; ties are broken by id in the same direction.
const (
	// SortID is id order (ascending), the API's.
	SortID DocumentSort = ""
	// SortOldest is received time, oldest first: the most overdue first.
	SortOldest DocumentSort = "oldest"
	// SortNewest is received time, newest first.
	SortNewest DocumentSort = "newest"
	// SortPatient is the patient of record's family then given name, then
	// oldest first.
	SortPatient DocumentSort = "patient"
)

// Valid reports whether s is a known order.
func (s DocumentSort) Valid() bool {
	switch s {
	case SortID, SortOldest, SortNewest, SortPatient:
		return true
	}
	return false
}

// DocumentQuery selects one page of documents, filtered and sorted by the
// store. Zero values do not filter. The patient fields match the document's
// patient or the register patient a person matched it to.
type DocumentQuery struct {
	States    []DocumentState // none: every state
	TypeLabel string
	ForAction *bool
	NHSNumber string
	// Name matches a family or given name containing it, ignoring case.
	Name string
	// BirthDate is YYYY-MM-DD.
	BirthDate string
	// ReceivedFrom (inclusive) and ReceivedBefore (exclusive) bound
	// CreatedAt.
	ReceivedFrom, ReceivedBefore time.Time
	// AssignedTo selects the documents assigned to this person.
	AssignedTo string
	// AfterID pages in id order (SortID only): ids greater than this.
	AfterID int64
	Sort    DocumentSort
	// Offset skips that many matching documents; Limit defaults to 100, at
	// most MaxDocumentPage.
	Offset, Limit int
	// WithTotal counts every matching document into DocumentPage.Total.
	WithTotal bool
}

// MaxDocumentPage bounds DocumentQuery.Limit.
const MaxDocumentPage = 1000

// DocumentPage is one page of a DocumentQuery; Total counts every match
// when the query asked for it.
type DocumentPage struct {
	Documents []Document
	Total     int
}

// TransitionParams moves a document from one of From to To, enqueuing
// Acks in the same transaction. ErrConflict when the document is not in one
// of From; ErrNotFound when it does not exist.
type TransitionParams struct {
	ID     int64
	From   []DocumentState
	To     DocumentState
	Reason string
	// BusAckCode records the business ack sent with this change (0: none).
	BusAckCode int
	Now        time.Time
	Acks       []NewAck
	// Match, when set, records the register patient a person matched the
	// document to (Document.MatchedPatient, MatchedBy, MatchedAt = Now).
	Match *ManualMatch
	// By names the person who made the change; moving to DocFiled records
	// it as Document.FiledBy (FiledAt = Now).
	By string
	// Events are appended to the document's history in the same
	// transaction. A document this change archives (the one a replacement
	// replaces) gets an EventReplaced by the same actor.
	Events []NewDocumentEvent
}

// AnnotateParams records a person's note or assignment on a document, with
// its event, in one transaction. AssignTo, when set, becomes
// Document.AssignedTo ("" unassigns).
type AnnotateParams struct {
	ID       int64
	Now      time.Time
	Event    NewDocumentEvent
	AssignTo *string
}

// ManualMatch is a person's choice of register patient for a held document.
type ManualMatch struct {
	Patient DocPatient
	By      string
}

// DocumentStore holds the practice worklist.
type DocumentStore interface {
	GetDocument(ctx context.Context, id int64) (Document, error)
	// QueryDocuments returns one page of the documents q selects, in q's
	// order.
	QueryDocuments(ctx context.Context, q DocumentQuery) (DocumentPage, error)
	// TransitionDocument changes a document's state. Moving a replacement to
	// awaiting filing or filed archives the document it replaces.
	TransitionDocument(ctx context.Context, p TransitionParams) (Document, error)
	// AnnotateDocument records a note or an assignment; ErrNotFound for an
	// unknown document.
	AnnotateDocument(ctx context.Context, p AnnotateParams) (Document, error)
	// DocumentEvents lists a document's history, oldest first.
	DocumentEvents(ctx context.Context, id int64) ([]DocumentEvent, error)
	// LatestDocumentEvent is the id of the newest history event of any
	// document (0 when none): it changes whenever a document does.
	LatestDocumentEvent(ctx context.Context) (int64, error)
	// HeldPastDeadline lists held documents whose deadline is before now.
	HeldPastDeadline(ctx context.Context, now time.Time, limit int) ([]Document, error)
	// CountDocuments counts documents per state.
	CountDocuments(ctx context.Context) (map[DocumentState]int, error)
}

// RegisterStatus is a practice register entry's status.
type RegisterStatus string

// Register statuses.
const (
	StatusRegistered RegisterStatus = "registered"
	StatusLeft       RegisterStatus = "left"
	StatusDeceased   RegisterStatus = "deceased"
)

// Patient is one entry of the practice register.
type Patient struct {
	NHSNumber string         `json:"nhsNumber"`
	BirthDate string         `json:"birthDate"` // YYYY-MM-DD
	Family    string         `json:"family"`
	Given     string         `json:"given"`
	Status    RegisterStatus `json:"status"`
	DeathDate string         `json:"deathDate,omitempty"`
	LeftDate  string         `json:"leftDate,omitempty"`
}

// UpsertResult counts what an import changed.
type UpsertResult struct {
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// RegisterStore holds the practice register.
type RegisterStore interface {
	// UpsertPatients inserts or replaces entries, all or none.
	UpsertPatients(ctx context.Context, ps []Patient, now time.Time) (UpsertResult, error)
	// GetPatient returns ErrNotFound for an unknown NHS number (the error
	// does not carry the number).
	GetPatient(ctx context.Context, nhsNumber string) (Patient, error)
	CountPatients(ctx context.Context) (int, error)
}

// AckKind is InfAck or BusAck.
type AckKind string

// Ack kinds.
const (
	AckInf AckKind = "inf"
	AckBus AckKind = "bus"
)

// NewAck is an ITK3 response to send, enqueued in the outbox. At most one of
// each kind exists per message.
type NewAck struct {
	Kind       AckKind
	Code       int
	To         string // the original sender's mailbox
	WorkflowID string // …_ACK of the message's generation
	HeaderID   string // the response's own MessageHeader.id
	Body       []byte // the ITK3 response bundle (XML)
}

// Ack is an outbox row.
type Ack struct {
	ID         int64
	MessageID  int64
	Kind       AckKind
	Code       int
	To         string
	WorkflowID string
	HeaderID   string
	Body       []byte
	Attempts   int
	CreatedAt  time.Time
	SentAt     time.Time
	MeshID     string
	LastError  string
}

// AckSent is an ack MESH accepted, with the id MESH gave it.
type AckSent struct {
	ID     int64
	MeshID string
}

// AckStore is the outbox of acknowledgements.
type AckStore interface {
	// ClaimAcks leases unsent acks whose lease is free or expired; a BusAck
	// is claimed only after its message's InfAck was sent.
	ClaimAcks(ctx context.Context, p ClaimParams) ([]Ack, error)
	// MarkAckSent records that MESH accepted the ack (idempotent).
	MarkAckSent(ctx context.Context, id int64, meshID string, now time.Time) error
	// MarkAcksSent is MarkAckSent for several acks in one transaction;
	// unknown ids are skipped.
	MarkAcksSent(ctx context.Context, sent []AckSent, now time.Time) error
	// ReleaseAck gives a claimed ack back after a failure.
	ReleaseAck(ctx context.Context, id int64, owner, errText string, retryAt time.Time) error
	// ListAcks lists the acks of a message.
	ListAcks(ctx context.Context, messageID int64) ([]Ack, error)
	// CountAcks counts acks per code and whether sent.
	CountAcks(ctx context.Context) (sent map[int]int, pending int, err error)
	// SentAckMeshIDs reports which of the MESH message ids are recorded
	// as the MESH id of a sent ack.
	SentAckMeshIDs(ctx context.Context, meshIDs []string) (map[string]bool, error)
}
