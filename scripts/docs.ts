/**
 * `npm run docs`: the docs' generated parts, rewritten from the code: the settings table of
 * docs/settings.md (from the settings' doc comments, scripts/settings-table.ts) and the cost table of
 * docs/cost.md (from `npm run cost`). Tests fail when either is stale, showing the lines that differ.
 * Run it after changing a setting or an environment.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defineCommand } from "../cli/cli.cjs";
import { COST_DOC, costTable, estimates, withCostTable } from "./cost";
import { SETTINGS_DOC, withSettingsTable } from "./settings-table";

/** Rewrites one page; says whether it changed. */
function rewrite(path: string, update: (text: string) => string): boolean {
  const file = join(__dirname, "..", path);
  const before = readFileSync(file, "utf8");
  const after = update(before);
  if (after !== before) writeFileSync(file, after);
  console.log(`${path}: generated table ${after === before ? "up to date" : "rewritten"}`);
  return after !== before;
}

defineCommand({
  name: "docs",
  summary: "Rewrites the docs' generated parts from the code: docs/settings.md's settings table and docs/cost.md's cost table.",
}).start();

void (async () => {
  rewrite(SETTINGS_DOC, withSettingsTable);
  const table = costTable(await estimates());
  rewrite(COST_DOC, (text) => withCostTable(text, table));
})();
