// The engine: the CDK library that turns the stacks into Terraform JSON, and the CLI that drives it.
// Two are supported side by side (docs/engines.md), chosen by one environment variable, CDK_ENGINE:
//
//   cdktf (default)  CDK for Terraform 0.21.0 and cdktf-cli 0.21.0, HashiCorp's last release, as pinned.
//   cdktn            CDK Terrain 0.24.0 and cdktn-cli 0.24.0, its community fork. Every `cdktf` import,
//                    the project's and the provider bindings' (@cdktf/provider-aws), loads cdktn.
//
// Everything that synthesizes asks this module: the synth app (scripts/synth.cjs, an esbuild alias and
// a bundle of its own per engine), node scripts started with `--require ./scripts/engine-hook.cjs` (the
// offline plan, the emulator lifecycle) and the CLI launcher below:
//
//   node scripts/engine.cjs                  # which engine, library and CLI this environment selects
//   node scripts/engine.cjs diff dev         # the engine's CLI (`cdktf` or `cdktn`) with these arguments
//   CDK_ENGINE=cdktn npm run cdk -- deploy dev
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");

/**
 * The supported engines. `library` is the package the stacks' `cdktf` imports load; `build` names the
 * synth app's bundle and manifest in `.build/`, one pair per engine so a switch never runs the other's bundle.
 */
const ENGINES = {
  cdktf: { name: "cdktf", library: "cdktf", cliPackage: "cdktf-cli", build: "main" },
  cdktn: { name: "cdktn", library: "cdktn", cliPackage: "cdktn-cli", build: "main.cdktn" },
};
const DEFAULT_ENGINE = "cdktf";

/** A bad CDK_ENGINE, reported like every other bad setting: one line naming it (see scripts/synth.cjs). */
class EngineSettingError extends Error {
  constructor(value, problem, allowed) {
    super(`Invalid setting CDK_ENGINE = ${JSON.stringify(value)}: ${problem}. Allowed: ${allowed}.`);
    this.name = "SettingError";
  }
}

/** The engine CDK_ENGINE selects; unset or empty is the default, cdktf. */
function engineFromEnv(env = process.env) {
  const value = env.CDK_ENGINE ?? "";
  if (value === "") return ENGINES[DEFAULT_ENGINE];
  const engine = Object.hasOwn(ENGINES, value) ? ENGINES[value] : undefined;
  if (!engine) throw new EngineSettingError(value, "not an engine", `${Object.keys(ENGINES).join(" or ")} (default ${DEFAULT_ENGINE})`);
  return engine;
}

/**
 * The package the engine's library resolves to from the project: `{ name, version }` of its package.json.
 * The name is the real one, so `cdktf` installed as an npm alias of cdktn (`"cdktf": "npm:cdktn@0.24.0"`,
 * the permanent switch in docs/engines.md) reports cdktn.
 */
function libraryOf(engine) {
  let file;
  try {
    file = require.resolve(`${engine.library}/package.json`, { paths: [root] });
  } catch {
    const pinned = engine.name === "cdktn" ? "cdktn@0.24.0 cdktn-cli@0.24.0" : "cdktf@0.21.0 cdktf-cli@0.21.0";
    throw new EngineSettingError(engine.name, `${engine.library} is not installed`, `an installed engine, or \`npm install -D -E ${pinned}\` first`);
  }
  const { name, version } = JSON.parse(fs.readFileSync(file, "utf8"));
  return { name, version };
}

/**
 * The engines installed here, library and CLI: both in this starter, cdktf alone in a lean fork
 * (docs/forking.md drops cdktn), so the proofs that run every engine run those there are.
 */
function installedEngines() {
  const resolves = (request) => {
    try {
      require.resolve(request, { paths: [root] });
      return true;
    } catch {
      return false;
    }
  };
  return Object.values(ENGINES).filter((engine) => resolves(`${engine.library}/package.json`) && resolves(`${engine.cliPackage}/package.json`));
}

/** The CLI that matches the library: `cdktf` for cdktf, `cdktn` for cdktn (also when `cdktf` is its alias). */
function cliOf(engine) {
  const library = libraryOf(engine).name;
  const cli = Object.hasOwn(ENGINES, library) ? library : engine.name;
  return { name: cli, bin: path.join(root, "node_modules", ".bin", process.platform === "win32" ? `${cli}.cmd` : cli), package: ENGINES[cli].cliPackage };
}

/**
 * Why this Node.js cannot run the engine's CLI, or undefined when it can: cdktn-cli 0.24 needs Node.js
 * 22.19 or newer (its bundle calls Node 22 APIs), while the synth app, the offline plan and the emulator
 * lifecycle run either engine on Node.js 20. Reads the CLI package's `engines.node` (`>=X.Y.Z`).
 */
function cliNodeProblem(cli, nodeVersion = process.versions.node) {
  let wanted;
  try {
    const file = require.resolve(`${cli.package}/package.json`, { paths: [root] });
    wanted = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(JSON.parse(fs.readFileSync(file, "utf8")).engines?.node ?? "");
  } catch {
    return undefined; // not installed: the caller says so
  }
  if (!wanted) return undefined;
  const have = nodeVersion.split(".").map(Number);
  const need = wanted.slice(1).map(Number);
  const index = need.findIndex((n, i) => have[i] !== n);
  if (index === -1 || have[index] > need[index]) return undefined;
  return `${cli.package} needs Node.js ${need.join(".")} or newer, and this is ${nodeVersion}: run the CLI with a newer node on PATH (the synth app, \`npm run plan:offline\` and \`npm run lifecycle\` run on this one)`;
}

/**
 * The CDK CLI (`cdktf` or `cdktn`) this process runs under, found among its ancestors' command lines, or
 * undefined when none is (a plain `npm run synth`, a test) or the system does not say (no /proc).
 */
function invokingCli(pid = process.ppid) {
  for (let depth = 0; pid > 1 && depth < 8; depth++) {
    let args;
    let stat;
    try {
      args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return undefined;
    }
    // `node <...>/.bin/cdktn synth`, or `node <...>/cdktn-cli/bin/cdktn synth`.
    const cli = args
      .slice(0, 2)
      .map((arg) => path.basename(arg))
      .find((name) => Object.hasOwn(ENGINES, name));
    if (cli) return cli;
    pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]); // the parent's pid, after the name and state
  }
  return undefined;
}

/** Why the synth app must not run: the `cdktn` CLI driving the cdktf engine's app, or the reverse. */
function cliMismatch(engine, cli = invokingCli()) {
  if (!cli) return undefined;
  const expected = cliOf(engine).name;
  if (cli === expected) return undefined;
  return new EngineSettingError(
    process.env.CDK_ENGINE ?? "",
    `the \`${cli}\` CLI runs this app, and the ${engine.name} engine's CLI is \`${expected}\``,
    "CDK_ENGINE=cdktn with `cdktn`, CDK_ENGINE unset with `cdktf`; `npm run cdk -- <command>` runs the CLI of the engine CDK_ENGINE names",
  );
}

/** The synth app's bundle and its inputs' manifest for this engine, absolute. */
function buildFiles(engine) {
  return {
    bundle: path.join(root, ".build", `${engine.build}.js`),
    manifest: path.join(root, ".build", `${engine.build}.inputs.json`),
  };
}

/** esbuild's `alias` for the engine: cdktn stands in for `cdktf` and every `cdktf/...` import. */
function bundleAlias(engine) {
  return engine.library === "cdktf" ? {} : { cdktf: engine.library };
}

/** The module request a `require` of `request` loads on this engine (what engine-hook.cjs applies). */
function aliasRequest(engine, request) {
  if (engine.library === "cdktf") return request;
  return request === "cdktf" || request.startsWith("cdktf/") ? engine.library + request.slice("cdktf".length) : request;
}

/** One line: the engine, the library it loads and the CLI that drives it. */
function describeEngine(engine) {
  const library = libraryOf(engine);
  const cli = cliOf(engine);
  const alias = library.name === engine.library ? "" : ` (installed as ${engine.library})`;
  return `engine ${engine.name}: library ${library.name} ${library.version}${alias}, CLI \`${cli.name}\` (${cli.package})`;
}

module.exports = {
  ENGINES,
  installedEngines,
  DEFAULT_ENGINE,
  engineFromEnv,
  libraryOf,
  cliOf,
  cliNodeProblem,
  invokingCli,
  cliMismatch,
  buildFiles,
  bundleAlias,
  aliasRequest,
  describeEngine,
};

// `node scripts/engine.cjs [cli arguments]`: the engine's CLI, with CDK_ENGINE set for the synth app it runs.
if (require.main === module) {
  const { spawn } = require("node:child_process");
  const { defineCommand, killOnInterrupt } = require("../cli/cli.cjs");
  // `npm run deploy` and `npm run destroy` are this with the CLI's command first; `npm run cdk`, without.
  const [first, ...after] = process.argv.slice(2);
  const scriptName = ["deploy", "destroy", "cdk"].includes(process.env.npm_lifecycle_event)
    ? process.env.npm_lifecycle_event
    : first === "deploy" || first === "destroy"
      ? first
      : "cdk";
  const subcommand = scriptName === "cdk" ? undefined : first;
  const needs = [
    "terraform 1.10 or newer on PATH, and AWS credentials for the environment's account (or AWS_EMULATOR_URL: docs/emulator.md)",
    "CDK_ENGINE picks the engine: cdktf (default) or cdktn (docs/engines.md)",
  ];
  const { rest } = defineCommand(
    scriptName === "cdk"
      ? {
          name: "cdk",
          summary: "The engine's CLI (cdktf, or cdktn with CDK_ENGINE=cdktn) with these arguments; without any, which engine this environment selects.",
          args: "[<command> [stack…] [options…]]",
          argsHelp: ["command, stacks and options: the CLI's own (`npm run cdk -- help` prints its help)"],
          passthrough: true,
          needs,
          examples: ["npm run cdk", "npm run cdk -- diff dev", "CDK_ENGINE=cdktn npm run cdk -- deploy dev"],
        }
      : {
          name: scriptName,
          summary: `${scriptName === "deploy" ? "Deploys" : "Destroys"} the named environments with the engine's CLI (\`cdktf ${scriptName}\`).`,
          args: "<stack…> [cli options…]",
          argsHelp: [`stacks: environments of environments/environments.ts; the CLI's options (e.g. --auto-approve) go after them, or after \`--\``],
          passthrough: true,
          needs,
          examples: [`npm run ${scriptName} -- dev`, `npm run ${scriptName} -- dev --auto-approve`],
        },
  ).start(scriptName === "cdk" ? process.argv.slice(2) : after);
  let engine;
  let cli;
  try {
    engine = engineFromEnv();
    cli = cliOf(engine);
    if (!fs.existsSync(cli.bin))
      throw new EngineSettingError(engine.name, `its CLI \`${cli.name}\` is not installed`, `\`npm install -D -E ${cli.package}\` first`);
  } catch (error) {
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
  const args = subcommand ? [subcommand, ...rest] : rest;
  const tooOld = cliNodeProblem(cli);
  if (args.length === 0) {
    console.log(`${describeEngine(engine)}; synth bundle ${path.relative(root, buildFiles(engine).bundle)}`);
    if (tooOld) console.log(`note: ${tooOld}`);
    console.log(`Run its CLI with \`node scripts/engine.cjs <command> [stack]\` (\`npm run cdk -- <command> [stack]\`), e.g. \`diff dev\`.`);
    process.exit(0);
  }
  if (tooOld) {
    console.error(`error: ${tooOld}`);
    process.exit(1);
  }
  // The CLI runs cdktf.json's app (scripts/synth.cjs), which must build with the same engine.
  const child = spawn(cli.bin, args, { stdio: "inherit", env: { ...process.env, CDK_ENGINE: engine.name } });
  // Ctrl-C reaches the CLI itself (same process group), which decides how to stop and how long a
  // deploy takes to stop safely: this waits for it. A SIGTERM of ours alone is handed on.
  killOnInterrupt(child, { signal: "SIGTERM", graceMs: 10 * 60_000 });
  child.once("error", (error) => {
    console.error(`error: ${cli.name}: ${error.message}`);
    process.exit(1);
  });
  child.once("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
