// Package meshserver is a MESH-compatible mailbox server: an http.Handler
// that serves the NHS MESH REST API (v1 and v2 media types) with NHSMESH
// authentication, workflow permissions, chunked and compressed messages,
// GPPROVIDER demographic routing with EPL reports and 5-day expiry, over a
// Store it declares (see sqlitestore) and a blob.Store for payloads.
package meshserver
