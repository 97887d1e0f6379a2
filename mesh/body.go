package mesh

// JSON bodies of the MESH API. Types without a version suffix are the v2
// shapes (Accept: application/vnd.mesh.v2+json); V1 types are the legacy
// shapes a server still serves to clients that ask for application/json.

// HandshakeV1 is the v1 body of POST /messageexchange/{mailbox}; v2 is empty.
type HandshakeV1 struct {
	MailboxID string `json:"mailboxId"`
}

// SendResponse is the 202 body of a send or chunk upload.
type SendResponse struct {
	MessageID string `json:"message_id"`
}

// SendResponseV1 is the v1 202 body of a send (and, with BlockID, a chunk).
type SendResponseV1 struct {
	MessageID string `json:"messageID"`
	BlockID   int    `json:"blockID,omitempty"`
}

// Links are the paging links of a v2 listing; paths with query, no host.
type Links struct {
	Self string `json:"self,omitempty"`
	Next string `json:"next,omitempty"`
}

// InboxResponse is the body of GET /messageexchange/{mailbox}/inbox.
type InboxResponse struct {
	Messages         []string `json:"messages"`
	Links            Links    `json:"links"`
	ApproxInboxCount int      `json:"approx_inbox_count"`
}

// InboxResponseV1 is the v1 inbox body.
type InboxResponseV1 struct {
	Messages []string `json:"messages"`
}

// RichMessage is one entry of the rich inbox or outbox (not in the public
// specification; shape of the NHS sandbox).
type RichMessage struct {
	MessageID       string `json:"message_id"`
	ExpiryTimestamp string `json:"expiry_timestamp,omitempty"`
	LocalID         string `json:"local_id,omitempty"`
	MessageType     string `json:"message_type"`
	Recipient       string `json:"recipient"`
	RecipientName   string `json:"recipient_name,omitempty"`
	Sender          string `json:"sender"`
	SenderName      string `json:"sender_name,omitempty"`
	SentDate        string `json:"sent_date,omitempty"`
	Status          string `json:"status"`
	StatusCode      string `json:"status_code,omitempty"`
	WorkflowID      string `json:"workflow_id"`
	TotalChunks     int    `json:"total_chunks,omitempty"`
}

// RichInboxResponse is the body of GET …/inbox/rich and …/outbox/rich.
type RichInboxResponse struct {
	ValidAt  string        `json:"valid_at"`
	Messages []RichMessage `json:"messages"`
	Links    Links         `json:"links"`
}

// CountResponse is the body of the deprecated GET …/count.
type CountResponse struct {
	Count int `json:"count"`
}

// CountResponseV1 is the v1 count body.
type CountResponseV1 struct {
	Count              int    `json:"count"`
	InternalID         string `json:"internalID"`
	AllResultsIncluded bool   `json:"allResultsIncluded"`
}

// AckResponseV1 is the v1 body of an acknowledgement (v2 is empty).
type AckResponseV1 struct {
	MessageID string `json:"messageId"`
}

// Tracking is the v2 body of GET …/outbox/tracking?messageID=…. Timestamps
// are kept as sent: the specification mixes yyyyMMddHHmmss and ISO 8601
// ([ParseTimestamp] reads both).
type Tracking struct {
	MessageID         string `json:"message_id"`
	LocalID           string `json:"local_id,omitempty"`
	WorkflowID        string `json:"workflow_id,omitempty"`
	Filename          string `json:"filename,omitempty"`
	ExpiryTime        string `json:"expiry_time,omitempty"`
	UploadTimestamp   string `json:"upload_timestamp,omitempty"`
	Recipient         string `json:"recipient,omitempty"`
	RecipientName     string `json:"recipient_name,omitempty"`
	RecipientODSCode  string `json:"recipient_ods_code,omitempty"`
	RecipientOrgCode  string `json:"recipient_org_code,omitempty"`
	RecipientOrgName  string `json:"recipient_org_name,omitempty"`
	StatusSuccess     *bool  `json:"status_success,omitempty"`
	Status            string `json:"status"`
	StatusEvent       string `json:"status_event,omitempty"`
	StatusTimestamp   string `json:"status_timestamp,omitempty"`
	StatusDescription string `json:"status_description,omitempty"`
	StatusCode        string `json:"status_code,omitempty"`
}

// TrackingV1 is the v1 tracking body (also the only body of the deprecated
// tracking by local ID). Nullable fields are pointers.
type TrackingV1 struct {
	AddressType          string  `json:"addressType,omitempty"`
	Checksum             *string `json:"checksum"`
	ChunkCount           int     `json:"chunkCount,omitempty"`
	CompressFlag         *string `json:"compressFlag"`
	ContentEncoding      *string `json:"contentEncoding"`
	DownloadTimestamp    *string `json:"downloadTimestamp"`
	DTSID                string  `json:"dtsId"`
	EncryptedFlag        *string `json:"encryptedFlag"`
	ExpiryTime           *string `json:"expiryTime"`
	FailureDate          *string `json:"failureDate"`
	FailureDiagnostic    *string `json:"failureDiagnostic"`
	FileName             *string `json:"fileName"`
	FileSize             int64   `json:"fileSize"`
	IsCompressed         *string `json:"isCompressed"`
	LinkedMsgID          *string `json:"linkedMsgId"`
	LocalID              *string `json:"localId"`
	MeshRecipientODSCode *string `json:"meshRecipientOdsCode"`
	MessageID            string  `json:"messageId"`
	MessageType          string  `json:"messageType,omitempty"`
	PartnerID            *string `json:"partnerId"`
	Recipient            string  `json:"recipient,omitempty"`
	RecipientName        *string `json:"recipientName"`
	RecipientOrgCode     *string `json:"recipientOrgCode"`
	RecipientOrgName     *string `json:"recipientOrgName"`
	RecipientSMTP        *string `json:"recipientSmtp"`
	Sender               string  `json:"sender,omitempty"`
	SenderName           *string `json:"senderName"`
	SenderODSCode        *string `json:"senderOdsCode"`
	SenderOrgCode        *string `json:"senderOrgCode"`
	SenderOrgName        *string `json:"senderOrgName"`
	SenderSMTP           *string `json:"senderSmtp"`
	Status               string  `json:"status,omitempty"`
	StatusCode           *string `json:"statusCode"`
	StatusDescription    *string `json:"statusDescription"`
	StatusEvent          *string `json:"statusEvent"`
	StatusSuccess        *string `json:"statusSuccess"` // "SUCCESS" or "ERROR"
	StatusTimestamp      *string `json:"statusTimestamp"`
	Subject              *string `json:"subject"`
	UploadTimestamp      *string `json:"uploadTimestamp"`
	Version              string  `json:"version,omitempty"`
	WorkflowID           *string `json:"workflowId"`
}

// LookupResult is one mailbox found by endpoint lookup or workflow search.
type LookupResult struct {
	MailboxID   string `json:"mailbox_id"`
	MailboxName string `json:"mailbox_name"`
}

// LookupResponse is the v2 body of endpointlookup and workflowsearch.
type LookupResponse struct {
	Results []LookupResult `json:"results"`
}

// LookupResultV1 is one v1 endpoint lookup result.
type LookupResultV1 struct {
	Address      string `json:"address"`
	Description  string `json:"description"`
	EndpointType string `json:"endpoint_type"`
}

// LookupResponseV1 is the v1 body of endpointlookup.
type LookupResponseV1 struct {
	QueryID string           `json:"query_id"`
	Results []LookupResultV1 `json:"results"`
}

// ErrorDetail is one entry of a v2 error body.
type ErrorDetail struct {
	Event string `json:"event"`
	Code  string `json:"code"`
	Msg   string `json:"msg"`
}

// ErrorResponse is the v2 error body.
type ErrorResponse struct {
	MessageID  string        `json:"message_id,omitempty"`
	InternalID string        `json:"internal_id,omitempty"`
	Detail     []ErrorDetail `json:"detail"`
}

// ErrorResponseV1 is the v1 error body.
type ErrorResponseV1 struct {
	MessageID        string `json:"messageID,omitempty"`
	ErrorEvent       string `json:"errorEvent"`
	ErrorCode        string `json:"errorCode"`
	ErrorDescription string `json:"errorDescription"`
}
