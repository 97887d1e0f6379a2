-- Edit window of consultation reports (GPCM-SD-CS-075/076): when a held
-- report goes out, when its 3-hour send window ends, the newer version that
-- superseded it while it waited, and the consultation a report is a version
-- of (a hash of encounter, patient, sender and recipient). Times are Unix
-- microseconds, 0 when unset.
ALTER TABLE sender_transmissions ADD COLUMN hold_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sender_transmissions ADD COLUMN send_by INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sender_transmissions ADD COLUMN superseded_by TEXT NOT NULL DEFAULT '';
ALTER TABLE sender_transmissions ADD COLUMN consultation TEXT NOT NULL DEFAULT '';
CREATE INDEX sender_transmissions_consultation ON sender_transmissions (consultation);
