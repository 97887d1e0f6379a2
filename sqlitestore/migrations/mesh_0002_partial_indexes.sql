-- The purge pass looks for finished messages (by status time) and old
-- reports (by creation time). Without these indexes each pass read the
-- whole table, a cost that grew with the store. Both are partial: a
-- message enters the first only when it finishes, and only reports enter
-- the second, so sending costs no extra index write. The purge queries
-- repeat these conditions literally so that the planner can use them.
CREATE INDEX mesh_messages_finished ON mesh_messages (status_at) WHERE status IN ('acknowledged', 'undeliverable', 'error');
CREATE INDEX mesh_messages_reports ON mesh_messages (created_at) WHERE message_type = 'REPORT';
