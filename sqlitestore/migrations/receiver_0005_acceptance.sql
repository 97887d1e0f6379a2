-- Generic FHIR Receiver acceptance policy (issue 17). A message larger than
-- the receiver's limit keeps only its head (for the MessageHeader.id) and is
-- answered 20015.
ALTER TABLE receiver_messages ADD COLUMN too_large INTEGER NOT NULL DEFAULT 0;
