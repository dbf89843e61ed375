-- Up Migration
-- Expand only: a nullable column the release before ignores, and a table it never reads.
-- The worker counts a note's words after the API answered (note.created, note.updated events).
ALTER TABLE notes ADD COLUMN word_count integer CHECK (word_count >= 0);
-- The worker's inbox: every event it has acted on, recorded in the same transaction as its effect, so
-- an event delivered again (SQS delivers at least once) is acknowledged without acting twice.
CREATE TABLE handled_events (
  event_id uuid PRIMARY KEY,
  type text NOT NULL,
  handled_at timestamptz(3) NOT NULL DEFAULT now()
);
-- The backfill job finds the notes whose event was lost.
CREATE INDEX notes_uncounted ON notes (created_at) WHERE word_count IS NULL;

-- Down Migration
DROP INDEX notes_uncounted;
DROP TABLE handled_events;
ALTER TABLE notes DROP COLUMN word_count;
