// Package mesh is a client for the NHS MESH REST API (version 2) together with
// the wire types that a MESH server shares with it: the NHSMESH authorisation
// token, header names, JSON bodies, error codes and message identifiers.
//
// # Client
//
// [NewClient] builds a [Client] from a [Config]: mailbox credentials, mutual
// TLS material, chunk size, retry policy, logger and clock. Every operation
// takes a context. Bodies are streamed both ways: [Client.Send] reads an
// io.Reader one chunk at a time and [Client.Get] returns an io.ReadCloser
// over chunks 1..N, so memory stays bounded whatever the message size.
// [Client.Download] with [DownloadOptions].MaxBytes also bounds the payload
// after decompression: past it the reader stops with a [*TooLargeError].
//
// Idempotent requests (GET, HEAD, PUT, chunk uploads) are retried with a
// fresh token under the [RetryPolicy]. The first POST of a message is never
// repeated blindly: after an ambiguous failure the client looks the message
// up by its local ID and either resumes or returns an [*OutcomeUnknownError]
// that carries what it found.
//
// # Wire
//
// [Token] builds and verifies the NHSMESH Authorization header; [Error]
// carries an HTTP status with a MESH error code and is returned by the client
// and rendered by servers with [WriteError]. Nothing in this package logs
// message content, subjects or credentials.
package mesh
