// Package httptimeout bounds how long one request may hold an HTTP
// server's connection, so that a client sending (or reading) slowly on
// purpose cannot keep connections open for ever, while a large transfer
// that keeps moving still completes.
//
// Limits.Apply gives an http.Server its read, write and idle timeouts and
// wraps its handler: a request gets Limits.Read to arrive and Limits.Write
// to be answered, plus one second for every Limits.MinRate bytes it has
// moved (request body read plus response written). The handler pushes the
// connection's deadlines forward with http.ResponseController as the bytes
// move, so a 100 MB MESH chunk at any rate above MinRate is never cut,
// while a body trickling in below it is cut about Limits.Read after the
// request began. A response that is a long-lived stream (server-sent
// events) calls Extend before each write.
package httptimeout
