package sender

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// State is where a transmission stands.
type State string

// Transmission states.
const (
	StateQueued      State = "queued"       // stored, waiting to be sent
	StateSendUnknown State = "send_unknown" // the first POST failed ambiguously; outbox check pending
	StateSent        State = "sent"         // MESH accepted it (202)
	StateDelivered   State = "delivered"    // the recipient acknowledged the MESH message (tracking)
	StateInfAck      State = "infack"       // positive infrastructure acknowledgement received
	StateComplete    State = "complete"     // positive business acknowledgement received
	StateFailed      State = "failed"       // negative acknowledgement, REPORT or rejection
	StateOverdue     State = "overdue"      // an acknowledgement missed its deadline
	StateSuperseded  State = "superseded"   // a newer version of the consultation replaced it before it was sent
	StateCancelled   State = "cancelled"    // a person withdrew it before it was sent
)

// Terminal reports whether no further progress is expected without a person.
func (s State) Terminal() bool {
	return s == StateComplete || s == StateFailed || s == StateSuperseded || s == StateCancelled
}

// States lists every state in flow order.
func States() []State {
	return []State{StateQueued, StateSendUnknown, StateSent, StateDelivered, StateInfAck, StateComplete, StateFailed, StateOverdue,
		StateSuperseded, StateCancelled}
}

// Source says what was submitted.
const (
	SourceInput   = "input"   // a senddoc.Input, built here
	SourceMessage = "message" // a ready ITK3 message
)

// Transmission is one report in the outbox and everything known about it.
type Transmission struct {
	ID     string `json:"id"`
	Key    string `json:"key"` // idempotency key (unique)
	State  State  `json:"state"`
	Source string `json:"source"`

	// MESH envelope. Subject carries patient data: never log it.
	WorkflowID    string `json:"workflowId"`
	AckWorkflowID string `json:"ackWorkflowId,omitempty"`
	From          string `json:"from"`
	To            string `json:"to"`
	Subject       string `json:"subject,omitempty"`
	LocalID       string `json:"localId,omitempty"`

	// Identifiers of the ITK3 message, used to match responses.
	HeaderID         string `json:"headerId"`
	BundleID         string `json:"bundleId,omitempty"`
	BundleIdentifier string `json:"bundleIdentifier,omitempty"`
	DocumentID       string `json:"documentId,omitempty"`
	SenderReference  string `json:"senderReference,omitempty"`
	Version          int    `json:"version,omitempty"`
	// ReplacesID is the transmission whose document this one replaces;
	// ResendOf the failed transmission this one sends again.
	ReplacesID string `json:"replacesId,omitempty"`
	ResendOf   string `json:"resendOf,omitempty"`

	ContentType string `json:"contentType"`
	PayloadSize int64  `json:"payloadSize"`

	// Edit window (consultation reports, GPCM-SD-CS-075/076). HoldUntil is
	// when a queued report's edit window closes and it goes out (zero: sent
	// at once); SendBy when the 3-hour send window after the consultation's
	// last update ends. SupersededBy is the newer version that replaced
	// this one while it waited.
	HoldUntil    time.Time `json:"holdUntil,omitzero"`
	SendBy       time.Time `json:"sendBy,omitzero"`
	SupersededBy string    `json:"supersededBy,omitempty"`
	// Consultation identifies the consultation the report is a version of:
	// a hash of its SenderReference (the encounter), patient, sender and
	// recipient ("" when it has no SenderReference). Versions of one
	// consultation share it.
	Consultation string `json:"-"`
	// Superseded lists the waiting versions this transmission replaced when
	// it was created (CreateTransmission fills it; not stored).
	Superseded []string `json:"superseded,omitempty"`

	// Sending.
	MeshMessageID    string    `json:"meshMessageId,omitempty"`
	Attempts         int       `json:"attempts"`
	AttemptFile      string    `json:"attemptFile,omitempty"` // Mex-FileName of the latest attempt, recorded before the POST
	AttemptStartedAt time.Time `json:"attemptStartedAt,omitzero"`
	NextAttemptAt    time.Time `json:"nextAttemptAt,omitzero"`
	NextChunk        int       `json:"nextChunk,omitempty"` // resume point of an interrupted chunked send
	LeaseOwner       string    `json:"-"`
	LeaseUntil       time.Time `json:"-"`

	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
	SentAt        time.Time `json:"sentAt,omitzero"`
	DeliveredAt   time.Time `json:"deliveredAt,omitzero"`
	InfAckAt      time.Time `json:"infAckAt,omitzero"`
	InfAckCode    int       `json:"infAckCode,omitempty"`
	BusAckAt      time.Time `json:"busAckAt,omitzero"`
	BusAckCode    int       `json:"busAckCode,omitempty"`
	InfAckDue     time.Time `json:"infAckDue,omitzero"`
	BusAckDue     time.Time `json:"busAckDue,omitzero"`
	LastTrackedAt time.Time `json:"lastTrackedAt,omitzero"`
	LastError     string    `json:"lastError,omitempty"`
}

// Event is one recorded change of a transmission.
type Event struct {
	ID             int64     `json:"id"`
	TransmissionID string    `json:"transmissionId"`
	At             time.Time `json:"at"`
	From           State     `json:"from"`
	To             State     `json:"to"`
	Note           string    `json:"note,omitempty"`
	// Actor is who caused the event: a web user's name, "cli", "API" (or
	// the name an API caller gave), "" for the sender itself.
	Actor string `json:"actor,omitempty"`
}

// Reason says why an alert was raised (GPCM-SD-043/044/045).
type Reason string

// Alert reasons.
const (
	ReasonNegativeInfAck  Reason = "negative_infack"  // receiver refused the message (GPCM-SD-044)
	ReasonNegativeBusAck  Reason = "negative_busack"  // receiver could not file it (GPCM-SD-044)
	ReasonNoInfAck        Reason = "no_infack"        // no InfAck by its deadline (GPCM-SD-045)
	ReasonNoBusAck        Reason = "no_busack"        // no BusAck by its deadline (GPCM-SD-045)
	ReasonRouting         Reason = "mesh_routing"     // EPL-150…154 REPORT (GPCM-SD-043)
	ReasonUndeliverable   Reason = "mesh_undelivered" // MESH expired it or the recipient is gone (code 14)
	ReasonMeshReport      Reason = "mesh_report"      // any other MESH error REPORT
	ReasonRejected        Reason = "mesh_rejected"    // MESH refused the send (e.g. 417 code 12)
	ReasonUnmatched       Reason = "unmatched"        // a response or REPORT matched no transmission
	ReasonReplacementVoid Reason = "replacement_void" // 20014: original and replacement are void
	ReasonSendLate        Reason = "send_late"        // a consultation report went after its send window (GPCM-SD-CS-075)
)

// Alert delivery states.
const (
	DeliveryPending   = "pending"   // the hook has not yet taken it
	DeliveryDelivered = "delivered" // the hook took it
	DeliveryNoHook    = "no_hook"   // no hook configured; visible in the API only
)

// Alert tells a person that a report needs attention. It never carries
// patient data.
type Alert struct {
	ID             int64     `json:"id"`
	TransmissionID string    `json:"transmissionId,omitempty"`
	Reason         Reason    `json:"reason"`
	Code           string    `json:"code,omitempty"` // ITK3 or MESH code
	Message        string    `json:"message"`
	MeshMessageID  string    `json:"meshMessageId,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	Delivery       string    `json:"delivery"`
	DeliveredAt    time.Time `json:"deliveredAt,omitzero"`
	Attempts       int       `json:"attempts"`
	NextAttemptAt  time.Time `json:"nextAttemptAt,omitzero"`
	LastError      string    `json:"lastError,omitempty"`
}

// InboxRecord remembers a MESH inbox message the sender processed, so that
// a message seen again (the ack to MESH was lost) is only acknowledged.
type InboxRecord struct {
	MessageID      string    `json:"messageId"`
	Kind           string    `json:"kind"` // "response" or "report"
	TransmissionID string    `json:"transmissionId,omitempty"`
	Code           string    `json:"code,omitempty"`
	Outcome        string    `json:"outcome"`
	ReceivedAt     time.Time `json:"receivedAt"`
}

// Store errors.
var (
	ErrNotFound  = errors.New("sender: not found")
	ErrConflict  = errors.New("sender: state changed concurrently")
	ErrDuplicate = errors.New("sender: already recorded")
	// ErrStale matches *StaleError.
	ErrStale = errors.New("sender: a newer version of this consultation is in the outbox")
)

// StaleError refuses an older version of a consultation's report: a newer
// one (a higher version, or the same version already sent) is in the
// outbox, and only the latest version may be sent (GPCM-SD-CS-076).
type StaleError struct {
	Version int          // the version refused
	Newer   Transmission // the transmission holding the newer version
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("sender: version %d of this consultation's report is stale: transmission %s already holds version %d (%s); "+
		"only the latest version is sent (GPCM-SD-CS-076): submit the edit as version %d, or as a replacement once the report was sent",
		e.Version, e.Newer.ID, e.Newer.Version, e.Newer.State, e.Newer.Version+1)
}

// Is matches ErrStale.
func (e *StaleError) Is(target error) bool { return target == ErrStale }

// Ref names an identifier a transmission can be found by.
type Ref string

// Refs used to match responses and REPORTs.
const (
	RefHeaderID         Ref = "header_id"
	RefBundleID         Ref = "bundle_id"
	RefBundleIdentifier Ref = "bundle_identifier"
	RefSenderReference  Ref = "sender_reference"
	RefMeshMessageID    Ref = "mesh_message_id"
	RefDocumentID       Ref = "document_id"
)

// NewTransmission is what CreateTransmission stores.
type NewTransmission struct {
	Transmission
	Payload []byte
	Input   []byte // the senddoc.Input JSON, kept for replacement; nil for messages
	// By is who submitted it (the first event's Actor).
	By string
	// Supersede makes this the latest version of its consultation (same
	// Consultation; another DocumentID), in the same transaction as the
	// insert (GPCM-SD-CS-076): a version still waiting
	// to be sent (queued, no attempt recorded) with a version no higher
	// moves to superseded; a higher version anywhere, or the same version
	// sent or being sent, refuses the insert with *StaleError. Failed,
	// superseded and cancelled versions do not count, nor does the same
	// document submitted again.
	Supersede bool
}

// Changes lists the fields a transition sets; nil fields stay as they are.
type Changes struct {
	MeshMessageID    *string
	Attempts         *int
	AttemptFile      *string
	AttemptStartedAt *time.Time
	NextAttemptAt    *time.Time
	NextChunk        *int
	SentAt           *time.Time
	DeliveredAt      *time.Time
	InfAckAt         *time.Time
	InfAckCode       *int
	BusAckAt         *time.Time
	BusAckCode       *int
	InfAckDue        *time.Time
	BusAckDue        *time.Time
	LastTrackedAt    *time.Time
	LastError        *string
	HoldUntil        *time.Time
}

// NewAlert is an alert created with a transition.
type NewAlert struct {
	Reason        Reason
	Code          string
	Message       string
	MeshMessageID string
	Delivery      string // DeliveryPending or DeliveryNoHook
}

// TransitionParams changes one transmission atomically: the state (if To is
// set and From allows it), the fields in Set, an event, and optionally an
// alert and an inbox record, all in one transaction.
type TransitionParams struct {
	ID   string
	From []State // allowed current states; empty allows any
	To   State   // "" keeps the state
	At   time.Time
	Note string
	// By is who caused the change (the event's Actor); "" for the sender.
	By  string
	Set Changes
	// ReleaseLease clears the claim.
	ReleaseLease bool
	// RequireIdle refuses the change with ErrConflict when a send attempt
	// is recorded (AttemptFile set): the report may be on its way.
	RequireIdle bool
	Alert       *NewAlert
	// Inbox records the MESH message that caused the change; if it was
	// already recorded the transition fails with ErrDuplicate and nothing
	// changes.
	Inbox *InboxRecord
}

// ClaimParams claims due work for one worker until LeaseUntil.
type ClaimParams struct {
	Owner      string
	Now        time.Time
	LeaseUntil time.Time
	Limit      int
}

// ListParams filters a transmission listing (newest first).
type ListParams struct {
	State State
	Limit int
}

// AlertFilter filters an alert listing (newest first).
type AlertFilter struct {
	TransmissionID string
	Limit          int
}

// AlertDeliveryParams records one attempt to hand an alert to the hook.
type AlertDeliveryParams struct {
	ID            int64
	At            time.Time
	Delivered     bool
	Error         string
	NextAttemptAt time.Time
}

// Store keeps the outbox. Implementations must make CreateTransmission
// idempotent on Key and apply each TransitionParams in one transaction.
type Store interface {
	// CreateTransmission stores a new transmission, or returns the one
	// already stored under the same Key with created=false. With
	// t.Supersede it retires older waiting versions of the consultation
	// (listed in the result's Superseded) or refuses a stale one
	// (*StaleError), atomically with the insert.
	CreateTransmission(ctx context.Context, t NewTransmission, at time.Time) (tr Transmission, created bool, err error)
	GetTransmission(ctx context.Context, id string) (Transmission, error)
	Payload(ctx context.Context, id string) (payload, input []byte, err error)
	ListTransmissions(ctx context.Context, p ListParams) ([]Transmission, error)
	// FindTransmissions lists transmissions whose ref equals value, newest first.
	FindTransmissions(ctx context.Context, ref Ref, value string) ([]Transmission, error)
	// ClaimSend leases queued and send_unknown transmissions whose
	// NextAttemptAt has come and whose lease (if any) has run out.
	ClaimSend(ctx context.Context, p ClaimParams) ([]Transmission, error)
	// ListWaiting lists transmissions in the given states, oldest first.
	ListWaiting(ctx context.Context, states []State, limit int) ([]Transmission, error)
	Transition(ctx context.Context, p TransitionParams) (Transmission, error)
	Events(ctx context.Context, id string) ([]Event, error)
	CountByState(ctx context.Context) (map[State]int, error)

	InboxSeen(ctx context.Context, messageID string) (bool, error)
	// RecordInbox stores a processed inbox message that changed no
	// transmission, with an optional alert; ErrDuplicate if already stored.
	RecordInbox(ctx context.Context, r InboxRecord, alert *NewAlert) error

	ListAlerts(ctx context.Context, f AlertFilter) ([]Alert, error)
	// ClaimAlerts leases pending alerts whose NextAttemptAt has come.
	ClaimAlerts(ctx context.Context, p ClaimParams) ([]Alert, error)
	RecordAlertDelivery(ctx context.Context, p AlertDeliveryParams) error
}

// SubmittedNote is the note of a transmission's first event: "submitted",
// naming the waiting versions it superseded. Store drivers write it.
func SubmittedNote(superseded []string) string {
	if len(superseded) == 0 {
		return "submitted"
	}
	return "submitted; replaces the waiting version " + strings.Join(superseded, ", ") + " (GPCM-SD-CS-076: only the latest version is sent)"
}

// SupersededNote is the note of the event that retires a waiting version.
func SupersededNote(newer string) string {
	return "superseded by " + newer + ", a newer version of the consultation, before it was sent"
}
