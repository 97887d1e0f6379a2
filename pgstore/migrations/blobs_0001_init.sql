-- Small payload objects kept inline (blob.Store on the database; see blobs.go).
-- Keys use the "C" collation so that a prefix is a byte-order key range.
CREATE TABLE blobs (
	key  TEXT COLLATE "C" PRIMARY KEY,
	data BYTEA NOT NULL
);
