/**
 * Jest projects, one per group of folders under __tests__/ (which mirror lib/):
 *   unit        lib/: the constructs, calculators and settings kit, area by area (core, network, compute, ...)
 *   stacks      the environments and variants as synthesized: settings, snapshots, stack properties
 *   iam         least privilege, evaluated as IAM evaluates it
 *   tooling     what surrounds the stacks: scripts, docs, workflows, engines, import rules, the emulator's mode
 *   terraform   terraform validate + plan of every environment and variant, offline
 *   app         the REST API and its workers, on the embedded database and PostgreSQL
 *   integration the emulator lifecycle, the release and the game day's broken run (npm run test:integration)
 * `npm test` runs every project but integration.
 */
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

module.exports = {
  maxWorkers: 2,
  testSequencer: "<rootDir>/__tests__/support/sequencer.cjs",
  reporters: ["default", "<rootDir>/scripts/summary-reporter.cjs"],
  projects: [
    {
      ...common,
      ...synthCache,
      displayName: "unit",
      testMatch: folders("core", "settings", "calculators", "network", "registry", "compute", "edge", "database", "observability", "workers", "ci"),
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
