-- Up Migration
-- The broken variant contract-early (scripts/gameday/breakages.ts): v2 expands and contracts in one
-- release. The column is required at once, with no trigger to fill it, so v1's writes, which do not
-- know it, fail for as long as v1 serves: the whole rollout.
ALTER TABLE notes ADD COLUMN body_chars integer;
UPDATE notes SET body_chars = char_length(body);
ALTER TABLE notes ALTER COLUMN body_chars SET NOT NULL;

-- Down Migration
ALTER TABLE notes DROP COLUMN body_chars;
