-- Generic FHIR Receiver: small messages keep their payload in the database,
-- written in the same transaction as the message row (no file per message)
-- and in a table of their own, so that the row's later state changes never
-- write the payload again. A message without a row here has its payload in
-- the blob store under receiver_messages.blob_key.
CREATE TABLE receiver_payloads (
	message_id INTEGER PRIMARY KEY REFERENCES receiver_messages (id),
	payload    BLOB NOT NULL
);
