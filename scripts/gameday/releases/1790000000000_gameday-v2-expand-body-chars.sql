-- Up Migration
-- Game day release v2, expand (scripts/gameday/migrations.ts; never an app migration): a column v1 never
-- reads or writes, filled for every row, and kept filled for v1's writes while v1 still serves (this
-- rollout, or a rollback to it). v2's code writes the column itself; the trigger is for v1 alone.
ALTER TABLE notes ADD COLUMN body_chars integer;
UPDATE notes SET body_chars = char_length(body) WHERE body_chars IS NULL;
CREATE FUNCTION notes_body_chars() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.body_chars := char_length(NEW.body);
  RETURN NEW;
END $$;
CREATE TRIGGER notes_body_chars BEFORE INSERT OR UPDATE OF body ON notes FOR EACH ROW EXECUTE FUNCTION notes_body_chars();

-- Down Migration
DROP TRIGGER notes_body_chars ON notes;
DROP FUNCTION notes_body_chars();
ALTER TABLE notes DROP COLUMN body_chars;
