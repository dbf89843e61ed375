import { readFileSync } from "node:fs";
import path from "node:path";
import { ConfigSchema } from "../src/config";

const ROOT = path.join(__dirname, "..", "..");
// The API's own page, app/README.md (the root README links it).
const section = readFileSync(path.join(ROOT, "app", "README.md"), "utf8");

describe("app/README.md", () => {
  it("documents every variable the API reads, and no other", () => {
    const documented = [...section.matchAll(/^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \|/gm)].flatMap((m) => m[1].split(", ").map((v) => v.replace(/`/g, "")));
    expect(documented.sort()).toEqual(Object.keys(ConfigSchema.shape).sort());
  });

  it("shows the local run command, and the scripts it names exist", () => {
    const scripts = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;
    expect(section).toContain("npm run api:local");
    expect(scripts["api:local"]).toBeDefined();
    // npm run bench's steps, as the project's script runner holds them
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { commandLine } = require(path.join(ROOT, "scripts", "npm-scripts.cjs")) as { commandLine: (name: string) => string };
    expect(commandLine("bench")).toContain("scripts/bench-api.ts");
  });

  it("lists every route the API serves", () => {
    const source = readFileSync(path.join(ROOT, "app", "src", "notes.ts"), "utf8") + readFileSync(path.join(ROOT, "app", "src", "app.ts"), "utf8");
    const routes = [...source.matchAll(/app\.(get|post|patch|delete)(?:<[^>]*>)?\(\s*"([^"]+)"/g)].map((m) => `${m[1].toUpperCase()} ${m[2]}`);
    expect(routes.length).toBe(7);
    for (const route of routes) expect(section).toContain(`\`${route}`);
  });
});
