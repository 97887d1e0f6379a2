package pgstore

import "github.com/gpcm/gpcm/meshserver"

// meshHotSQL lists the statements of the MESH server's requests (see
// Options.PrepareMesh): the four that record a request's token with its
// work (a small send, an inbox page with its count, a download, an
// acknowledgement) and the token batch of the others.
func meshHotSQL() []string {
	inbox, _ := inboxQuery(meshserver.InboxPageParams{Token: &meshserver.Token{}, Limit: 1, Count: true})
	return []string{`BEGIN`, `SET LOCAL synchronous_commit = off`, qUseTokens, `COMMIT`,
		qSendSmall, qDownloadToken, qAcknowledgeToken, inbox}
}
