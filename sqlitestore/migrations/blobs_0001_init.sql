-- Small payload objects kept inline (blob.Store on the database; see blobs.go).
-- Keys compare byte-wise (BINARY), so a prefix is a key range.
CREATE TABLE blobs (
	key  TEXT PRIMARY KEY,
	data BLOB NOT NULL
) WITHOUT ROWID;
