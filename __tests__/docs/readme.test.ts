import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readmeWithTable, renderTable, settings } from "../../scripts/settings-table";
import { lineDiff } from "../support/line-diff";

const root = join(__dirname, "../..");
const readme = readFileSync(join(root, "README.md"), "utf8");

test("the README settings table is the one generated from the settings' doc comments (npm run docs)", () => {
  // Only the lines that differ: + what the table lacks, - what it should not have.
  expect(lineDiff(readmeWithTable(readme), readme)).toEqual([]);
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

describe("what the README shows runs as shown", () => {
  const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
  const build = readFileSync(join(root, "app", "build.mjs"), "utf8");
  const entries = Object.keys(Function(`return ${/entryPoints:\s*(\{[^}]*\})/.exec(build)![1]}`)());
  const dockerfile = readFileSync(join(root, "app", "Dockerfile"), "utf8");
  const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const commands = snippets.flatMap((code) => [...code.matchAll(/command: (\[[^\]]*\])/g)].map((m) => JSON.parse(m[1]) as string[]));

  test("every service command in its snippets runs a file the image has: an app/build.mjs entry, given to the image's node", () => {
    // The runtime is distroless Node: its entrypoint is node, so a command is node's arguments, relative to WORKDIR /app.
    expect(dockerfile).toMatch(/^FROM gcr\.io\/distroless\/nodejs/m);
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/src\/app\/dist \.\/dist$/m);
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      const [script] = command;
      expect([command, /^dist\/([\w-]+)\.mjs$/.test(script) && entries.includes(/^dist\/([\w-]+)\.mjs$/.exec(script)![1])]).toEqual([command, true]);
    }
  });

  test("the worker it shows is the image's queue worker, with the queue it consumes", () => {
    const workers = snippets.flatMap((code) => code.split("\n").filter((line) => line.includes('"dist/worker.mjs"')));
    expect(workers.length).toBeGreaterThan(0);
    for (const line of workers) expect(line).toMatch(/queue: \{/);
  });

  test("every npm script it names exists", () => {
    const named = [...new Set([...readme.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]))];
    expect(named.filter((name) => scripts[name] === undefined)).toEqual([]);
  });

  test("each cdktf command against the emulator writes to .emulator/cdktf.out and skips the provider lock, as CI runs offline", () => {
    const emulator = readme.slice(readme.indexOf("**Your own commands against the emulator.**"), readme.indexOf("**The emulator is [moto]"));
    const commands = [...emulator.matchAll(/npx cdktf (deploy|output|destroy)[^&\n"]*/g)].map((m) => m[0]);
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const command of commands)
      expect(command).toMatch(/--skip-provider-lock.*--output \.emulator\/cdktf\.out|--output \.emulator\/cdktf\.out.*--skip-provider-lock/);
  });

  test("it gives the emulator lifecycle one duration", () => {
    const durations = [...readme.matchAll(/emulator lifecycle[^.]*?about (\d+(?: to \d+)?) minutes/g)].map((m) => m[1]);
    expect(durations.length).toBeGreaterThan(0);
    expect(new Set(durations).size).toBe(1);
  });
});
