// `node scripts/npm-scripts.cjs <script> [arguments]`: the npm scripts that are a chain of commands
// (`test`, `lint`, ...) or a third-party tool (`test:unit` is jest), and the synth app's (scripts/synth.cjs
// runs only as a program of its own, so `npm run synth` starts it as one: about 50 ms more than before).
//
// npm appends a script's arguments to the end of its command line, so in `a && b` only `b` would see
// `--help`, after `a` had run. Here each script knows its steps and answers `--help` (and refuses an
// unknown option) before any of them starts; otherwise it runs as its chain did: each step in turn, the
// first that fails ends the run with its exit code, the script's arguments go to the last step. A step
// that is another script of this file runs here; any other `npm run` step runs through npm.
"use strict";
const { spawn } = require("node:child_process");
const { readFileSync } = require("node:fs");
const { constants } = require("node:os");
const path = require("node:path");
const { defineCommand, killOnInterrupt } = require("../cli/cli.cjs");

const root = path.join(__dirname, "..");
const TERRAFORM = "terraform 1.10 or newer on PATH";
const MOTO = 'the emulator: moto with its server extras (`pipx install "moto[server]"`, EMULATOR_PYTHON names its Python)';
const SKIPS = "SKIP_TERRAFORM_TESTS=1 and SKIP_EMULATOR_TESTS=1 skip the tests that need terraform or moto";
const GAMEDAY = "HAProxy and PostgreSQL's server programs on PATH (docs/gameday.md)";
const JEST_ARGS = {
  args: "[-- jest arguments…]",
  argsHelp: [
    "jest arguments: after `--`, handed to jest after its --selectProjects list; start them with an option",
    "(`-- -i __tests__/compute`), or a path would be read as one more project name",
  ],
  passthrough: true,
};

/** Each script: its command line's declaration and its steps, the chain package.json held before. */
const SCRIPTS = {
  synth: {
    summary: "Synthesizes every environment into cdktf.out/stacks/<env>/cdk.tf.json (scripts/synth.cjs, the cdktf app).",
    examples: ["npm run synth", "CDK_ENGINE=cdktn npm run synth"],
    steps: ["node scripts/synth.cjs"],
  },
  typecheck: {
    summary: "Type checks the stacks, scripts and tests, then the app (tsc, no output).",
    steps: ["tsc --noEmit", "tsc --noEmit -p app"],
  },
  test: {
    summary: "The type check, the lint, and every jest project but integration (unit, stacks, iam, tooling, terraform, app).",
    ...JEST_ARGS,
    needs: [TERRAFORM, MOTO, SKIPS],
    steps: ["npm run typecheck", "npm run lint", "jest --selectProjects unit stacks iam tooling terraform app"],
  },
  "test:unit": {
    summary: "The unit project: each construct and calculator (jest).",
    ...JEST_ARGS,
    steps: ["jest --selectProjects unit"],
  },
  "test:integration": {
    summary: "The integration proofs: the emulator's jest project, the fork proof, then the game day.",
    args: "[game day arguments…]",
    argsHelp: ["game day arguments: handed to the last step, npm run gameday (see npm run gameday -- --help)"],
    passthrough: true,
    needs: [TERRAFORM, MOTO, GAMEDAY],
    steps: ["npm run test:emulator", "npm run fork-proof", "npm run gameday"],
  },
  "test:terraform": {
    summary: "The terraform project: init and plan, offline, of every environment and variant (jest).",
    ...JEST_ARGS,
    needs: [TERRAFORM, "SKIP_TERRAFORM_TESTS=1 skips it"],
    steps: ["jest --selectProjects terraform"],
  },
  bench: {
    summary: "Median time and peak memory of synth, the jest projects and the proofs, then the REST API's throughput.",
    needs: [
      "BENCH_QUICK=1 leaves out npm test and the integration proofs (about 20 minutes); without it, what they need",
      "BENCH_ONLY=<text> runs only the measures whose name has it",
    ],
    steps: ["node --import tsx scripts/bench.ts", "node --import tsx scripts/bench-api.ts"],
  },
  "test:emulator": {
    summary: "The integration project: every stack's emulator lifecycle, the release, the game day's broken run (jest).",
    ...JEST_ARGS,
    needs: [TERRAFORM, MOTO, GAMEDAY],
    steps: ["jest --selectProjects integration"],
  },
  lint: {
    summary: "ESLint, Prettier's check and the import rules (dependency-cruiser).",
    steps: ["eslint .", "prettier --check .", "npm run --silent lint:imports"],
  },
  "lint:imports": {
    summary: "Checks which way imports run (.dependency-cruiser.cjs).",
    args: "[-- depcruise options…]",
    passthrough: true,
    steps: ["depcruise main.ts lib stacks environments emulator scripts cli __tests__ app --config .dependency-cruiser.cjs"],
  },
  format: {
    summary: "Formats every file with Prettier, then applies ESLint's fixes.",
    steps: ["prettier --write .", "eslint --fix ."],
  },
};

/** A script's steps as the one command line package.json held, `a && b`: what the tests read. */
function commandLine(name) {
  return SCRIPTS[name].steps.join(" && ");
}

function commandOf(name) {
  const { steps: _steps, ...spec } = SCRIPTS[name];
  return defineCommand({ name, ...spec });
}

const NPM_RUN = /^npm run (?:--silent )?(\S+)$/;

/** Runs one step; resolves with its exit code (128 + the signal's number when a signal ended it). */
function runStep(step, args) {
  const [command, ...stepArgs] = step.split(" ");
  const child = spawn(command, [...stepArgs, ...args], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, PATH: [path.join(root, "node_modules", ".bin"), process.env.PATH].join(path.delimiter) },
  });
  // A game day or a fork proof stops its servers and temp folders first: give it the time.
  killOnInterrupt(child, { graceMs: 30_000 });
  return new Promise((done) => {
    child.once("error", (error) => {
      process.stderr.write(`error: ${step}: ${error.message}\n`);
      done(127);
    });
    child.once("exit", (code, signal) => done(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

/** The scripts package.json declares: a fork may have dropped some (docs/forking.md, a lean fork). */
function declaredScripts() {
  return JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).scripts ?? {};
}

/**
 * Runs a script's steps in turn; resolves with the first failing step's exit code, or 0. A step that runs
 * a script package.json no longer declares (the lean fork drops the emulator's and the game day's) is
 * skipped, saying so: the chain runs what the fork still has.
 */
async function runScript(name, args) {
  const steps = SCRIPTS[name].steps;
  const declared = declaredScripts();
  for (let i = 0; i < steps.length; i++) {
    const last = i === steps.length - 1;
    const nested = NPM_RUN.exec(steps[i]);
    if (nested && !Object.hasOwn(declared, nested[1])) {
      process.stderr.write(`skipped: ${steps[i]} (package.json has no script ${JSON.stringify(nested[1])}: this fork dropped it)\n`);
      continue;
    }
    const code = nested && SCRIPTS[nested[1]] ? await runScript(nested[1], last ? args : []) : await runStep(steps[i], last ? args : []);
    if (code !== 0) return code;
  }
  return 0;
}

if (require.main === module) {
  const [name, ...argv] = process.argv.slice(2);
  if (!Object.hasOwn(SCRIPTS, name ?? "")) {
    process.stderr.write(`error: no script ${JSON.stringify(name)} here; there are ${Object.keys(SCRIPTS).join(", ")}\n`);
    process.exit(2);
  }
  const { positionals, rest } = commandOf(name).start(argv);
  runScript(name, [...positionals, ...rest]).then((code) => process.exit(code));
}

module.exports = { SCRIPTS, commandLine, commandOf };
