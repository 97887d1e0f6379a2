// Package meshserver is a MESH-compatible mailbox server: an http.Handler
// that serves the NHS MESH REST API (v1 and v2 media types) with NHSMESH
// authentication, workflow permissions, chunked and compressed messages,
// GPPROVIDER demographic routing with EPL reports and 5-day expiry, over a
// Store it declares (see sqlitestore) and a blob.Store for payloads.
//
// # Behaviour
//
// Routes live under /messageexchange as on live MESH: handshake, outbox
// (single and chunked sends), inbox listing (500 per page, links.next,
// workflow_filter), rich inbox and outbox, download (GET, HEAD, chunks),
// acknowledge, count, tracking by message id and the deprecated local-id
// form, endpoint lookup and workflow search (the last two need no token).
// Errors carry the live status codes and the v1 or v2 JSON error body of
// mesh.Error. Message ids have the live form yyyyMMddHHmmssffffff_XXXXXX.
//
// Responses follow the OpenAPI specification's schemas where its prose or
// examples say otherwise (testdata/spec/mesh-api.yaml): every header once
// (mex-* names lower-case, as live MESH, the others canonical), v2 tracking
// timestamps as RFC 3339 date-times (v1 keeps yyyyMMddHHmmss), empty bodies
// without a content type (v2 handshake and acknowledgement), downloads as
// application/octet-stream with the sender's type in mex-content-type,
// every 400 as FastAPI's HTTPValidationError in application/json, and a
// HEAD answering 200 even for a chunked message.
//
// Every mailbox request passes, in order: the client certificate check
// (Config.RequireClientCert: a verified certificate whose CN is the mailbox
// id or starts with "{id}."), the NHSMESH token shape, token mailbox equal
// to the path mailbox, the token timestamp within ±2 hours, the HMAC with
// the shared key and mailbox password (constant time), the mailbox being
// active, and the token not used before. Used tokens are recorded in the
// Store, so several server processes sharing one store reject a token
// replayed on any of them. Every failure is a 403 with the same body.
//
// Payload chunks are written to the blob.Store (durably, before the row
// that names them is committed), so a crash never lists a message whose
// payload is missing. gpcm mesh-server and meshtest give it a tier.Store:
// chunks up to tier.DefaultThreshold (32 KiB) as rows of the metadata
// database, larger ones as files or S3 objects. The first chunk of a send
// no larger than Store.InlineMax goes to Store.Send with its body, which
// commits body, chunk record and message row together (the payload store
// reads it back under its key); a chunked message is listed only when
// every chunk is stored. Request bodies are limited to Config.MaxRequestBytes (413), a
// message's chunks together to Config.MaxMessageBytes (413, checked from
// Content-Length before the body is read where it can be), and what waits
// in one mailbox to Config.QuotaMessages and Config.QuotaBytes (417 event
// SEND "Recipient mailbox is full"; UpkeepStore.InboxUsage).
//
// Each MESH request is one Store method (RequestStore: Authenticate, Send,
// UploadChunk, InboxPage, Download, Acknowledge, Rich, Track) that records
// the request's token with its work, only while the mailbox is still the
// one the server verified the token against; each driver decides how to do
// it in one round trip. Nothing is written to the client before the token
// is recorded. The server remembers callers' mailboxes only as guesses
// that the store confirms on every request (a changed mailbox is read
// afresh and the token verified again), so several processes stay exact.
//
// # Lifecycle
//
// Start runs a worker that moves accepted messages not acknowledged within
// Config.Expiry (default 5 days) to undeliverable and gives the sender a
// REPORT (code 14); uploads never completed expire the same way. Finished
// messages and reports are deleted after Config.Retention (30 days).
// A Mex-To of GPPROVIDER_{NHS number}_{date of birth}_{surname} on the
// workflows in Config.GPProviderWorkflows is routed through the patient
// register (date of birth YYYYMMDD or DDMMYYYY) to the one mailbox of the
// patient's practice that receives the workflow (so a practice may keep
// GP Connect Update Record, GPCONNECT_UPDATE_RECORD and _ACK, on another
// mailbox than Send Document); otherwise the sender gets a REPORT with
// EPL-150 to EPL-154 and tracking shows status "error".
//
// # Throttling
//
// Failed authentications (MESH tokens and admin tokens) are counted by
// mailbox, by client address and by the two together (package authlimit,
// Config.AuthLimits, DefaultAuthLimits). Past the free failures each new
// failure doubles the wait before the next attempt, up to a few minutes; an
// attempt that must wait gets 429 with Retry-After before its token is
// checked. One address's failures never delay a mailbox for the others.
//
// # Admin API
//
// With Config.AdminToken set (at least MinAdminTokenBytes bytes), /admin/
// accepts "Authorization: Bearer TOKEN":
//
//	GET    /admin/mailboxes                  list mailboxes
//	PUT    /admin/mailboxes/{id}             create or replace {"password","ods_code","name","workflows","active"}
//	POST   /admin/mailboxes/{id}/disable     (and /enable)
//	POST   /admin/reports                    inject a REPORT {"mailbox_id","code","description","workflow_id",...}
//	DELETE /admin/reset[/{mailbox}]          delete messages and payloads
//	GET    /admin/messages[?mailbox=ID]      list messages
//	POST   /admin/time {"advance":"120h"}    move the lifecycle clock forward and run expiry
//	POST   /admin/expire                     run expiry now
//	PUT    /admin/patients/{nhs number}      {"birth_date","surname","ods_code"}
//
// /healthz (also /health and /messageexchange/_ping) and /metrics
// (Prometheus text: requests by route and status, payload bytes in and
// out, authentication failures, expiries, messages by status) need no
// token. With Config.RequireClientCert every route but /healthz needs a
// verified client certificate (any the client CA signed; a mailbox route
// one naming the mailbox), refused with the MESH 403 like a bad token.
package meshserver
