-- Generic FHIR Receiver acceptance policy (issue 17). A message larger than
-- the receiver's limit keeps only its head (for the MessageHeader.id) and is
-- answered 20015.
ALTER TABLE receiver_messages ADD COLUMN too_large BOOLEAN NOT NULL DEFAULT false;
-- Deviations that never reject (MESH transport metadata: subject wording,
-- local ID) are recorded on the document for staff, as JSON
-- [{"requirement","path","message"}]; sender_ods is the sending
-- organisation (MessageHeader.sender's ODS code): a replacement replaces
-- only a document of the same organisation.
ALTER TABLE receiver_documents ADD COLUMN mesh_findings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE receiver_documents ADD COLUMN sender_ods TEXT NOT NULL DEFAULT '';
