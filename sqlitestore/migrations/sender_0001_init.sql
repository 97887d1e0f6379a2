-- Sender outbox: transmissions, their state history, alerts to a person and
-- the MESH inbox messages already processed.
CREATE TABLE sender_transmissions (
	id                 TEXT PRIMARY KEY,
	idem_key           TEXT NOT NULL,
	state              TEXT NOT NULL,
	source             TEXT NOT NULL,
	workflow_id        TEXT NOT NULL,
	ack_workflow_id    TEXT NOT NULL DEFAULT '',
	mesh_from          TEXT NOT NULL DEFAULT '',
	mesh_to            TEXT NOT NULL,
	subject            TEXT NOT NULL DEFAULT '',
	local_id           TEXT NOT NULL DEFAULT '',
	header_id          TEXT NOT NULL DEFAULT '',
	bundle_id          TEXT NOT NULL DEFAULT '',
	bundle_identifier  TEXT NOT NULL DEFAULT '',
	document_id        TEXT NOT NULL DEFAULT '',
	sender_reference   TEXT NOT NULL DEFAULT '',
	version            INTEGER NOT NULL DEFAULT 0,
	replaces_id        TEXT NOT NULL DEFAULT '',
	resend_of          TEXT NOT NULL DEFAULT '',
	content_type       TEXT NOT NULL DEFAULT '',
	payload            BLOB NOT NULL,
	input              BLOB,
	mesh_message_id    TEXT NOT NULL DEFAULT '',
	attempts           INTEGER NOT NULL DEFAULT 0,
	attempt_file       TEXT NOT NULL DEFAULT '',
	attempt_started_at INTEGER NOT NULL DEFAULT 0,
	next_attempt_at    INTEGER NOT NULL DEFAULT 0,
	next_chunk         INTEGER NOT NULL DEFAULT 0,
	lease_owner        TEXT NOT NULL DEFAULT '',
	lease_until        INTEGER NOT NULL DEFAULT 0,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL,
	sent_at            INTEGER NOT NULL DEFAULT 0,
	delivered_at       INTEGER NOT NULL DEFAULT 0,
	infack_at          INTEGER NOT NULL DEFAULT 0,
	infack_code        INTEGER NOT NULL DEFAULT 0,
	busack_at          INTEGER NOT NULL DEFAULT 0,
	busack_code        INTEGER NOT NULL DEFAULT 0,
	infack_due         INTEGER NOT NULL DEFAULT 0,
	busack_due         INTEGER NOT NULL DEFAULT 0,
	last_tracked_at    INTEGER NOT NULL DEFAULT 0,
	last_error         TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sender_transmissions_key ON sender_transmissions (idem_key);
CREATE INDEX sender_transmissions_due ON sender_transmissions (state, next_attempt_at);
CREATE INDEX sender_transmissions_header ON sender_transmissions (header_id);
CREATE INDEX sender_transmissions_bundle ON sender_transmissions (bundle_id);
CREATE INDEX sender_transmissions_bundle_identifier ON sender_transmissions (bundle_identifier);
CREATE INDEX sender_transmissions_sender_reference ON sender_transmissions (sender_reference);
CREATE INDEX sender_transmissions_mesh ON sender_transmissions (mesh_message_id);
CREATE INDEX sender_transmissions_document ON sender_transmissions (document_id);

CREATE TABLE sender_events (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	transmission_id TEXT NOT NULL REFERENCES sender_transmissions (id),
	at              INTEGER NOT NULL,
	from_state      TEXT NOT NULL,
	to_state        TEXT NOT NULL,
	note            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sender_events_transmission ON sender_events (transmission_id, id);

CREATE TABLE sender_alerts (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	transmission_id TEXT REFERENCES sender_transmissions (id),
	reason          TEXT NOT NULL,
	code            TEXT NOT NULL DEFAULT '',
	message         TEXT NOT NULL,
	mesh_message_id TEXT NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	delivery        TEXT NOT NULL,
	delivered_at    INTEGER NOT NULL DEFAULT 0,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	lease_owner     TEXT NOT NULL DEFAULT '',
	lease_until     INTEGER NOT NULL DEFAULT 0
);
-- One alert per reason and transmission, however often the evidence comes.
CREATE UNIQUE INDEX sender_alerts_once ON sender_alerts (transmission_id, reason) WHERE transmission_id IS NOT NULL;
CREATE INDEX sender_alerts_pending ON sender_alerts (delivery, next_attempt_at);

CREATE TABLE sender_inbox (
	message_id      TEXT PRIMARY KEY,
	kind            TEXT NOT NULL,
	transmission_id TEXT NOT NULL DEFAULT '',
	code            TEXT NOT NULL DEFAULT '',
	outcome         TEXT NOT NULL,
	received_at     INTEGER NOT NULL
);
