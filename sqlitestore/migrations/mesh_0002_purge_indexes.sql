-- The purge pass looks for finished messages (by status and status time)
-- and old reports (by type and creation time). Without these indexes each
-- pass read the whole table, a cost that grew with the store.
CREATE INDEX mesh_messages_finished ON mesh_messages (status, status_at);
CREATE INDEX mesh_messages_type_created ON mesh_messages (message_type, created_at);
