-- Generic FHIR Receiver (twin of sqlitestore's receiver_0003): inline payloads
-- move to a table of their own, written once, never with the message row's
-- state changes.
CREATE TABLE receiver_payloads (
	message_id BIGINT PRIMARY KEY REFERENCES receiver_messages (id),
	payload    BYTEA NOT NULL
);
INSERT INTO receiver_payloads (message_id, payload) SELECT id, payload FROM receiver_messages WHERE payload IS NOT NULL;
ALTER TABLE receiver_messages DROP COLUMN payload;
