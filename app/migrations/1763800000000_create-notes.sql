-- Up Migration
-- created_at has millisecond precision, as JavaScript dates do, so a cursor round-trips exactly.
CREATE TABLE notes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  title varchar(200) NOT NULL CHECK (char_length(title) >= 1),
  body varchar(10000) NOT NULL DEFAULT '',
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
-- Keyset pagination, newest first: WHERE (created_at, id) < cursor ORDER BY created_at DESC, id DESC.
CREATE INDEX notes_created_at_id ON notes (created_at DESC, id DESC);

-- Down Migration
DROP TABLE notes;
