-- Up Migration
-- Game day release v3, contract: every release that can still serve (v2 during this rollout, v3, and a
-- rollback to v2) writes body_chars itself, so what only v1 needed goes (the trigger that filled it for
-- v1's writes), and the column now holds for every row: NOT NULL, and equal to the body's length.
DROP TRIGGER notes_body_chars ON notes;
DROP FUNCTION notes_body_chars();
ALTER TABLE notes ALTER COLUMN body_chars SET NOT NULL;
ALTER TABLE notes ADD CONSTRAINT notes_body_chars_counted CHECK (body_chars = char_length(body));

-- Down Migration
ALTER TABLE notes DROP CONSTRAINT notes_body_chars_counted;
ALTER TABLE notes ALTER COLUMN body_chars DROP NOT NULL;
CREATE FUNCTION notes_body_chars() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.body_chars := char_length(NEW.body);
  RETURN NEW;
END $$;
CREATE TRIGGER notes_body_chars BEFORE INSERT OR UPDATE OF body ON notes FOR EACH ROW EXECUTE FUNCTION notes_body_chars();
