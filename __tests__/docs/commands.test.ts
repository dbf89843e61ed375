/**
 * The commands the docs show, and what the README states of the tools, held to what exists: every
 * `npm run` script is in package.json (app/package.json for `--workspace app`), every CDK CLI command is
 * one the installed CLIs have, deploy and destroy have one name everywhere (the one that honours
 * CDK_ENGINE), and the README's Node.js versions, engine status and `npm test` steps are those of
 * package.json, the workflows, app/Dockerfile, docs/engines.md and jest.config.js. Flags are not checked here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { environments } from "../../environments/environments";
import { leanApplied, readLeanRecipe, RECIPES_DOC } from "../../scripts/fork-recipes";
import { docPages, ROOT as root } from "../support/doc-links";

const read = (path: string) => readFileSync(join(root, path), "utf8");
const pages = new Map(docPages().map((page) => [page, read(page)]));
const readme = pages.get("README.md")!;
const packageJson = JSON.parse(read("package.json")) as { engines: { node: string }; scripts: Record<string, string> };
const appPackageJson = JSON.parse(read("app/package.json")) as { engines: { node: string }; scripts: Record<string, string> };
/** Every occurrence of `pattern` in every page, with the page. */
const occurrences = (pattern: RegExp) => [...pages].flatMap(([page, text]) => [...text.matchAll(pattern)].map((match) => ({ page, match })));
/** The README's section under a `## ` heading, to the next one. */
const readmeSection = (heading: string) => {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "${heading}"`);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
};

/**
 * The commands (and their aliases) of each installed CDK CLI, read from its bundle, where each command
 * class sets `this.command="<name> [args]"` and `this.aliases=[...]`.
 */
function cliCommands(): Map<string, Set<string>> {
  const clis = new Map<string, Set<string>>();
  for (const [name, pkg] of [
    ["cdktf", "cdktf-cli"],
    ["cdktn", "cdktn-cli"],
  ]) {
    let dir: string;
    try {
      dir = dirname(require.resolve(`${pkg}/package.json`, { paths: [root] }));
    } catch {
      continue; // not installed (a fork that left cdktf: docs/engines.md)
    }
    const bundle = readFileSync(join(dir, "bundle", "bin", `${name}.js`), "utf8");
    const commands = new Set<string>();
    for (const m of bundle.matchAll(/this\.command="([\w-]+)[^"]*";(?:this\.describe="(?:[^"\\]|\\.)*";)?(?:this\.aliases=\[([^\]]*)\])?/g)) {
      commands.add(m[1]);
      for (const alias of m[2] ? (JSON.parse(`[${m[2]}]`) as string[]) : []) commands.add(alias);
    }
    clis.set(name, commands);
  }
  return clis;
}

describe("every command the docs show exists", () => {
  test("every `npm run` script is in package.json, or in app/package.json where it runs in the app's workspace", () => {
    const named = occurrences(/npm run ([\w:-]+)((?: (?:-w|--workspace)[ =]\S+)?)/g).map(({ page, match }) => ({
      page,
      name: match[1],
      app: /(?:-w|--workspace)[ =]app\b/.test(match[2]),
    }));
    expect(named.length).toBeGreaterThan(30);
    // A lean fork (docs/forking.md) keeps the pages of the proofs it dropped: their scripts may be absent there, and only there.
    const lean = readLeanRecipe(read(RECIPES_DOC));
    const dropped = new Set(leanApplied(root, lean) ? lean.scripts : []);
    const missing = named.filter(({ name, app }) => (app ? appPackageJson : packageJson).scripts[name] === undefined && !(dropped.has(name) && !app));
    expect(missing.map(({ page, name, app }) => `${page}: npm run ${name}${app ? " (app)" : ""}`)).toEqual([]);
  });

  test("every command of a CDK CLI (`npx cdktf <command>`, `cdktn <command>`, `npm run cdk -- <command>`) is one the installed CLI has", () => {
    const clis = cliCommands();
    expect(clis.size).toBeGreaterThan(0);
    for (const commands of clis.values())
      expect([...commands]).toEqual(expect.arrayContaining(["deploy", "destroy", "diff", "synth", "output", "list", "get"]));
    const all = new Set([...clis.values()].flatMap((commands) => [...commands]));
    // npx cdktf X anywhere; `cdktf X` opening inline code; npm run cdk -- X (the launcher: the CLI CDK_ENGINE selects).
    const named = [
      ...occurrences(/npx (cdktf|cdktn) ([a-z][\w-]*)/g).map(({ page, match }) => ({ page, cli: match[1], command: match[2] })),
      ...occurrences(/`(cdktf|cdktn) ([a-z][\w-]*)/g).map(({ page, match }) => ({ page, cli: match[1], command: match[2] })),
      ...occurrences(/npm run cdk -- ([a-z][\w-]*)/g).map(({ page, match }) => ({ page, cli: "cdk", command: match[1] })),
    ];
    expect(named.length).toBeGreaterThan(10);
    const unknown = named.filter(({ cli, command }) => !(clis.get(cli) ?? all).has(command));
    expect(unknown.map(({ page, cli, command }) => `${page}: ${cli} ${command}`)).toEqual([]);
  });

  test("deploy and destroy have one name: `npm run deploy -- <env>` and `npm run destroy -- <env>`, which run the CLI CDK_ENGINE selects", () => {
    // `npx cdktf deploy` ignores CDK_ENGINE (and the synth app refuses it under CDK_ENGINE=cdktn); the scripts run scripts/engine.cjs.
    for (const script of ["deploy", "destroy"]) expect(packageJson.scripts[script]).toMatch(new RegExp(`^node scripts/engine\\.cjs ${script}\\b`));
    const direct = occurrences(/npx cdkt[fn] (deploy|apply|destroy)\b|npm run cdk -- (deploy|apply|destroy)\b/g);
    expect(direct.map(({ page, match }) => `${page}: ${match[0]}`)).toEqual([]);
  });

  test("every `npm run deploy`, `npm run deploy:release` and `npm run destroy` names an environment, or a placeholder for one", () => {
    const names = new Set(environments.map((e) => e.name));
    const shown = occurrences(/npm run (deploy(?::release)?|destroy)(?![\w:])(?: -- (?:--[\w-]+ )*([^\s`"),;]+))?/g).map(({ page, match }) => ({
      page,
      command: match[0],
      target: match[2],
    }));
    expect(shown.length).toBeGreaterThan(5);
    // In the scripts table the README names the script with `<env>`; `<env>`, `$ENV` and the like stand for any environment.
    const wrong = shown.filter(({ target }) => target === undefined || !(names.has(target) || /^(<[\w-]+>|\$\{?\w+\}?)$/.test(target)));
    expect(wrong.map(({ page, command }) => `${page}: ${command}`)).toEqual([]);
  });
});

describe("what the README states of the tools", () => {
  const quickStart = readmeSection("Quick start");

  test("Node.js, in one statement: .node-version, package.json's engines (the app's the same), the workflows' node-version, app/Dockerfile's NODE_MAJOR", () => {
    const text = quickStart.replace(/\s+/g, " ");
    const wanted = read(".node-version").trim();
    expect(text).toContain(`**Node.js ${wanted}** (\`.node-version\`)`);
    expect(appPackageJson.engines.node).toBe(packageJson.engines.node);
    expect(text).toContain(`\`package.json\` allows \`${packageJson.engines.node}\` (\`engines\``);

    // Every workflow on .node-version, but the pull request's job on the next LTS, which the README names.
    const workflows = readdirSync(join(root, ".github", "workflows")).filter((file) => /\.ya?ml$/.test(file));
    const versions = workflows.flatMap((file) => [...read(`.github/workflows/${file}`).matchAll(/node-version: *["']?([\w.]+)/g)].map((m) => m[1]));
    expect(versions).toContain(wanted);
    const others = [...new Set(versions.filter((v) => v !== wanted))].map((v) => v.split(".")[0]);
    expect(others).toHaveLength(1);
    expect(text).toContain(`the pull-request workflow also tests on Node.js ${others[0]}`);

    const major = /^ARG NODE_MAJOR=(\d+)$/m.exec(read("app/Dockerfile"));
    expect(major?.[1]).toBe(wanted.split(".")[0]);
    expect(text).toContain(`the REST API's image runs Node.js ${major![1]} (\`NODE_MAJOR\` in \`app/Dockerfile\`)`);
    expect(pages.get("app/README.md")!.replace(/\s+/g, " ")).toContain(`distroless Node ${major![1]}`);
  });

  test("the engine's status beside the pins: cdktf archived on docs/engines.md's date, cdktn its continuation, and the switch", () => {
    const archived = /Archived on (\d{4}-\d{2}-\d{2})/.exec(pages.get("docs/engines.md")!);
    expect(archived).not.toBeNull();
    const layout = readmeSection("Layout").replace(/\s+/g, " ");
    expect(layout).toContain("Pinned: `cdktf`");
    expect(layout).toContain(`archived CDK for Terraform on ${archived![1]}`);
    for (const text of ["cdktn", "community continuation", "CDK_ENGINE=cdktn", "docs/engines.md"]) expect(layout).toContain(text);
  });

  test("what `npm test` runs: the type check, the lint, and jest.config.js's projects but integration, with what each needs", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const projects = (require(join(root, "jest.config.js")) as { projects: { displayName: string }[] }).projects.map((p) => p.displayName);
    expect(projects).toContain("integration");
    const steps = quickStart.replace(/\s+/g, " ");
    const listed = /jest, the projects ((?:`[\w-]+`(?:, | and )?)+)/.exec(steps);
    expect(listed).not.toBeNull();
    expect([...listed![1].matchAll(/`([\w-]+)`/g)].map((m) => m[1]).sort()).toEqual(projects.filter((p) => p !== "integration").sort());
    for (const text of [
      "`npm run typecheck`",
      "`npm run lint`",
      "PGlite",
      "`TEST_DATABASE_URL`",
      "`terraform` 1.10 or newer",
      "`SKIP_TERRAFORM_TESTS=1`",
      'moto\'s SQS (`pipx install "moto[server]"`)',
      "`SKIP_EMULATOR_TESTS=1`",
    ])
      expect(steps).toContain(text);
    expect(steps).not.toMatch(/against PostgreSQL(?! server)/);
  });
});

describe("the docs describe the project as it is", () => {
  test("no commit hashes and no history (upgrade notes name versions)", () => {
    // A hash: 7 to 40 hex digits with a digit and a letter, not a sha256 digest, an account id or an example's.
    const hashes = occurrences(/(?<![\w:/-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}(?![\w…-])/g).map(({ page, match }) => `${page}: ${match[0]}`);
    expect(hashes).toEqual([]);
    const history = occurrences(/\b(Before this|used to|as before|until now|previously|formerly|no longer)\b/gi).filter(
      // An upgrade note says what changes from the earlier version: that is its subject.
      ({ page }) => page !== "docs/upgrading.md",
    );
    expect(history.map(({ page, match }) => `${page}: ${match[0]}`)).toEqual([]);
  });

  test("the deploy page gives no region: each command reads the environment's", () => {
    const deploy = pages.get("docs/deploy-and-release.md")!;
    expect(deploy).not.toMatch(/--region [a-z]{2}-[a-z]+-\d/);
  });

  test("the deploy page says who may deploy: an administrator first (an AWS managed policy named), then the CI deploy role", () => {
    const deploy = pages.get("docs/deploy-and-release.md")!.replace(/\s+/g, " ");
    for (const text of ["## Who may deploy", "`AdministratorAccess`", "`lib/ci/ci-access.ts`", "`CiRoleArn`", "boundary", "OIDC provider"])
      expect(deploy).toContain(text);
  });
});
