-- Generic FHIR Receiver: collected messages, duplicate keys, the practice
-- worklist, the practice register and the acknowledgement outbox.
CREATE TABLE receiver_messages (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	mesh_id           TEXT NOT NULL UNIQUE,
	workflow_id       TEXT NOT NULL,
	sender            TEXT NOT NULL,
	recipient         TEXT NOT NULL,
	subject           TEXT NOT NULL,
	local_id          TEXT NOT NULL,
	blob_key          TEXT NOT NULL,
	size              INTEGER NOT NULL,
	received_at       INTEGER NOT NULL,
	mesh_acked        INTEGER NOT NULL DEFAULT 0,
	state             TEXT NOT NULL,
	attempts          INTEGER NOT NULL DEFAULT 0,
	last_error        TEXT NOT NULL DEFAULT '',
	lease_owner       TEXT NOT NULL DEFAULT '',
	lease_until       INTEGER NOT NULL DEFAULT 0,
	next_attempt_at   INTEGER NOT NULL DEFAULT 0,
	header_id         TEXT NOT NULL DEFAULT '',
	bundle_identifier TEXT NOT NULL DEFAULT '',
	sender_reference  TEXT NOT NULL DEFAULT '',
	busack_requested  INTEGER NOT NULL DEFAULT 0,
	infack_code       INTEGER NOT NULL DEFAULT 0,
	processed_at      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX receiver_messages_claim ON receiver_messages (state, next_attempt_at, id);
CREATE INDEX receiver_messages_unacked ON receiver_messages (mesh_acked) WHERE mesh_acked = 0;

CREATE TABLE receiver_message_keys (
	key        TEXT PRIMARY KEY,
	message_id INTEGER NOT NULL REFERENCES receiver_messages (id)
);

CREATE TABLE receiver_documents (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	message_id         INTEGER NOT NULL UNIQUE REFERENCES receiver_messages (id),
	document_id        TEXT NOT NULL,
	doc_bundle_id      TEXT NOT NULL,
	message_bundle_id  TEXT NOT NULL,
	state              TEXT NOT NULL,
	subject            TEXT NOT NULL,
	type_label         TEXT NOT NULL,
	recipient_type     TEXT NOT NULL,
	nhs_number         TEXT NOT NULL,
	birth_date         TEXT NOT NULL,
	family             TEXT NOT NULL,
	given              TEXT NOT NULL,
	version            INTEGER NOT NULL,
	sender_reference   TEXT NOT NULL,
	sender             TEXT NOT NULL,
	replacement        INTEGER NOT NULL,
	replaces_id        INTEGER NOT NULL DEFAULT 0,
	replaced_by_id     INTEGER NOT NULL DEFAULT 0,
	match_reason       TEXT NOT NULL,
	reason             TEXT NOT NULL DEFAULT '',
	busack_code        INTEGER NOT NULL DEFAULT 0,
	confirmed_ack_code INTEGER NOT NULL DEFAULT 0,
	hold_until         INTEGER NOT NULL DEFAULT 0,
	findings           TEXT NOT NULL,
	attachments        TEXT NOT NULL,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX receiver_documents_document_id ON receiver_documents (document_id) WHERE document_id <> '';
CREATE INDEX receiver_documents_state ON receiver_documents (state, id);
CREATE INDEX receiver_documents_nhs ON receiver_documents (nhs_number);
CREATE INDEX receiver_documents_doc_bundle ON receiver_documents (doc_bundle_id);
CREATE INDEX receiver_documents_msg_bundle ON receiver_documents (message_bundle_id);

CREATE TABLE receiver_patients (
	nhs_number TEXT PRIMARY KEY,
	birth_date TEXT NOT NULL,
	family     TEXT NOT NULL,
	given      TEXT NOT NULL,
	status     TEXT NOT NULL,
	death_date TEXT NOT NULL,
	left_date  TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE receiver_acks (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	message_id      INTEGER NOT NULL REFERENCES receiver_messages (id),
	kind            TEXT NOT NULL,
	code            INTEGER NOT NULL,
	recipient       TEXT NOT NULL,
	workflow_id     TEXT NOT NULL,
	header_id       TEXT NOT NULL,
	body            BLOB NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	lease_owner     TEXT NOT NULL DEFAULT '',
	lease_until     INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	sent_at         INTEGER NOT NULL DEFAULT 0,
	mesh_id         TEXT NOT NULL DEFAULT '',
	last_error      TEXT NOT NULL DEFAULT '',
	UNIQUE (message_id, kind)
);
CREATE INDEX receiver_acks_unsent ON receiver_acks (sent_at, next_attempt_at, id);
