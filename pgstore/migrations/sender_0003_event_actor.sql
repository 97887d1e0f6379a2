-- Who caused a transmission's event (PostgreSQL twin of sqlitestore's
-- sender_0003): the signed-in user of the web, "cli", "API" (or the name
-- the API caller gave), or '' for the sender itself. Never patient data.
ALTER TABLE sender_events ADD COLUMN actor TEXT NOT NULL DEFAULT '';
