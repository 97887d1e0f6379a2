-- Edit window of consultation reports (PostgreSQL twin of sqlitestore's
-- sender_0002): when a held report goes out, when its 3-hour send window
-- ends, the newer version that superseded it while it waited, and the
-- consultation a report is a version of (a hash of encounter, patient,
-- sender and recipient). Times are Unix microseconds, 0 when unset.
ALTER TABLE sender_transmissions ADD COLUMN hold_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sender_transmissions ADD COLUMN send_by BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sender_transmissions ADD COLUMN superseded_by TEXT NOT NULL DEFAULT '';
ALTER TABLE sender_transmissions ADD COLUMN consultation TEXT NOT NULL DEFAULT '';
CREATE INDEX sender_transmissions_consultation ON sender_transmissions (consultation);
