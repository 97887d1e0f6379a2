-- Every MESH request records its token (a row of mesh_nonces), and the
-- purge pass deletes tokens older than the clock window by used_at. Rows
-- arrive in used_at order, so a BRIN index serves the purge as well as
-- the B-tree did at almost no cost per insert, where the B-tree cost one
-- more index entry per request.
DROP INDEX mesh_nonces_used;
CREATE INDEX mesh_nonces_used ON mesh_nonces USING brin (used_at);
