-- Signed-in sessions of the web UI: id is a hash of the session cookie,
-- data is opaque to the store, expires_at is Unix microseconds.
CREATE TABLE web_sessions (
	id         TEXT PRIMARY KEY,
	data       BLOB NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
