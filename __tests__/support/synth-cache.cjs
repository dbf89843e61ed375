// globalSetup and globalTeardown of the projects that synthesize (unit, stacks, iam, tooling), shared:
// the folder where helpers.synth keeps each synthesized stack by its settings, so test files (in every
// worker, and in the next run) synthesize a stack once between them instead of once each.
//
// The folder is named by a hash of everything a synthesized stack can depend on: every file of the code
// that builds it (lib/, stacks/, environments/, emulator/; the import rules keep them from importing
// app/ or scripts/), the locked library versions, the test helpers with the example variants they build,
// and the switches synth reads.
// Change any of them and the next run synthesizes afresh, as jest's own cache does with transforms;
// change nothing and a run reads the stacks the last one wrote.
// `SYNTH_CACHE=run` keeps them for one run only (a new folder, removed at the end), as a fresh clone has.
const { createHash } = require("node:crypto");
const { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join, relative } = require("node:path");

const ROOT = join(__dirname, "..", "..");
const CODE = ["lib", "stacks", "environments", "emulator"];
const FILES = [
  "main.ts",
  "package-lock.json",
  "__tests__/support/helpers.ts",
  "__tests__/support/variants.ts",
  "__tests__/support/no-stack-trace.js",
  "jest.config.js",
];
const SWITCHES = ["SYNTH_HCL_OUTPUT", "CDK_ENGINE"];
const PERSISTENT = join(ROOT, "node_modules", ".cache", "synth-cache");

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name === "baselines" ? [] : filesUnder(path);
    return /\.(ts|cts|mts|js|cjs|mjs|json)$/.test(entry.name) ? [path] : [];
  });
}

/** A hash of every input of a synthesized stack under `root`, by path and content, and of the switches in `env`. */
function codeHash(root = ROOT, env = process.env) {
  const hash = createHash("sha256");
  const files = [...CODE.flatMap((dir) => (existsSync(join(root, dir)) ? filesUnder(join(root, dir)) : [])), ...FILES.map((file) => join(root, file))]
    .filter((file) => existsSync(file))
    .sort();
  for (const file of files) hash.update(relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  for (const name of SWITCHES) hash.update(`${name}=${env[name] ?? ""}\0`);
  return hash.digest("hex").slice(0, 24);
}

module.exports = {
  codeHash,
  setup() {
    // Every project of one run shares the folder: the first setup picks it.
    if (process.env.SYNTH_CACHE_DIR) return;
    if (process.env.SYNTH_CACHE === "run") {
      process.env.SYNTH_CACHE_DIR = mkdtempSync(join(tmpdir(), "synth-cache-"));
      process.env.SYNTH_CACHE_REMOVE = "1";
      return;
    }
    const current = codeHash();
    mkdirSync(PERSISTENT, { recursive: true });
    // The stacks of code that is gone, once no run has used them for an hour (another checkout sharing
    // this node_modules, as the fork proof's forks do, may be running with its own).
    for (const name of readdirSync(PERSISTENT))
      if (name !== current && Date.now() - statSync(join(PERSISTENT, name)).mtimeMs > 60 * 60 * 1000)
        rmSync(join(PERSISTENT, name), { recursive: true, force: true });
    process.env.SYNTH_CACHE_DIR = join(PERSISTENT, current);
    mkdirSync(process.env.SYNTH_CACHE_DIR, { recursive: true });
    // Used now, whether or not this run writes to it: see the pruning above.
    utimesSync(process.env.SYNTH_CACHE_DIR, new Date(), new Date());
  },
  teardown() {
    if (process.env.SYNTH_CACHE_REMOVE && process.env.SYNTH_CACHE_DIR) rmSync(process.env.SYNTH_CACHE_DIR, { recursive: true, force: true });
    delete process.env.SYNTH_CACHE_DIR;
    delete process.env.SYNTH_CACHE_REMOVE;
  },
};
