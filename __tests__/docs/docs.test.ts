/**
 * The docs held to the code: the README, every page in docs/ and the app's README. Generated tables are
 * current, every file and `npm run` script they name exists, every relative link resolves, what they
 * show runs as shown, and the README stays short, with the two commands CI runs first.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { leanApplied, readLeanRecipe, readRecipes, removedByLean, RECIPES_DOC } from "../../scripts/fork-recipes";
import { renderTable, settings, SETTINGS_DOC, withSettingsTable } from "../../scripts/settings-table";
import { anchors, brokenLinks, docPages, relativeLinks, ROOT as root, slug } from "../support/doc-links";
import { lineDiff } from "../support/line-diff";

const read = (path: string) => readFileSync(join(root, path), "utf8");
const pages = new Map(docPages().map((page) => [page, read(page)]));
const readme = pages.get("README.md")!;
const scripts: Record<string, string> = JSON.parse(read("package.json")).scripts;
/** A lean fork (docs/forking.md) keeps the pages of the proofs it dropped: their files may be absent there, and only there. */
const lean = readLeanRecipe(read(RECIPES_DOC));
const droppedByLean = (path: string) => leanApplied(root, lean) && removedByLean(path, lean);
/** A page's section: from its heading to the next heading of the same level or above, outside code blocks. */
const section = (page: string, heading: string) => {
  const lines = pages.get(page)!.split("\n");
  const level = /^#+/.exec(heading)![0].length;
  let inCode = false;
  const headings = lines.map((line) => {
    if (line.startsWith("```")) inCode = !inCode;
    return inCode ? 0 : (/^(#+) /.exec(line)?.[1].length ?? 0);
  });
  const start = lines.indexOf(heading);
  if (start < 0 || !headings[start]) throw new Error(`${page} has no heading "${heading}"`);
  const end = headings.findIndex((h, i) => i > start && h > 0 && h <= level);
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
};

describe("the settings table (docs/settings.md)", () => {
  test("is the one generated from the settings' doc comments (npm run docs)", () => {
    // Only the lines that differ: + what the table lacks, - what it should not have.
    const doc = pages.get(SETTINGS_DOC)!;
    expect(lineDiff(withSettingsTable(doc), doc)).toEqual([]);
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
});

describe("the README", () => {
  test("stays short: what it builds, the quick start, the layout, fork it, the proofs, links", () => {
    expect(readme.split("\n").length).toBeLessThanOrEqual(300);
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(expect.arrayContaining(["What it builds", "Quick start", "Layout", "Fork it", "The proofs", "Docs"]));
  });

  test("its two quick-start commands are the ones CI runs first, and the integration proofs the ones it runs next", () => {
    const quickStart = section("README.md", "## Quick start");
    const blocks = [...quickStart.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
      m[1]
        .split("\n")
        .map((line) => line.replace(/\s+#.*$/, "").trim())
        .filter(Boolean),
    );
    expect(blocks[0]).toEqual(["npm ci && npm run synth", "npm test"]);
    expect(blocks[1]).toEqual(["npm run test:integration"]);
    const ci = read(".ci/run")
      .split("\n")
      .filter((line) => /^npm /.test(line));
    expect(ci).toEqual(["npm ci && npm run synth", "npm test", "npm run test:integration"]);
  });

  test("sends the reader to every page in docs/ and to the app's README", () => {
    const linked = new Set(relativeLinks(readme).map((target) => target.split("#")[0]));
    expect(docPages().filter((page) => page !== "README.md" && !linked.has(page))).toEqual([]);
  });

  test("maps the chapter's concepts onto the files that build them", () => {
    const table = readme.slice(0, readme.indexOf("\n## "));
    for (const file of [
      "lib/compute/task-definition.ts",
      "lib/compute/service.ts",
      "lib/compute/cluster.ts",
      "lib/compute/fargate/fargate-capacity.ts",
      "lib/compute/ec2/ec2-capacity.ts",
      "lib/edge/load-balancer.ts",
      "lib/edge/target-group.ts",
      "lib/database/database.ts",
      "environments/environments.ts",
    ])
      expect(table).toContain(`\`${file}\``);
  });
});

describe("every page", () => {
  test.each(docPages())("%s opens with its title and one sentence saying what it covers", (page) => {
    const [title, blank, first] = pages.get(page)!.split("\n");
    expect([title, blank]).toEqual([expect.stringMatching(/^# \S/), ""]);
    expect(first).toMatch(/^[A-Z`[*]/);
  });

  test("names only project files and folders that exist, so the docs follow renames", () => {
    // Folders the tools write (git-ignored) are named before they exist: cdktf.out/, app/dist/, ...
    const generated = read(".gitignore")
      .split("\n")
      .filter((line) => line.endsWith("/"));
    const roots = "lib|stacks|scripts|app|__tests__|environments|emulator|docs|\\.github|\\.ci";
    const named = [...pages].flatMap(([page, text]) => [...text.matchAll(new RegExp(`\`((?:${roots})/[\\w./-]*)\``, "g"))].map((m) => ({ page, path: m[1] })));
    expect(named.length).toBeGreaterThan(80);
    // And the files a fork recipe makes (docs/forking.md's Valkey cache), named before a fork has them.
    const made = readRecipes(read(RECIPES_DOC)).flatMap((r) => r.parts.filter((part) => part.create).map((part) => part.into));
    const missing = named.filter(
      ({ path }) => !generated.some((folder) => `${path}/`.startsWith(folder)) && !made.includes(path) && !existsSync(join(root, path)) && !droppedByLean(path),
    );
    expect(missing.map(({ page, path }) => `${page}: ${path}`)).toEqual([]);
  });

  test("links only to pages, files and headings that exist", () => {
    const links = [...pages.values()].flatMap(relativeLinks);
    expect(links.length).toBeGreaterThan(50);
    expect(brokenLinks(pages)).toEqual([]);
  });

  test("gives the emulator lifecycle one duration", () => {
    const all = [...pages.values()].join("\n");
    const durations = [...all.matchAll(/emulator lifecycle[^.]*?about (\d+(?: to \d+)?) minutes/g)].map((m) => m[1]);
    expect(durations.length).toBeGreaterThan(0);
    expect(new Set(durations).size).toBe(1);
  });
});

describe("the link check", () => {
  test("anchors are GitHub's: lower case, punctuation dropped, spaces as hyphens, repeats numbered", () => {
    expect(slug("Release: from a commit to a running image")).toBe("release-from-a-commit-to-a-running-image");
    expect(slug("One-off tasks (`npm run task`)")).toBe("one-off-tasks-npm-run-task");
    expect(slug("The road to AWS provider 6.x")).toBe("the-road-to-aws-provider-6x");
    expect([...anchors("# A\n\n## Proofs\n\n```sh\n# not a heading\n```\n\n## Proofs\n")]).toEqual(["a", "proofs", "proofs-1"]);
  });

  test("fails on a missing page, a missing heading, a link out of the repository, and ignores code and web links", () => {
    const fake = new Map([
      [
        "README.md",
        "# R\n\n[ok](docs/a.md#there) [gone](docs/gone.md) [no heading](docs/a.md#nowhere) [web](https://example.com/x.md) `[code](docs/none.md)`\n",
      ],
      ["docs/a.md", "# A\n\n## There\n\n[up](../README.md#r) [out](../../elsewhere.md) [self](#there) [self, missing](#here)\n"],
    ]);
    expect(brokenLinks(fake, () => false)).toEqual([
      "README.md: docs/gone.md (no such file: docs/gone.md)",
      "README.md: docs/a.md#nowhere (no heading #nowhere in docs/a.md)",
      "docs/a.md: ../../elsewhere.md (outside the repository)",
      "docs/a.md: #here (no heading #here in docs/a.md)",
    ]);
  });
});

describe("the emulator page (docs/emulator.md)", () => {
  const emulator = pages.get("docs/emulator.md")!;

  test("names the switch, the opt-out, the install and every script it shows", () => {
    for (const text of ["AWS_EMULATOR_URL", "SKIP_EMULATOR_TESTS=1", 'pipx install "moto[server]"', "EMULATOR_PYTHON"]) expect(emulator).toContain(text);
    for (const script of ["emulator", "lifecycle", "test:emulator"]) {
      expect(emulator).toContain(`npm run ${script}`);
      if (!(leanApplied(root, lean) && lean.scripts.includes(script))) expect(scripts[script]).toBeDefined();
    }
  });

  test("each cdktf command against the emulator writes to .emulator/cdktf.out and skips the provider lock, as CI runs offline", () => {
    const own = section("docs/emulator.md", "## Your own commands against the emulator");
    const commands = [...own.matchAll(/(?:npm run (?:deploy|destroy) --|npm run cdk -- \w+|npx cdkt[fn] \w+) [^&\n"]*/g)].map((m) => m[0]);
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const command of commands)
      expect(command).toMatch(/--skip-provider-lock.*--output \.emulator\/cdktf\.out|--output \.emulator\/cdktf\.out.*--skip-provider-lock/);
  });
});

describe("what the docs show runs as shown", () => {
  const build = read("app/build.mjs");
  const entries = Object.keys(Function(`return ${/entryPoints:\s*(\{[^}]*\})/.exec(build)![1]}`)());
  const dockerfile = read("app/Dockerfile");
  const snippetsOf = (text: string) => [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const snippets = [...pages.values()].flatMap(snippetsOf);
  const commands = snippets.flatMap((code) => [...code.matchAll(/command: (\[[^\]]*\])/g)].map((m) => JSON.parse(m[1]) as string[]));

  test("every service command in their snippets runs a file the image has: an app/build.mjs entry, given to the image's node", () => {
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

  test("the worker the fork recipes show is the image's queue worker, with the queue it consumes", () => {
    const workers = snippetsOf(pages.get("docs/forking.md")!).flatMap((code) => code.split("\n").filter((line) => line.includes('"dist/worker.mjs"')));
    expect(workers.length).toBeGreaterThan(0);
    for (const line of workers) expect(line).toMatch(/queue: \{/);
  });
});
