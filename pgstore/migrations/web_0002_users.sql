-- Login accounts of the web UI (issue 24 §3; PostgreSQL twin of
-- sqlitestore's web_0002): one row per person. password_hash is a bcrypt
-- hash; times are Unix microseconds.
CREATE TABLE web_users (
	username      TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	ods           TEXT NOT NULL DEFAULT '',
	password_hash BYTEA NOT NULL,
	disabled      BOOLEAN NOT NULL DEFAULT FALSE,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
