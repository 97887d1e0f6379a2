-- Generic FHIR Receiver (twin of sqlitestore's receiver_0002): small messages
-- keep their payload in the database, written in the same transaction as the
-- message row; NULL means the payload is in the blob store under blob_key.
ALTER TABLE receiver_messages ADD COLUMN payload BYTEA;
