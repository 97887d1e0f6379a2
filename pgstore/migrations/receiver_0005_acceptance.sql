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
-- Acks carry the responder's ODS code as Mex-LocalID (itk3.md §5.3), which
-- no longer tells one ack from another: a retried ack whose earlier send
-- may have reached MESH is looked for among the outbox messages no
-- recorded ack holds.
CREATE INDEX receiver_acks_mesh_id ON receiver_acks (mesh_id) WHERE mesh_id <> '';
