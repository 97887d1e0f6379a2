-- Generic FHIR Receiver: inline payloads move to a table of their own. SQLite
-- rewrites a whole row on UPDATE, so a payload kept in receiver_messages was
-- written again with every claim, outcome and MESH acknowledgement; here it is
-- written once.
CREATE TABLE receiver_payloads (
	message_id INTEGER PRIMARY KEY REFERENCES receiver_messages (id),
	payload    BLOB NOT NULL
);
INSERT INTO receiver_payloads (message_id, payload) SELECT id, payload FROM receiver_messages WHERE payload IS NOT NULL;
ALTER TABLE receiver_messages DROP COLUMN payload;
