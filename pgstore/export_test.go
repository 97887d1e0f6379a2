package pgstore

// The statements of the MESH requests that record their token with their
// work, and their arguments, for tests that run them inside a transaction
// of their own.
var (
	SendQuery        = sendQuery
	DownloadQuery    = downloadQuery
	AcknowledgeQuery = ackQuery
	InboxQuery       = inboxQuery
)
