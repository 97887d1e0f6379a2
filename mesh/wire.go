package mesh

import (
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"
)

// Media types of the MESH API versions (the Accept header picks one).
const (
	MediaTypeV1          = "application/vnd.mesh.v1+json"
	MediaTypeV2          = "application/vnd.mesh.v2+json"
	MediaTypeJSON        = "application/json" // served as version 1
	MediaTypeOctetStream = "application/octet-stream"
)

// Header names, in the spelling of the specification. Both sides must treat
// them case-insensitively; net/http canonicalises them.
const (
	HeaderAuthorization     = "Authorization"
	HeaderAccept            = "Accept"
	HeaderAcceptEncoding    = "Accept-Encoding"
	HeaderContentType       = "Content-Type"
	HeaderContentEncoding   = "Content-Encoding"
	HeaderContentLength     = "Content-Length"
	HeaderUserAgent         = "User-Agent"
	HeaderETag              = "ETag"
	HeaderClientVersion     = "Mex-ClientVersion"
	HeaderOSName            = "Mex-OSName"
	HeaderOSVersion         = "Mex-OSVersion"
	HeaderOSArchitecture    = "Mex-OSArchitecture"
	HeaderJavaVersion       = "Mex-JavaVersion"
	HeaderTo                = "Mex-To"
	HeaderFrom              = "Mex-From"
	HeaderWorkflowID        = "Mex-WorkflowID"
	HeaderChunkRange        = "Mex-Chunk-Range"
	HeaderTotalChunks       = "Mex-Total-Chunks"
	HeaderSubject           = "Mex-Subject"
	HeaderLocalID           = "Mex-LocalID"
	HeaderPartnerID         = "Mex-PartnerID"
	HeaderFileName          = "Mex-FileName"
	HeaderContentChecksum   = "Mex-Content-Checksum"
	HeaderMexContentType    = "Mex-Content-Type"
	HeaderContentEncrypted  = "Mex-Content-Encrypted"
	HeaderContentCompressed = "Mex-Content-Compressed"
	HeaderMessageID         = "Mex-MessageID"
	HeaderMessageType       = "Mex-MessageType"
	HeaderLinkedMsgID       = "Mex-LinkedMsgID"
	HeaderStatusCode        = "Mex-StatusCode"
	HeaderStatusEvent       = "Mex-StatusEvent"
	HeaderStatusDescription = "Mex-StatusDescription"
	HeaderStatusSuccess     = "Mex-StatusSuccess"
	HeaderStatusTimestamp   = "Mex-StatusTimestamp"
	HeaderAddressType       = "Mex-AddressType"
	HeaderVersion           = "Mex-Version"
)

// Message types (Mex-MessageType).
const (
	MessageTypeData   = "DATA"
	MessageTypeReport = "REPORT"
)

// Values of Mex-StatusSuccess.
const (
	StatusSuccessOK    = "SUCCESS"
	StatusSuccessError = "ERROR"
)

// Status events (errorEvent, detail[].event, Mex-StatusEvent).
const (
	EventTransfer = "TRANSFER"
	EventSend     = "SEND"
	EventCollect  = "COLLECT"
	EventReceive  = "RECEIVE"
)

// MESH status and error codes (errorCode, detail[].code, Mex-StatusCode).
const (
	CodeSuccess               = "00"
	CodeSendFailed            = "01"
	CodeMissingData           = "02"      // data file missing or empty (417)
	CodeMalformedHeaders      = "06"      // malformed control file / mex headers (400)
	CodeInvalidFrom           = "07"      // Mex-From does not match the authenticated mailbox
	CodeMissingTo             = "08"      // Mex-To missing
	CodeInvalidVersion        = "09"      // invalid control file version
	CodeInvalidMessageType    = "11"      // message type should be DATA
	CodeUnregisteredRecipient = "12"      // unregistered to address (417)
	CodeUndelivered           = "14"      // not collected within 5 days / recipient deactivated
	CodeBadCPIS               = "15"      // bad CP-IS file
	CodeSenderNotAllowed      = "16"      // sender may not send this type
	CodeWorkflowNotRegistered = "17"      // workflow not registered for mailbox
	CodeONSNotEnabled         = "18"      // ONS civil registration workflow not enabled
	CodeInvalidExpiry         = "19"      // invalid expiry period
	CodeMessageDoesNotExist   = "20"      // unknown message (404)
	CodeTooManyMailboxMatches = "EPL-150" // demographic routing: several mailboxes matched
	CodeNoMailboxMatches      = "EPL-151" // demographic routing: no mailbox matched
	CodeInvalidNHSNumber      = "EPL-152" // demographic routing: invalid NHS number
	CodeNHSNumberNotFound     = "EPL-153" // demographic routing: NHS number not found
	CodeNoDemographicsMatch   = "EPL-154" // demographic routing: demographics do not match
	CodeInvalidHeaderChunks   = "InvalidHeaderChunks"
	CodeUnsupportedEncoding   = "UnsupportedContentEncoding"
)

// CodeDescription returns the standard description of a MESH code, or "".
func CodeDescription(code string) string {
	switch code {
	case CodeSuccess:
		return "Transferred to recipient mailbox"
	case CodeSendFailed:
		return "Send failed"
	case CodeMissingData:
		return "Data file is missing or inaccessible"
	case CodeMalformedHeaders:
		return "Malformed control file"
	case CodeInvalidFrom:
		return "Invalid From Address"
	case CodeMissingTo:
		return "Missing To Address"
	case CodeInvalidVersion:
		return "Invalid version of the control file"
	case CodeInvalidMessageType:
		return "Invalid Message Type for the transfer"
	case CodeUnregisteredRecipient:
		return "Unregistered to address"
	case CodeUndelivered:
		return "Message not collected by recipient after 5 days"
	case CodeBadCPIS:
		return "Bad CP-IS file"
	case CodeSenderNotAllowed:
		return "Sender is not allowed to send messages of this type"
	case CodeWorkflowNotRegistered:
		return "Workflow ID not registered for mailbox"
	case CodeONSNotEnabled:
		return "ONS Civil Registration workflow not enabled"
	case CodeInvalidExpiry:
		return "Invalid expiry period"
	case CodeMessageDoesNotExist:
		return "Message does not exist"
	case CodeTooManyMailboxMatches:
		return "Multiple mailboxes matches"
	case CodeNoMailboxMatches:
		return "No mailbox matched"
	case CodeInvalidNHSNumber:
		return "Invalid NHS Number"
	case CodeNHSNumberNotFound:
		return "NHS Number not found"
	case CodeNoDemographicsMatch:
		return "NHS Number supplied does not match the demographics"
	case CodeInvalidHeaderChunks:
		return "Invalid chunk values sent in mex-Chunk-Range header"
	case CodeUnsupportedEncoding:
		return "Unsupported content encoding"
	}
	return ""
}

// Message statuses (tracking v2 spells them lower-case, v1 title-case).
const (
	StatusUploading     = "uploading"
	StatusAccepted      = "accepted"
	StatusAcknowledged  = "acknowledged"
	StatusUndeliverable = "undeliverable"
	StatusError         = "error"
)

// Limits from the specification.
const (
	MaxRequestBytes       = 100_000_000 // one message or chunk request
	DefaultChunkSize      = 20 << 20    // uncompressed bytes per chunk
	DefaultInboxPage      = 500
	MinInboxPage          = 10
	MaxInboxPage          = 5000
	StatusTimestampLayout = "20060102150405" // Mex-StatusTimestamp, tracking v1
)

// Version returns the API version an Accept header selects: 1 for none,
// application/json or v1, 2 for v2 (and n for vnd.mesh.vn+json). A header
// that mentions vnd.mesh but is not a well-formed MESH media type is an error
// (servers answer 400). Like the reference sandbox, the header is split on ";"
// and the first vnd.mesh entry decides.
func Version(accept string) (int, error) {
	for part := range strings.SplitSeq(accept, ";") {
		p := strings.TrimSpace(part)
		if !strings.Contains(strings.ToLower(p), "vnd.mesh") {
			continue
		}
		mt, _, err := mime.ParseMediaType(p)
		if err != nil {
			return 0, fmt.Errorf("accept header api format incorrect")
		}
		v, ok := strings.CutPrefix(mt, "application/vnd.mesh.v")
		if !ok {
			return 0, fmt.Errorf("accept header api format incorrect")
		}
		v, ok = strings.CutSuffix(v, "+json")
		if !ok || !allDigits(v) || len(v) > 3 {
			return 0, fmt.Errorf("accept header api format incorrect")
		}
		n, _ := strconv.Atoi(v)
		if n < 1 {
			return 0, fmt.Errorf("accept header api format incorrect")
		}
		return n, nil
	}
	return 1, nil
}

// ChunkRange is a Mex-Chunk-Range value "n:total".
type ChunkRange struct {
	N, Total int
}

func (c ChunkRange) String() string { return strconv.Itoa(c.N) + ":" + strconv.Itoa(c.Total) }

// ParseChunkRange parses "n:total" with 1 ≤ n ≤ total. An empty value means
// 1:1. Servers answer a bad value with 417 InvalidHeaderChunks.
func ParseChunkRange(s string) (ChunkRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return ChunkRange{1, 1}, nil
	}
	if len(s) > 20 {
		return ChunkRange{}, fmt.Errorf("chunk range %q: longer than 20 characters", s)
	}
	a, b, ok := strings.Cut(s, ":")
	if !ok || !allDigits(a) || !allDigits(b) {
		return ChunkRange{}, fmt.Errorf("chunk range %q: want n:total", s)
	}
	n, err1 := strconv.Atoi(a)
	t, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || n < 1 || n > t {
		return ChunkRange{}, fmt.Errorf("chunk range %q: want 1 ≤ n ≤ total", s)
	}
	return ChunkRange{n, t}, nil
}

// FormatFlag renders a boolean Mex-Content-* flag as "Y" or "N".
func FormatFlag(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// ParseFlag reads a Mex-Content-* flag the way MESH does (Y/yes/true/1 …).
func ParseFlag(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "y", "yes", "t", "true", "on", "1":
		return true, nil
	case "", "n", "no", "f", "false", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("flag value %q is not Y or N", s)
}

// ParseTimestamp reads a MESH timestamp in any of the forms seen on the wire:
// yyyyMMddHHmmss, ISO 8601 with or without zone and fraction, or RFC 1123.
// Times without a zone are UTC.
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{StatusTimestampLayout, time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", time.RFC1123, TimestampLayout} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q: unknown format", s)
}
