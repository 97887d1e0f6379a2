-- Login accounts of the web UI (issue 24 §3): one row per person.
-- password_hash is a bcrypt hash; times are Unix microseconds.
CREATE TABLE web_users (
	username      TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	ods           TEXT NOT NULL DEFAULT '',
	password_hash BLOB NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);
