import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readmeWithTable, renderTable, settings } from "../scripts/settings-table";

const root = join(__dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");

test("the README settings table is the one generated from the settings' doc comments (npm run docs:settings)", () => {
  expect(readmeWithTable(readme)).toBe(readme);
});

test("every setting has a one-line doc, and every optional leaf setting documents its default", () => {
  const all = settings();
  expect(all.length).toBeGreaterThan(90);
  expect(all.filter((s) => !s.doc).map((s) => s.path)).toEqual([]);
  // Sections (network, task, ...) may leave the default to their fields.
  expect(all.filter((s) => s.optional && !s.section && s.default === undefined).map((s) => s.path)).toEqual([]);
});

test("a setting added to a section schema appears in the generated table", () => {
  const table = renderTable();
  for (const path of ["task.memory", "loadBalancer.healthCheck.path", "compute.ec2.instanceType", "ci.pullFrom", "task.image.tag"]) {
    expect(table).toContain(`| \`${path}\` |`);
  }
});

test("the README's two quick-start commands are the ones CI runs", () => {
  const ci = readFileSync(join(root, ".ci/run"), "utf8");
  expect(readme).toContain("npm ci && npm run synth");
  expect(readme).toContain("npm test ");
  expect(ci).toMatch(/^npm ci && npm run synth$/m);
  expect(ci).toMatch(/^npm test$/m);
});

test("the README's emulator section names the switch, the opt-out, the install and every script it shows", () => {
  const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
  for (const text of ["AWS_EMULATOR_URL", "SKIP_EMULATOR_TESTS=1", 'pipx install "moto[server]"', "EMULATOR_PYTHON"]) expect(readme).toContain(text);
  for (const script of ["emulator", "lifecycle", "test:emulator"]) {
    expect(readme).toContain(`npm run ${script}`);
    expect(scripts[script]).toBeDefined();
  }
});

test("every project file the README names exists, so the concept table and the guides follow renames", () => {
  const named = [...new Set([...readme.matchAll(/`((?:lib|stacks|scripts|app|__tests__)\/[\w./-]+\.(?:ts|mjs|cjs|sql|json))`/g)].map((m) => m[1]))];
  expect(named.length).toBeGreaterThan(15);
  expect(named.filter((path) => !existsSync(join(root, path)))).toEqual([]);
});
