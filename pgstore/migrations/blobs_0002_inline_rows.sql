-- Small payloads (up to the tier threshold, 32 KiB) live in this table.
-- With PostgreSQL's defaults a row over about 2 KB is first compressed
-- with pglz and, when it stays over 2 KB (any compressed or encrypted
-- payload), cut into 2 KB chunks in the TOAST table: three extra rows and
-- index entries for a 4 KiB MESH message, and pglz's attempt was a tenth of
-- the database's CPU per message on the MESH server's benchmark. Rows up
-- to a full page now stay whole in the table, and values are compressed
-- with lz4, which gives up on incompressible data at a fraction of pglz's
-- cost (kept as pglz on a server built without lz4).
ALTER TABLE blobs SET (toast_tuple_target = 8160);
DO $$
BEGIN
	ALTER TABLE blobs ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
	NULL;
END
$$;
