-- A mailbox's quota counts the messages waiting for it: accepted ones
-- (the inbox index of mesh_0002) and chunked uploads not yet complete.
-- This partial index finds the latter by recipient; only a message of
-- several chunks enters it, while its chunks arrive, so a single-chunk
-- send costs no extra index write. The usage query repeats its condition
-- literally.
CREATE INDEX mesh_messages_uploading ON mesh_messages (recipient) WHERE status = 'uploading';
