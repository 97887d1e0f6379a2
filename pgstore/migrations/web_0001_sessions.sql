-- Signed-in sessions of the web UI (PostgreSQL twin of sqlitestore's
-- web_0001): id is a hash of the session cookie, data is opaque to the
-- store, expires_at is Unix microseconds. Every gpcm serve process on the
-- schema sees every session.
CREATE TABLE web_sessions (
	id         TEXT PRIMARY KEY,
	data       BYTEA NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
