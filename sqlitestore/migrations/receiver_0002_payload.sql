-- Generic FHIR Receiver: small messages keep their payload in the database,
-- written in the same transaction as the message row (no file per message);
-- NULL means the payload is in the blob store under blob_key.
ALTER TABLE receiver_messages ADD COLUMN payload BLOB;
