-- The document history (issue 22 B5, issue 24 §3): an append-only event
-- log per document, written in the same transaction as the change it
-- records (who, when, what), kept when a later version replaces the
-- document. actor is a person's user name, "API", or '' for the receiver
-- itself; detail holds codes and the words a person typed.
CREATE TABLE receiver_document_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	document_id INTEGER NOT NULL REFERENCES receiver_documents (id),
	at          INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	actor       TEXT NOT NULL DEFAULT '',
	detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX receiver_document_events_doc ON receiver_document_events (document_id, id);
CREATE TRIGGER receiver_document_events_no_update BEFORE UPDATE ON receiver_document_events
BEGIN
	SELECT RAISE(ABORT, 'receiver_document_events is append-only');
END;
CREATE TRIGGER receiver_document_events_no_delete BEFORE DELETE ON receiver_document_events
BEGIN
	SELECT RAISE(ABORT, 'receiver_document_events is append-only');
END;
-- Documents recorded before the history: what their columns still tell.
INSERT INTO receiver_document_events (document_id, at, kind, detail)
	SELECT d.id, d.created_at, 'received', 'MESH message ' || m.mesh_id
	FROM receiver_documents d JOIN receiver_messages m ON m.id = d.message_id ORDER BY d.id;
INSERT INTO receiver_document_events (document_id, at, kind, actor, detail)
	SELECT id, matched_at, 'matched', matched_by, 'by hand to NHS number ' || matched_nhs_number
	FROM receiver_documents WHERE matched_nhs_number <> '' ORDER BY id;
INSERT INTO receiver_document_events (document_id, at, kind, detail)
	SELECT id, updated_at, state, reason FROM receiver_documents
	WHERE updated_at <> created_at AND state IN ('filed', 'rejected', 'replaced', 'void', 'not_filed') ORDER BY id;
-- Worklists page by state in received order; a document may be assigned
-- to a named person.
CREATE INDEX receiver_documents_state_created ON receiver_documents (state, created_at, id);
ALTER TABLE receiver_documents ADD COLUMN assigned_to TEXT NOT NULL DEFAULT '';
