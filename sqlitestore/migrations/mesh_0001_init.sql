-- MESH server: mailboxes, messages, chunk records, used tokens, patient register.
CREATE TABLE mesh_mailboxes (
	id        TEXT PRIMARY KEY,
	password  TEXT NOT NULL,
	ods_code  TEXT NOT NULL DEFAULT '',
	name      TEXT NOT NULL DEFAULT '',
	active    INTEGER NOT NULL DEFAULT 1,
	workflows TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mesh_mailboxes_ods ON mesh_mailboxes (ods_code);

CREATE TABLE mesh_messages (
	id                 TEXT PRIMARY KEY,
	message_type       TEXT NOT NULL,
	sender             TEXT NOT NULL,
	recipient          TEXT NOT NULL,
	workflow_id        TEXT NOT NULL,
	subject            TEXT NOT NULL DEFAULT '',
	local_id           TEXT NOT NULL DEFAULT '',
	partner_id         TEXT NOT NULL DEFAULT '',
	file_name          TEXT NOT NULL DEFAULT '',
	checksum           TEXT NOT NULL DEFAULT '',
	content_type       TEXT NOT NULL DEFAULT '',
	content_encoding   TEXT NOT NULL DEFAULT '',
	encrypted          TEXT NOT NULL DEFAULT '',
	compressed         TEXT NOT NULL DEFAULT '',
	linked_msg_id      TEXT NOT NULL DEFAULT '',
	status             TEXT NOT NULL,
	status_code        TEXT NOT NULL DEFAULT '',
	status_event       TEXT NOT NULL DEFAULT '',
	status_description TEXT NOT NULL DEFAULT '',
	total_chunks       INTEGER NOT NULL,
	size               INTEGER NOT NULL DEFAULT 0,
	created_at         INTEGER NOT NULL,
	status_at          INTEGER NOT NULL,
	expires_at         INTEGER NOT NULL DEFAULT 0,
	acked_at           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX mesh_messages_inbox ON mesh_messages (recipient, status, id);
CREATE INDEX mesh_messages_expiry ON mesh_messages (status, expires_at);
CREATE INDEX mesh_messages_sender ON mesh_messages (sender, local_id);

CREATE TABLE mesh_chunks (
	message_id TEXT NOT NULL REFERENCES mesh_messages (id) ON DELETE CASCADE,
	n          INTEGER NOT NULL,
	size       INTEGER NOT NULL,
	blob_key   TEXT NOT NULL,
	PRIMARY KEY (message_id, n)
);

CREATE TABLE mesh_nonces (
	mailbox TEXT NOT NULL,
	nonce   TEXT NOT NULL,
	count   TEXT NOT NULL,
	used_at INTEGER NOT NULL,
	PRIMARY KEY (mailbox, nonce, count)
);
CREATE INDEX mesh_nonces_used ON mesh_nonces (used_at);

CREATE TABLE mesh_patients (
	nhs_number   TEXT PRIMARY KEY,
	birth_date   TEXT NOT NULL,
	surname      TEXT NOT NULL,
	practice_ods TEXT NOT NULL
);
