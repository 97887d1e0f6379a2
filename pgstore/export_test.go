package pgstore

// The statements of the TokenOpStore methods and their arguments, for tests
// that run them inside a transaction of their own.
var (
	CreateInlineTokenQuery = createInlineTokenQuery
	ReadChunkTokenQuery    = readChunkTokenQuery
	AcknowledgeTokenQuery  = acknowledgeTokenQuery
	ListInboxTokenQuery    = listInboxTokenQuery
)
