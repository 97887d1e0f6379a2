-- The purge pass looks for finished messages (by status time) and old
-- reports (by creation time). Without these indexes each pass read the
-- whole table, a cost that grew with the store. Both are partial: a
-- message enters the first only when it finishes, and only reports enter
-- the second, so sending costs no extra index write. The purge queries
-- repeat these conditions literally so that the planner can use them.
CREATE INDEX mesh_messages_finished ON mesh_messages (status_at) WHERE status IN ('acknowledged', 'undeliverable', 'error');
CREATE INDEX mesh_messages_reports ON mesh_messages (created_at) WHERE message_type = 'REPORT';

-- The inbox and the expiry pass only ever look at messages waiting for
-- their recipient. As partial indexes, acknowledging a message adds no
-- entry to them (an update that changes the status writes a new entry in
-- every index whose condition the new row meets). The inbox and expiry
-- queries repeat these conditions literally.
DROP INDEX mesh_messages_inbox;
DROP INDEX mesh_messages_expiry;
CREATE INDEX mesh_messages_inbox ON mesh_messages (recipient, id) WHERE status = 'accepted';
CREATE INDEX mesh_messages_expiry ON mesh_messages (expires_at) WHERE status IN ('accepted', 'uploading');
