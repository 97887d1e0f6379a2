package pgstore

import "github.com/gpcm/gpcm/meshserver"

// The statements of the legacy TokenOpStore methods and their arguments,
// for tests that run them inside a transaction of their own.
var (
	CreateInlineTokenQuery = func(tok meshserver.PendingToken, m meshserver.Message, first meshserver.Chunk, body []byte) (string, []any, error) {
		q, args := sendQuery(meshserver.SendParams{Token: legacyToken(tok), Message: m, Chunk: first, Body: body})
		return q, args, nil
	}
	ReadChunkTokenQuery = func(tok meshserver.PendingToken, id string, n int) (string, []any) {
		return downloadQuery(meshserver.DownloadParams{Token: legacyToken(tok), ID: id, Chunk: n})
	}
	AcknowledgeTokenQuery = func(tok meshserver.PendingToken, p meshserver.UpdateStatusParams) (string, []any) {
		return ackQuery(meshserver.AcknowledgeParams{Token: legacyToken(tok), Mailbox: tok.Mailbox.ID, ID: p.ID, Code: p.Code, Event: p.Event, Description: p.Description, At: p.At})
	}
	ListInboxTokenQuery = func(tok meshserver.PendingToken, p meshserver.ListInboxParams, count bool) (string, []any) {
		return inboxQuery(meshserver.InboxPageParams{Token: legacyToken(tok), Mailbox: p.Mailbox, After: p.After, Limit: p.Limit, Filter: p.Filter, Count: count})
	}
)
