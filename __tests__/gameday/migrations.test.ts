/**
 * The game day's releases (scripts/gameday/migrations.ts): their code changes apply to the app's notes
 * queries exactly once each, their migrations exist and run after the app's own (node-pg-migrate's
 * checkOrder), each release carries the ones before it, and the harness reads the migrate container's
 * lines as the app writes them. The releases run in `npm run gameday`.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { applyPatches, BREAKAGES } from "../../scripts/gameday/breakages";
import { budgetLine, migrateOutcome, migrationFiles, migrationName, release, RELEASE_ORDER, RELEASES } from "../../scripts/gameday/migrations";

const ROOT = join(__dirname, "..", "..");
const appMigrations = readdirSync(join(ROOT, "app", "migrations")).map(migrationName);

describe("the game day's releases", () => {
  test.each(RELEASE_ORDER.slice(1).map((tag) => [tag]))("%s's code changes apply to the notes queries, each expression found once", (tag) => {
    const source = readFileSync(join(ROOT, "app", "src", "notes.ts"), "utf8");
    const patched = applyPatches("dist/server.mjs", source, release(tag).patches);
    expect(patched).toContain("body_chars");
  });

  test("each release carries the migrations of the one before it, after the app's own, and every file exists", () => {
    for (const [i, tag] of RELEASE_ORDER.entries()) {
      const r = release(tag);
      for (const file of migrationFiles(r)) expect(existsSync(file)).toBe(true);
      if (i > 0) expect(r.migrations.slice(0, release(RELEASE_ORDER[i - 1]).migrations.length)).toEqual(release(RELEASE_ORDER[i - 1]).migrations);
      for (const name of r.migrations.map(migrationName)) for (const own of appMigrations) expect(name > own).toBe(true);
    }
    expect(Object.keys(RELEASES)).toEqual([...RELEASE_ORDER]);
  });

  test("a broken variant's migrations replace its release's, and a tag with no release is refused", () => {
    const early = release("v2", BREAKAGES["contract-early"].releaseMigrations);
    expect(early.migrations).toEqual(["broken/1790000000000_gameday-v2-contract-early.sql"]);
    expect(early.patches).toEqual(release("v2").patches);
    expect(() => release("v9")).toThrow(/no release v9/);
  });

  test("the expand keeps v1 writing (a trigger, a nullable column); the contract drops only the trigger and requires the column", () => {
    const sql = (tag: string) => migrationFiles(release(tag)).map((f) => readFileSync(f, "utf8").split("-- Down Migration")[0]);
    const [expand] = sql("v2");
    expect(expand).toMatch(/ADD COLUMN body_chars integer;/);
    expect(expand).toMatch(/CREATE TRIGGER notes_body_chars BEFORE INSERT OR UPDATE OF body/);
    expect(expand).not.toMatch(/NOT NULL/);
    const contract = sql("v3")[1];
    expect(contract).toMatch(/DROP TRIGGER notes_body_chars/);
    expect(contract).toMatch(/SET NOT NULL/);
    expect(contract).not.toMatch(/DROP COLUMN/);
  });
});

describe("the migrate container's lines", () => {
  test("the budget's line is the app's, to the character", () => {
    const migrations = readFileSync(join(ROOT, "app", "src", "migrations.ts"), "utf8");
    const entry = readFileSync(join(ROOT, "app", "src", "migrate.ts"), "utf8");
    expect(entry).toContain("process.stderr.write(`notes-api migrate: ${");
    const line = budgetLine(10000).replace("notes-api migrate: ", "");
    expect(line).toBe(
      "migrations did not finish within MIGRATION_TIMEOUT_MS (10000 ms: 5000 ms for a lock, 5000 ms for a statement); nothing was applied. " +
        "Run a long migration as a one-off task before the deploy (MIGRATIONS=off, node dist/migrate.mjs), split as expand/contract steps.",
    );
    expect(migrations).toContain(
      "`migrations did not finish within MIGRATION_TIMEOUT_MS (${budget} ms: ${half} ms for a lock, ${half} ms for a statement); nothing was applied. ` +",
    );
    expect(migrations).toContain(
      '"Run a long migration as a one-off task before the deploy (MIGRATIONS=off, node dist/migrate.mjs), split as expand/contract steps."',
    );
  });

  test("how a migrate container ended: what it applied, or the schema up to date, and when", () => {
    const log = [
      '{"level":30,"time":"2026-01-01T00:00:01.000Z","msg":"migrations applied","applied":["1790000100000_gameday-v3-contract-body-chars"]}',
      '{"level":30,"time":"2026-01-01T00:00:01.010Z","msg":"app role granted the app\'s tables","role":"app"}',
      "",
    ].join("\n");
    expect(migrateOutcome(log)).toEqual({ at: Date.parse("2026-01-01T00:00:01.000Z"), applied: ["1790000100000_gameday-v3-contract-body-chars"] });
    expect(migrateOutcome('{"level":30,"time":"2026-01-01T00:00:02.000Z","msg":"schema up to date"}\n')).toEqual({
      at: Date.parse("2026-01-01T00:00:02.000Z"),
      applied: [],
    });
    expect(migrateOutcome("notes-api migrate: migrations did not finish\n")).toBeUndefined();
  });
});
