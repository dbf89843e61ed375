-- Up Migration
-- Game day release v4: the migration "migration over budget" never lets run (the lock is held past
-- MIGRATION_TIMEOUT_MS), so the harness can check it was not applied and the schema stayed v3's.
CREATE INDEX notes_body_chars ON notes (body_chars);

-- Down Migration
DROP INDEX notes_body_chars;
