/**
 * Jest projects, one per group of folders under __tests__/, each picked by a folder glob:
 *   unit        every folder that mirrors a folder of lib/ (core, network, compute, ...): a new lib/cache/
 *               is tested in __tests__/cache/ with no change here
 *   stacks      the environments and variants as synthesized: settings, snapshots, stack properties
 *   iam         least privilege, evaluated as IAM evaluates it
 *   tooling     what surrounds the stacks: scripts, docs, workflows, engines, import rules, the emulator's mode
 *   terraform   terraform validate + plan of every environment and variant, offline
 *   app         the REST API and its workers, on the embedded database and PostgreSQL
 *   integration the emulator lifecycle, the release and the game day's broken run (npm run test:integration)
 * `npm test` runs every project but integration. A folder of __tests__/ whose tests run in no project, or in
 * two, fails __tests__/tooling/jest-projects.test.ts, naming it.
 */
const { readdirSync } = require("node:fs");
const path = require("node:path");

const transform = { "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" } }] };
const common = {
  testEnvironment: "node",
  transform,
  moduleFileExtensions: ["ts", "js", "json"],
  // See __tests__/support/no-stack-trace.js: roughly halves the time of each synth in tests.
  moduleNameMapper: { "^\\.(/tokens)?(/private)?/stack-trace$": "<rootDir>/__tests__/support/no-stack-trace.js" },
  setupFilesAfterEnv: ["<rootDir>/__tests__/support/quiet-console.cjs"],
};
// A stack synthesized once per run, not once per test file that asks for it.
const synthCache = {
  globalSetup: "<rootDir>/__tests__/support/synth-cache-setup.cjs",
  globalTeardown: "<rootDir>/__tests__/support/synth-cache-teardown.cjs",
};
const folders = (...names) => names.map((name) => `<rootDir>/__tests__/${name}/**/*.test.ts`);
/** lib/'s areas, read from the folder: __tests__/ mirrors them one for one. */
const LIB_AREAS = readdirSync(path.join(__dirname, "lib"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

module.exports = {
  maxWorkers: 2,
  testSequencer: "<rootDir>/__tests__/support/sequencer.cjs",
  reporters: ["default", "<rootDir>/scripts/summary-reporter.cjs"],
  projects: [
    {
      ...common,
      ...synthCache,
      displayName: "unit",
      testMatch: folders(...LIB_AREAS),
    },
    { ...common, ...synthCache, displayName: "stacks", testMatch: folders("environments", "stacks") },
    { ...common, ...synthCache, displayName: "iam", testMatch: folders("iam") },
    { ...common, ...synthCache, displayName: "tooling", testMatch: folders("tooling", "docs", "gameday", "emulator") },
    { ...common, displayName: "terraform", testMatch: folders("terraform") },
    // Not held to the quiet rule: `npm run test:integration` reports its figures (the lifecycle's time) on purpose.
    { ...common, setupFilesAfterEnv: [], displayName: "integration", testMatch: folders("integration") },
    {
      ...common,
      displayName: "app",
      testMatch: ["<rootDir>/app/__tests__/**/*.test.ts"],
      // The API bundled once, as the image runs it.
      globalSetup: "<rootDir>/app/__tests__/support/build.cjs",
    },
  ],
};
