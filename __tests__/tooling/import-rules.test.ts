/**
 * The import rules (.dependency-cruiser.cjs, run by `npm run lint`) catch what they say they catch:
 * a project in miniature, each file breaking one rule, cruised with the project's own config.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { commandLine } from "../../scripts/npm-scripts.cjs";

const root = join(__dirname, "../..");

/** Each file of the miniature and the rule its imports break (undefined: allowed). */
const FILES: Record<string, { source: string; breaks?: string }> = {
  "lib/calculators/size.ts": { source: 'import { key } from "../core/key";\nexport const size = key;', breaks: "calculators-are-pure" },
  "lib/core/key.ts": { source: 'import { rule } from "../settings/rule";\nexport const key = rule;' },
  "lib/settings/rule.ts": { source: 'import { net } from "../network/net";\nexport const rule = 1 + net;', breaks: "settings-kit-below-constructs" },
  "lib/network/net.ts": { source: 'import { db } from "../database/db";\nexport const net = db;', breaks: "resource-areas-side-by-side" },
  "lib/database/db.ts": { source: 'import { stack } from "../../stacks/stack";\nexport const db = stack;', breaks: "lib-stays-in-lib" },
  "lib/compute/service.ts": { source: 'import { alarm } from "../observability/alarm";\nexport const service = alarm;', breaks: "compute-below-workers" },
  "lib/observability/alarm.ts": { source: 'import { service } from "../compute/service";\nexport const alarm = () => service;', breaks: "no-circular" },
  "stacks/stack.ts": { source: 'import { run } from "../scripts/run";\nexport const stack = run;', breaks: "stacks-compose" },
  "scripts/run.ts": { source: 'import { fixture } from "../__tests__/fixture";\nexport const run = fixture;', breaks: "no-test-imports" },
  "__tests__/fixture.ts": { source: "export const fixture = 1;" },
  "__tests__/support/variants.ts": { source: "export const variants = 1;" },
  "emulator/lifecycles.ts": { source: 'import { variants } from "../__tests__/support/variants";\nexport const lifecycles = variants;' },
  "emulator/inventory.ts": { source: 'import { fixture } from "../__tests__/fixture";\nexport const inventory = fixture;', breaks: "no-test-imports" },
  "scripts/gameday/worker.ts": { source: 'import { variants } from "../../__tests__/support/variants";\nexport const worker = variants;' },
  "scripts/cost.ts": { source: 'import { variants } from "../__tests__/support/variants";\nexport const cost = variants;', breaks: "variants-are-proofs" },
  "lib/settings/environment/schema.ts": { source: 'import { service } from "../../compute/service";\nexport const schema = service;' },
  "lib/registry/repo.ts": {
    source: 'import { schema } from "../settings/environment/schema";\nexport const repo = schema;',
    breaks: "environment-schema-on-top",
  },
  "app/src/server.ts": { source: 'import { size } from "../../lib/calculators/size";\nexport const port = size;', breaks: "app-is-the-image" },
  "environments/env.ts": { source: 'import { stack } from "../stacks/stack";\nexport const env = stack;', breaks: "environments-are-data" },
};

test("each rule of .dependency-cruiser.cjs fails the lint on the import that breaks it, and only there", () => {
  const dir = mkdtempSync(join(tmpdir(), "import-rules-"));
  try {
    for (const [file, { source }] of Object.entries(FILES)) {
      mkdirSync(join(dir, dirname(file)), { recursive: true });
      writeFileSync(join(dir, file), source + "\n");
    }
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "commonjs", strict: true } }));
    const result = spawnSync(
      process.execPath,
      [
        join(root, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs"),
        "lib",
        "stacks",
        "scripts",
        "__tests__",
        "app",
        "environments",
        "emulator",
        "--config",
        join(root, ".dependency-cruiser.cjs"),
      ],
      { cwd: dir, encoding: "utf8" },
    );
    // The lint's own report: "error <rule>: <from> → <to>", and an exit status that fails the lint.
    const violations = [...result.stdout.matchAll(/^\s*error ([\w-]+): (\S+) →/gm)].map(([, name, from]) => ({ rule: { name }, from }));
    const expected = Object.entries(FILES).flatMap(([file, { breaks }]) => (breaks ? [`${breaks} ${file}`] : []));
    const found = [...new Set(violations.map((v) => `${v.rule.name} ${v.from}`))];
    // A loop is reported once, from one of the modules on it.
    expect(found.filter((v) => !v.startsWith("no-circular ")).sort()).toEqual(expected.filter((v) => !v.startsWith("no-circular ")).sort());
    expect(found.filter((v) => v.startsWith("no-circular "))).toEqual([
      expect.stringMatching(/^no-circular lib\/(compute\/service|observability\/alarm)\.ts$/),
    ]);
    expect(result.status).not.toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the lint runs the import rules", () => {
  // The chains live in scripts/npm-scripts.cjs, which package.json's scripts run.
  const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
  expect([scripts.lint, scripts["lint:imports"]]).toEqual(["node scripts/npm-scripts.cjs lint", "node scripts/npm-scripts.cjs lint:imports"]);
  expect(commandLine("lint")).toMatch(/npm run --silent lint:imports/);
  expect(commandLine("lint:imports")).toMatch(/^depcruise .* --config \.dependency-cruiser\.cjs$/);
});
