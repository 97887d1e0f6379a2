-- MESH server: mailboxes, messages, chunk records, used tokens, patient register.
-- Identifiers use the "C" collation so that ordering and paging by id are
-- byte order, as in sqlitestore, whatever the database's locale.
CREATE TABLE mesh_mailboxes (
	id        TEXT COLLATE "C" PRIMARY KEY,
	password  TEXT NOT NULL,
	ods_code  TEXT COLLATE "C" NOT NULL DEFAULT '',
	name      TEXT NOT NULL DEFAULT '',
	active    BOOLEAN NOT NULL DEFAULT TRUE,
	workflows TEXT[]
);
CREATE INDEX mesh_mailboxes_ods ON mesh_mailboxes (ods_code);

CREATE TABLE mesh_messages (
	id                 TEXT COLLATE "C" PRIMARY KEY,
	message_type       TEXT NOT NULL,
	sender             TEXT COLLATE "C" NOT NULL,
	recipient          TEXT COLLATE "C" NOT NULL,
	workflow_id        TEXT COLLATE "C" NOT NULL,
	subject            TEXT NOT NULL DEFAULT '',
	local_id           TEXT COLLATE "C" NOT NULL DEFAULT '',
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
	size               BIGINT NOT NULL DEFAULT 0,
	created_at         TIMESTAMPTZ NOT NULL,
	status_at          TIMESTAMPTZ NOT NULL,
	-- NULL: the message does not expire / was never acknowledged.
	expires_at         TIMESTAMPTZ,
	acked_at           TIMESTAMPTZ
);
CREATE INDEX mesh_messages_inbox ON mesh_messages (recipient, status, id);
CREATE INDEX mesh_messages_expiry ON mesh_messages (status, expires_at);
CREATE INDEX mesh_messages_sender ON mesh_messages (sender, local_id);

CREATE TABLE mesh_chunks (
	message_id TEXT COLLATE "C" NOT NULL REFERENCES mesh_messages (id) ON DELETE CASCADE,
	n          INTEGER NOT NULL,
	size       BIGINT NOT NULL,
	blob_key   TEXT NOT NULL,
	PRIMARY KEY (message_id, n)
);

-- The primary key is what makes a token single-use across every server
-- process sharing the database.
CREATE TABLE mesh_nonces (
	mailbox TEXT COLLATE "C" NOT NULL,
	nonce   TEXT COLLATE "C" NOT NULL,
	count   TEXT COLLATE "C" NOT NULL,
	used_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (mailbox, nonce, count)
);
CREATE INDEX mesh_nonces_used ON mesh_nonces (used_at);

CREATE TABLE mesh_patients (
	nhs_number   TEXT PRIMARY KEY,
	birth_date   TEXT NOT NULL,
	surname      TEXT NOT NULL,
	practice_ods TEXT NOT NULL
);
